"""A production-like environment, in a subprocess as a release phase would run the command:
DEBUG off, a real secret key, PostgreSQL (or SQLite), Redis, JSON logs, Sentry, SMTP, collected
static files. It must score at least 90 with no failed check."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.monitoring.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]

SETUP_SHOP = """
import secrets
from accounts.models import User
from pos.models import ShopSettings
shop = ShopSettings.load()
shop.name, shop.tin, shop.currency_code = "Vevurn Phone Accessories", "102345678", "RWF"
shop.save()
User.objects.create_superuser("owner", password=secrets.token_urlsafe(24))
"""


def production_env(
    tmp_path, *, database_url: str, redis_url: str, static_root: Path | None = None
) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "DEBUG", "SENTRY_", "EMAIL_", "SECRET_"))
        # set by the browser tests; Django's deploy checks rightly refuse it (async.E001)
        and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "vevurn.settings",
            "ENV_FILE": str(tmp_path / "no.env"),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "pos.myshop.rw",
            "CSRF_TRUSTED_ORIGINS": "https://pos.myshop.rw",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LOG_FORMAT": "json",
            # A DSN pointing at a local port: Sentry is on, and sends nothing unless an error
            # happens (and then only to 127.0.0.1).
            "SENTRY_DSN": f"http://public@127.0.0.1:{free_port()}/1",
            "EMAIL_HOST": "smtp.myshop.rw",
            "SECURE_HSTS_SECONDS": "31536000",
            "STATIC_ROOT": str(static_root or tmp_path / "static"),
        }
    )
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result


def assert_ready(env):
    result = manage("check_deployment", "--format", "json", "--fail-under", "90", env=env)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    not_passing = [
        (c["id"], c["status"], c["detail"]) for c in report["checks"] if c["status"] != "pass"
    ]
    assert report["summary"]["fail"] == 0, not_passing
    assert report["score"] >= 90, not_passing
    assert report["verdict"] == "ready"
    assert result.returncode == 0, result.stderr
    return report, not_passing


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """collectstatic once for the module (the build step), as production builds it."""
    root = tmp_path_factory.mktemp("static")
    env = production_env(
        root, database_url=f"sqlite:///{root / 'unused.sqlite3'}", redis_url="", static_root=root
    )
    collected = manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    assert (root / "staticfiles.json").is_file()
    return root


@pytest.fixture
def redis_url(redis_server):
    """Our own Redis, configured as production should be (a memory limit and LRU eviction)."""
    client = redis_server.client()
    client.config_set("maxmemory", "64mb")
    client.config_set("maxmemory-policy", "allkeys-lru")
    return redis_server.url


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_production_like_environment_on_postgresql_is_ready(tmp_path, redis_url, static_root):
    from django.db import connection

    exec(SETUP_SHOP)  # noqa: S102 - committed in the test database the subprocess reads
    config = connection.settings_dict
    database_url = (
        f"postgres://{config['USER']}:{config['PASSWORD']}@{config['HOST']}:{config['PORT']}"
        f"/{config['NAME']}"
    )
    report, not_passing = assert_ready(
        production_env(
            tmp_path, database_url=database_url, redis_url=redis_url, static_root=static_root
        )
    )
    # What remains are advice, not faults.
    assert {check_id for check_id, _status, _detail in not_passing} <= {"security.admin_url"}


@pytest.mark.redis
@pytest.mark.slow
def test_a_production_like_environment_on_sqlite_is_ready_with_a_warning(
    tmp_path, redis_url, static_root
):
    env = production_env(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        redis_url=redis_url,
        static_root=static_root,
    )
    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    shell = manage("shell", "-c", SETUP_SHOP, env=env)
    assert shell.returncode == 0, shell.stderr
    report, not_passing = assert_ready(env)
    assert {check_id for check_id, _status, _detail in not_passing} <= {
        "security.admin_url",
        "database.engine",
    }
    assert ("database.engine", "warn") in {(c, s) for c, s, _d in not_passing}
