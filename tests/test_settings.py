"""Settings are read from the environment; each case imports them in a fresh process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "pos.example.rw",
    "CSRF_TRUSTED_ORIGINS": "https://pos.example.rw",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # A clean environment: only what the case sets, so the CI's own variables do not leak in.
    base = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(ROOT)),
        "ENV_FILE": "/dev/null",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def load_settings(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "vevurn.settings", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_database_url_means_sqlite_beside_manage_py():
    databases = load_settings({"DEBUG": "1"}, "DATABASES")["DATABASES"]
    assert databases["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert databases["default"]["NAME"] == str(ROOT / "db.sqlite3")


def test_postgres_url_gets_pooling_health_checks_and_a_statement_timeout():
    url = "postgres://shop:s3cret@db.internal:5433/vevurn"
    db = load_settings({"DEBUG": "1", "DATABASE_URL": url}, "DATABASES")["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "db.internal",
        5433,
        "vevurn",
        "shop",
    )
    assert db["CONN_MAX_AGE"] == 60
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["OPTIONS"]["options"] == "-c statement_timeout=30000"


def test_redis_url_selects_django_redis_with_short_timeouts():
    caches = load_settings({"DEBUG": "1", "REDIS_URL": "rediss://cache:6380/1"}, "CACHES")["CACHES"]
    assert caches["default"]["BACKEND"] == "monitoring.cache.ResilientRedisCache"
    assert caches["default"]["LOCATION"] == "rediss://cache:6380/1"
    options = caches["default"]["OPTIONS"]
    assert options["SOCKET_TIMEOUT"] <= 1
    assert options["CONNECTION_POOL_KWARGS"]["ssl_cert_reqs"] == "required"
    assert options["CONNECTION_POOL_KWARGS"]["max_connections"] == 50
    assert options["CONNECTION_POOL_KWARGS"]["health_check_interval"] > 0


def test_redis_tls_certificate_checks_are_configurable():
    env = {"DEBUG": "1", "REDIS_URL": "rediss://cache:6380/1", "REDIS_SSL_CERT_REQS": "none"}
    caches = load_settings(env, "CACHES")["CACHES"]
    assert caches["default"]["OPTIONS"]["CONNECTION_POOL_KWARGS"]["ssl_cert_reqs"] == "none"
    result = run(["manage.py", "check"], {**env, "REDIS_SSL_CERT_REQS": "maybe"})
    assert result.returncode != 0
    assert "REDIS_SSL_CERT_REQS must be" in result.stderr


def test_check_is_clean_with_redis_and_ratelimit_accepts_the_backend():
    # Nothing silenced: django-ratelimit knows our backend (monitoring/apps.py).
    result = run(["manage.py", "check"], {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_is_clean_in_production_with_redis():
    env = {**PRODUCTION, "REDIS_URL": "rediss://cache:6380/1"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_no_redis_url_means_an_in_process_cache():
    caches = load_settings({"DEBUG": "1"}, "CACHES")["CACHES"]
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_time_zone_defaults_to_kigali():
    assert load_settings({"DEBUG": "1"}, "TIME_ZONE") == {"TIME_ZONE": "Africa/Kigali"}


@pytest.mark.parametrize(
    "secret", [None, "", "django-insecure-vevurn-development-only-do-not-use-in-production"]
)
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    env = {**PRODUCTION}
    del env["SECRET_KEY"]
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, "one line, no traceback"
    assert "SECRET_KEY is missing or is the development default" in result.stderr


def test_a_bad_boolean_is_a_clear_error():
    result = run(["manage.py", "check"], {"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_production_settings_are_hardened():
    found = load_settings(
        PRODUCTION,
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "ALLOWED_HOSTS",
    )
    assert found["DEBUG"] is False
    assert found["SESSION_COOKIE_SECURE"] and found["CSRF_COOKIE_SECURE"]
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_HSTS_SECONDS"] > 0
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["ALLOWED_HOSTS"] == ["pos.example.rw"]


def test_check_is_clean_in_development():
    result = run(["manage.py", "check"], {"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_has_no_warnings_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_uploaded_files_default_to_the_local_disk_under_media_root(tmp_path):
    default = load_settings({"DEBUG": "1"}, "STORAGES")["STORAGES"]["default"]
    assert default == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(ROOT / "media"), "base_url": "/media/"},
    }

    env = {"DEBUG": "1", "MEDIA_ROOT": str(tmp_path), "MEDIA_URL": "/files/"}
    loaded = load_settings(env, "STORAGES", "MEDIA_ROOT", "MEDIA_URL")
    assert loaded["STORAGES"]["default"]["OPTIONS"] == {
        "location": str(tmp_path),
        "base_url": "/files/",
    }
    assert (loaded["MEDIA_ROOT"], loaded["MEDIA_URL"]) == (str(tmp_path), "/files/")


def test_s3_storage_is_configured_from_the_environment_and_signs_private_urls():
    env = {
        **PRODUCTION,
        "MEDIA_STORAGE": "s3",
        "S3_BUCKET": "kigali-phones",
        # Never contacted: signing a URL happens locally.
        "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "S3_REGION": "auto",
        "S3_ACCESS_KEY_ID": "test-access-key",
        "S3_SECRET_ACCESS_KEY": "test-secret-key",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(json.dumps({'default': settings.STORAGES['default'], "
        "'class': type(s).__name__, 'url': s.url('invoices/INV-1.pdf')}))"
    )
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "vevurn.settings", **env})
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert loaded["default"]["OPTIONS"] == {
        "bucket_name": "kigali-phones",
        "endpoint_url": "http://127.0.0.1:9",
        "region_name": "auto",
        "access_key": "test-access-key",
        "secret_key": "test-secret-key",
        "location": "media",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 3600,
        "file_overwrite": False,
    }
    assert loaded["class"] == "S3Storage"
    assert loaded["url"].startswith("http://127.0.0.1:9/kigali-phones/media/invoices/INV-1.pdf?")
    assert "X-Amz-Expires=3600" in loaded["url"] and "X-Amz-Signature=" in loaded["url"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs S3_BUCKET"),
        ({"MEDIA_STORAGE": "dropbox"}, "MEDIA_STORAGE must be filesystem or s3; got 'dropbox'"),
    ],
)
def test_a_media_storage_mistake_is_a_clear_error(env, message):
    result = run(
        ["-c", "import django; django.setup()"],
        {"DJANGO_SETTINGS_MODULE": "vevurn.settings", "DEBUG": "1", **env},
    )
    assert result.returncode != 0
    assert message in result.stderr
