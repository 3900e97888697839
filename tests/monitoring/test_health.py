"""Health probes: live, ready and detailed, against real failures of the database and Redis."""

import time
from contextlib import contextmanager

import pytest
from django.core.cache import caches
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings

from monitoring import checks, health
from tests.monitoring.conftest import cache_config

CACHE_METHODS = ("get", "set", "add", "incr", "delete", "get_many", "set_many", "has_key")


@pytest.fixture
def untouchable_cache(monkeypatch):
    """Any cache call fails the test."""
    backend_class = type(caches["default"])

    def refuse(*args, **kwargs):
        raise AssertionError("the probe touched the cache")

    for name in CACHE_METHODS:
        monkeypatch.setattr(backend_class, name, refuse)


@pytest.fixture
def staff_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True)
def forget_migrations():
    checks._migrated.clear()
    yield
    checks._migrated.clear()


def test_live_answers_without_a_query_or_a_cache_call(
    db, client, django_assert_num_queries, untouchable_cache
):
    with django_assert_num_queries(0):
        response = client.get("/api/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")
    # As every other answer has (CommonMiddleware's, which the probe skips): else gunicorn
    # sends it chunked on a kept-alive connection.
    assert response["Content-Length"] == str(len(response.content))


@pytest.mark.django_db
def test_ready_is_one_select_once_migrations_are_known_applied(
    client, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(3):  # SELECT 1, then django_migrations once
        first = client.get("/api/health/ready")
    assert first.status_code == 200
    with django_assert_num_queries(1):
        second = client.get("/api/health/ready")
    assert second.status_code == 200
    body = second.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"


@pytest.mark.django_db
def test_ready_answers_before_host_validation_and_the_https_redirect(client, admin_user):
    production_like = override_settings(
        DEBUG=False,
        ALLOWED_HOSTS=["pos.example.rw"],
        SECURE_SSL_REDIRECT=True,
        SECURE_REDIRECT_EXEMPT=[],  # even without the exemption the probes answer
    )
    with production_like:
        pod_ip = {"HTTP_HOST": "10.42.0.7:8000"}
        assert client.get("/api/health/live", **pod_ip).status_code == 200
        assert client.get("/api/health/ready", **pod_ip).json()["status"] == "ok"
        # Every other path still validates the host and redirects to HTTPS.
        client.force_login(admin_user)
        assert client.get("/api/health/detailed", **pod_ip).status_code == 400
        response = client.get("/api/health/detailed", HTTP_HOST="pos.example.rw")
        assert response.status_code == 301
        assert response["Location"].startswith("https://pos.example.rw/")


def test_probe_paths_are_not_redirected_to_a_trailing_slash(client, db):
    assert client.get("/api/health/ready").status_code == 200
    assert client.get("/api/health/detailed").status_code == 401  # not a 301 to .../detailed/


@pytest.mark.django_db
def test_ready_is_503_naming_migrations_when_one_is_not_applied(client):
    MigrationRecorder.Migration.objects.filter(app="accounts").order_by("-id").first().delete()
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["migrations"]
    assert body["error"]["code"] == "not_ready"
    assert "migrations" in body["error"]["message"]
    assert body["error"]["request_id"] == response["X-Request-ID"]


@contextmanager
def unreachable_database(silent_port: int):
    """Point the default connection at a database that cannot be reached: a port that
    accepts and never answers (PostgreSQL), or a file in a missing directory (SQLite)."""
    connection = connections["default"]
    saved_raw, saved = connection.connection, dict(connection.settings_dict)
    connection.connection = None
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=silent_port)
    else:
        connection.settings_dict.update(NAME="/nonexistent-dir/vevurn.sqlite3")
    try:
        yield
    finally:
        if connection.connection is not None:
            connection.connection.close()
        connection.connection = saved_raw
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        connection.errors_occurred = False


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_ready_is_503_within_its_timeout_and_live_stays_200(silent_redis):
    silent_port = int(silent_redis.rsplit(":", 1)[1].split("/")[0])  # a port that never answers
    client = Client()
    with unreachable_database(silent_port):
        started = time.monotonic()
        response = client.get("/api/health/ready")
        elapsed = time.monotonic() - started
        live = client.get("/api/health/live")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database", "migrations"]
    assert response.json()["checks"]["migrations"] == "skipped"
    # libpq waits at least 2 s for a connection; the probe never waits for DB_CONNECT_TIMEOUT.
    assert elapsed < max(2, health.settings.HEALTH_CHECK_TIMEOUT_SECONDS) + 1.5
    assert live.status_code == 200
    assert client.get("/api/health/ready").status_code == 200  # and back once it is reachable


def test_detailed_access(client, cashier, admin_user):
    assert client.get("/api/health/detailed").status_code == 401
    client.force_login(cashier)
    response = client.get("/api/health/detailed")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    client.force_login(admin_user)
    assert client.get("/api/health/detailed").status_code == 200


