import pytest

from monitoring.deployment.base import Context
from tests.monitoring.deployment.conftest import STRONG_KEY, run


def test_required_variables_pass_when_set(production_env):
    assert run("env.required").status == "pass"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"])
def test_a_missing_required_variable_fails_and_is_named(production_env, monkeypatch, missing):
    monkeypatch.delenv(missing)
    result = run("env.required")
    assert result.status == "fail"
    assert result.detail == f"not set: {missing}"
    assert missing in result.fix


def test_a_blank_required_variable_counts_as_missing(production_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "  ")
    assert run("env.required").status == "fail"


def test_optional_variables_pass_when_set_and_warn_naming_the_missing(production_env, monkeypatch):
    assert run("env.optional").status == "pass"
    monkeypatch.delenv("SENTRY_DSN")
    monkeypatch.delenv("REDIS_URL")
    result = run("env.optional")
    assert result.status == "warn"
    assert "REDIS_URL" in result.detail and "SENTRY_DSN" in result.detail
    assert "EMAIL_HOST" not in result.detail


def test_debug(settings):
    settings.DEBUG = False
    assert run("env.debug").status == "pass"
    settings.DEBUG = True
    result = run("env.debug")
    assert result.status == "fail"
    assert result.fix == "Set DEBUG=0 (or remove DEBUG) in production."


def test_a_long_random_secret_key_passes(settings):
    settings.SECRET_KEY = STRONG_KEY
    assert run("env.secret_key").status == "pass"


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        (
            "django-insecure-vevurn-development-only-do-not-use-in-production",
            "SECRET_KEY is the development default",
        ),
        ("django-insecure-" + "x7" * 30, "SECRET_KEY is the development default"),
        ("s3cr3t-but-short", "SECRET_KEY is too short or repetitive (16 characters)"),
        ("abab" * 20, "SECRET_KEY is too short or repetitive (80 characters)"),
        ("correcthorsebatterystaplecorrecthorsebatterystaplecorrect", "dictionary words"),
    ],
)
def test_weak_secret_keys_fail(settings, key, detail):
    settings.SECRET_KEY = key
    result = run("env.secret_key")
    assert result.status == "fail"
    assert detail in result.detail
    assert "secrets.token_urlsafe(50)" in result.fix


def test_a_long_key_of_few_characters_warns(settings):
    settings.SECRET_KEY = "ab12c" * 12  # 60 characters, only 5 distinct ones
    assert run("env.secret_key").status == "warn"


def test_time_zone(settings):
    settings.TIME_ZONE = "Africa/Kigali"
    assert run("env.time_zone").detail == "TIME_ZONE Africa/Kigali"
    settings.USE_TZ = False
    assert run("env.time_zone").status == "warn"


def test_an_unknown_time_zone_fails(monkeypatch):
    # settings.TIME_ZONE cannot even be set to an unknown zone (Django refuses), so the check
    # reads one that came through another way.
    from django.conf import settings as django_settings

    monkeypatch.setattr(django_settings, "TIME_ZONE", "Mars/Olympus_Mons", raising=False)
    result = run("env.time_zone", Context())
    assert result.status == "fail"
    assert "'Mars/Olympus_Mons' is not a known time zone" in result.detail


def test_allowed_hosts(settings):
    settings.ALLOWED_HOSTS = ["pos.myshop.rw"]
    assert run("env.allowed_hosts").status == "pass"
    settings.ALLOWED_HOSTS = []
    assert run("env.allowed_hosts").status == "fail"
    settings.ALLOWED_HOSTS = ["*"]
    assert "'*'" in run("env.allowed_hosts").detail
