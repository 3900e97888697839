"""The command as an operator runs it: the demo setup, JSON, --only, --fail-under, exit codes."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[3]


def check_deployment(*args) -> str:
    out = io.StringIO()
    call_command("check_deployment", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db, settings, monkeypatch, make_user):
    """`make run`: DEBUG=1, SQLite, no variables set, seed_demo's users and shop settings.

    Only the users and shop settings: seeding the whole catalogue here (then rolling it back)
    changes PostgreSQL's statistics on pos_product enough to flip the plan that
    tests/pos/test_catalogue.py's trigram-index test asserts."""
    from pos import demo as demo_data
    from pos.management.commands.seed_demo import DEMO_USERS
    from pos.models import ShopSettings

    for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "REDIS_URL", "SENTRY_DSN"):
        monkeypatch.delenv(name, raising=False)
    settings.DEBUG = True
    settings.SECRET_KEY = settings.INSECURE_DEV_SECRET_KEY
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT"):
        setattr(settings, name, False)
    settings.SECURE_HSTS_SECONDS = 0
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.LOG_FORMAT = "console"
    for username, role, first_name, last_name, password, _pin in DEMO_USERS:
        make_user(username, role, password=password, first_name=first_name, last_name=last_name)
    shop = ShopSettings.load()
    for field, value in demo_data.SHOP.items():
        setattr(shop, field, value)
    shop.save()


def test_the_demo_setup_is_explained_as_not_ready(demo):
    out = check_deployment("--only", "environment", "--only", "security", "--only", "application")
    assert "Score: " in out and "NOT READY for production" in out
    assert "[FAIL] DEBUG off [critical]: DEBUG is on" in out
    assert "[FAIL] Secret key strong [critical]: SECRET_KEY is the development default" in out
    assert "not set: SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS" in out
    assert "demo password still set for: admin" in out
    assert "fix: Change these passwords now" in out
    assert "[WARN] Email sent for real [medium]: emails are printed to the log, not sent" in out
    # Within a category the failures come first.
    environment = out.split("Environment")[1].split("\n\n")[0]
    assert environment.index("[FAIL]") < environment.index("[WARN]") < environment.index("[PASS]")


def test_the_demo_database_is_named(demo):
    from django.db import connection

    out = check_deployment("--only", "database")
    if connection.vendor == "sqlite":
        assert "[WARN] Not SQLite in production [medium]: SQLite: one writer at a time" in out
    else:
        assert "[PASS] Not SQLite in production [medium]: postgresql" in out


def test_json_output_parses(demo):
    data = json.loads(check_deployment("--format", "json", "--only", "environment"))
    assert data["verdict"] == "not ready"
    assert set(data["failed_critical"]) >= {"env.debug", "env.secret_key", "env.required"}
    assert {c["category"] for c in data["checks"]} == {"environment"}
    assert data["summary"]["fail"] == sum(1 for c in data["checks"] if c["status"] == "fail")
    first = data["checks"][0]
    assert set(first) == {
        "id",
        "category",
        "title",
        "severity",
        "status",
        "detail",
        "fix",
        "duration_ms",
    }
    assert first["status"] == "fail"


def test_only_filters_categories(demo):
    data = json.loads(check_deployment("--format", "json", "--only", "cache"))
    assert {c["id"].split(".")[0] for c in data["checks"]} == {"cache"}
    assert len(data["checks"]) == 7


def test_every_category_runs_by_default_and_there_are_at_least_25_checks(demo):
    data = json.loads(check_deployment("--format", "json"))
    categories = {c["category"] for c in data["checks"]}
    assert categories == {"environment", "security", "database", "cache", "application"}
    from monitoring.deployment.runner import all_checks

    assert len(all_checks()) >= 25


def test_fail_under_raises_below_the_threshold(demo):
    with pytest.raises(CommandError, match=r"score \d+ is below --fail-under 90"):
        check_deployment("--only", "environment", "--fail-under", "90")


def test_fail_under_passes_at_or_above_the_threshold(demo):
    data = json.loads(check_deployment("--format", "json", "--only", "environment"))
    check_deployment("--only", "environment", "--fail-under", str(data["score"]))


def test_bad_arguments_are_refused():
    with pytest.raises(CommandError, match="--only live needs --url"):
        check_deployment("--only", "live")
    with pytest.raises(CommandError, match="--url must start with https:// or http://"):
        check_deployment("--url", "pos.myshop.rw")
    with pytest.raises(CommandError, match="invalid choice"):
        check_deployment("--only", "network")


def run_command(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check_deployment", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_exit_status_for_ci(tmp_path):
    import os

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vevurn.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ENV_FILE": str(tmp_path / "none.env"),
    }
    below = run_command("--only", "environment", "--fail-under", "95", env=env)
    assert below.returncode == 1, below.stderr
    assert "CommandError: score" in below.stderr
    assert "NOT READY" in below.stdout
    no_threshold = run_command("--only", "environment", env=env)
    assert no_threshold.returncode == 0, no_threshold.stderr