def test_detailed_reports_every_check_with_numbers(staff_client, settings):
    body = staff_client.get("/api/health/detailed").json()
    assert body["status"] == "healthy", body
    assert body["version"] == settings.APP_VERSION
    assert body["uptime_seconds"] > 0
    checks = body["checks"]
    assert {"database", "migrations", "cache", "disk", "memory", "process_memory", "sentry"} <= set(
        checks
    )
    for name, check in checks.items():
        assert check["status"] == "ok", (name, check)
        assert check["response_time_ms"] >= 0
    assert checks["database"]["detail"]["server_version"]
    assert checks["database"]["critical"] is True
    assert checks["disk"]["detail"]["free_gb"] > 0
    assert checks["process_memory"]["detail"]["rss_bytes"] > 0
    assert checks["sentry"]["detail"]["configured"] is False


@pytest.mark.postgres
def test_detailed_counts_postgres_connections(staff_client):
    detail = staff_client.get("/api/health/detailed").json()["checks"]["database"]["detail"]
    assert detail["vendor"] == "postgresql"
    assert detail["connections"] >= 1


def test_a_check_past_its_timeout_is_failed_not_waited_for(settings, monkeypatch):
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.2

    def hang(self):
        time.sleep(2)

    monkeypatch.setattr(health.ProcessMemory, "run", hang)
    started = time.monotonic()
    (result,) = health.run_probes([health.Probe("process_memory", health.ProcessMemory())])
    assert time.monotonic() - started < 1
    assert result.status == "failed"
    assert "Timed out" in result.detail["message"]


@pytest.mark.redis
@pytest.mark.django_db
def test_redis_killed_then_back(redis_server, staff_client, settings):
    settings.REDIS_URL = redis_server.url
    with override_settings(CACHES=cache_config(redis_server.url, BACKOFF_MAX=0.5)):
        body = staff_client.get("/api/health/detailed").json()
        assert body["status"] == "healthy", body
        assert body["checks"]["redis"]["detail"]["status"] == "connected"
        assert body["checks"]["redis"]["detail"]["version"]

        redis_server.kill()
        started = time.monotonic()
        body = staff_client.get("/api/health/detailed").json()
        assert time.monotonic() - started < settings.HEALTH_CHECK_TIMEOUT_SECONDS + 1
        assert body["status"] == "degraded"
        assert body["checks"]["redis"]["status"] == "warning"
        assert body["checks"]["redis"]["detail"]["status"] == "fallback"
        assert body["checks"]["cache"]["status"] == "ok"  # served by the fallback
        ready = Client().get("/api/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "degraded",
            "checks": {"database": "ok", "migrations": "ok", "cache": "memory"},
        }

        redis_server.start()
        time.sleep(0.6)  # the longest back-off in this configuration
        body = staff_client.get("/api/health/detailed").json()
        assert body["status"] == "healthy", body
        assert body["checks"]["redis"]["detail"]["status"] == "connected"
        assert body["checks"]["redis"]["detail"]["reconnect_attempts"] >= 1
        assert Client().get("/api/health/ready").json()["status"] == "ok"
        caches["default"].clear()


@pytest.mark.redis
@pytest.mark.django_db
def test_a_hung_redis_degrades_detailed_within_its_timeout(silent_redis, staff_client, settings):
    settings.REDIS_URL = silent_redis
    with override_settings(CACHES=cache_config(silent_redis)):
        started = time.monotonic()
        response = staff_client.get("/api/health/detailed")
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert elapsed < settings.HEALTH_CHECK_TIMEOUT_SECONDS + 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_running_past_the_check_timeout_is_cancelled():
    from django.db import OperationalError, connection

    connection.ensure_connection()
    started = time.monotonic()
    with pytest.raises(OperationalError, match="cancel"):
        with checks.bounded_query(connection, 0.3), connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
    assert time.monotonic() - started < 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_probe_connect_timeout_is_its_own_not_every_threads():
    connection = connections["default"]
    shared = connection.settings_dict
    before = dict(shared["OPTIONS"])
    assert before["connect_timeout"] == 5  # DB_CONNECT_TIMEOUT's default
    connection.close()
    with checks.bounded_connect(connection, 0.5):
        assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 2
        assert shared["OPTIONS"] == before  # what other threads' wrappers read
        connection.ensure_connection()
    assert connection.settings_dict is shared
    assert shared["OPTIONS"] == before


def test_the_watchdog_runs_only_what_is_not_disarmed_in_time():
    fired = []
    kept = checks.watchdog.arm(0.05, lambda: fired.append("late"))
    cancelled = checks.watchdog.arm(0.05, lambda: fired.append("disarmed"))
    checks.watchdog.disarm(cancelled)
    deadline = time.monotonic() + 5
    while not fired and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert fired == ["late"]
    checks.watchdog.disarm(kept)
