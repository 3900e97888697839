"""A production-like environment, in a subprocess as a release phase would run the command:
DEBUG off, a real secret key, PostgreSQL (or SQLite), Redis, JSON logs, Sentry, SMTP, collected
static files, a live gunicorn checked with --url, and the worker and scheduler beside it. It must
score at least 90 with no failed check."""

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.monitoring.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]
MONITORING_TOKEN = secrets.token_urlsafe(32)
# Advice that a production-like setup checked from this machine still gets: the admin URL, and
# plain HTTP to gunicorn on 127.0.0.1 (no certificate, no HSTS: TLS is the proxy's job).
# app.fiscal: the shop has a TIN and 18% VAT but FISCAL_BACKEND=none (no receipt signed by RRA).
EXPECTED_WARNINGS = {
    "security.admin_url",
    "live.certificate",
    "live.security_headers",
    "app.fiscal",
}

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
            "ALLOWED_HOSTS": "pos.myshop.rw,127.0.0.1",
            "MONITORING_API_TOKEN": MONITORING_TOKEN,
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


def start_gunicorn(env: dict) -> tuple[subprocess.Popen, str]:
    """The Procfile's web process on 127.0.0.1. The TLS proxy in front of it would redirect
    plain HTTP; here the checker talks to gunicorn directly, so the app's own redirect is off."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "vevurn.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env={**env, "SECURE_SSL_REDIRECT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/health/live", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("gunicorn did not start")
        time.sleep(0.2)


def kinds_seen(database_url: str) -> int:
    """How many kinds of job process (worker, scheduler) have written a heartbeat, read from the
    database itself (polling the health endpoint would put slow cold requests in the figures
    that live.slow_endpoints reads)."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path)) as db:
            return db.execute("SELECT COUNT(DISTINCT kind) FROM jobs_heartbeat").fetchone()[0]
    from jobs.models import Heartbeat

    return Heartbeat.objects.values("kind").distinct().count()


def start_jobs(env: dict) -> list[subprocess.Popen]:
    """The Procfile's worker and scheduler, until both have said they are alive."""
    processes = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in ("run_worker", "run_scheduler")
    ]
    deadline = time.monotonic() + 60
    while kinds_seen(env["DATABASE_URL"]) < 2:
        if time.monotonic() > deadline:
            for process in processes:
                process.kill()
            raise AssertionError("the worker or the scheduler did not start")
        time.sleep(0.2)
    return processes


def assert_ready(env):
    process, url = start_gunicorn(env)
    jobs = []
    try:
        jobs = start_jobs(env)
        result = manage(
            "check_deployment",
            "--url",
            url,
            f"--token={MONITORING_TOKEN}",  # =: a token may start with "-"
            "--timeout",
            "10",
            "--format",
            "json",
            "--fail-under",
            "90",
            env=env,
        )
    finally:
        for running in [process, *jobs]:
            running.terminate()
            running.wait(timeout=30)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    not_passing = [
        (c["id"], c["status"], c["detail"]) for c in report["checks"] if c["status"] != "pass"
    ]
    assert report["summary"]["fail"] == 0, not_passing
    assert report["score"] >= 90, not_passing
    assert report["verdict"] == "ready"
    assert result.returncode == 0, result.stderr
    assert "HTTP Request:" not in result.stderr  # httpx's own line per request stays quiet
    return report, not_passing


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
def test_a_production_like_environment_on_postgresql_is_ready(
    tmp_path, redis_url, collected_static
):
    from django.db import connection

    exec(SETUP_SHOP)  # noqa: S102 - committed in the test database the subprocess reads
    config = connection.settings_dict
    database_url = (
        f"postgres://{config['USER']}:{config['PASSWORD']}@{config['HOST']}:{config['PORT']}"
        f"/{config['NAME']}"
    )
    report, not_passing = assert_ready(
        production_env(
            tmp_path, database_url=database_url, redis_url=redis_url, static_root=collected_static
        )
    )
    # What remains are advice, not faults.
    assert {check_id for check_id, _status, _detail in not_passing} <= EXPECTED_WARNINGS
    assert "live.health_detailed" in {c["id"] for c in report["checks"]}


@pytest.mark.redis
@pytest.mark.slow
def test_a_production_like_environment_on_sqlite_is_ready_with_a_warning(
    tmp_path, redis_url, collected_static
):
    env = production_env(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        redis_url=redis_url,
        static_root=collected_static,
    )
    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    shell = manage("shell", "-c", SETUP_SHOP, env=env)
    assert shell.returncode == 0, shell.stderr
    report, not_passing = assert_ready(env)
    assert {check_id for check_id, _status, _detail in not_passing} <= {
        *EXPECTED_WARNINGS,
        "database.engine",
    }
    assert ("database.engine", "warn") in {(c, s) for c, s, _d in not_passing}
