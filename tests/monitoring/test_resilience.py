"""The whole app against a Redis that dies and comes back, and two processes sharing one Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from tests.monitoring.conftest import cache_config

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]


def fail_login(client, ip="10.9.9.9"):
    return client.post("/", {"username": "cashier", "password": "wrong"}, REMOTE_ADDR=ip)


def test_killing_redis_mid_stream_fails_no_request_and_limits_hold_in_memory(
    redis_server, cashier, make_user
):
    staff = make_user("owner", "admin", is_staff=True)
    with override_settings(CACHES=cache_config(redis_server.url, BACKOFF_MAX=0.5)):
        anonymous, operator = Client(), Client()
        operator.force_login(staff)
        statuses = []

        def stream(requests: int):
            for i in range(requests):
                statuses.append(anonymous.get("/", REMOTE_ADDR=f"10.8.0.{i % 50}").status_code)
                statuses.append(operator.get("/api/monitoring/redis").status_code)

        stream(10)
        for _ in range(3):
            assert fail_login(anonymous).status_code == 200
        assert operator.get("/api/monitoring/redis").json()["status"] == "connected"
        assert redis_server.client().dbsize() > 0  # the counters are in Redis

        redis_server.kill()
        stream(25)
        assert set(statuses) == {200}, "no request failed while Redis died"
        status = operator.get("/api/monitoring/redis").json()
        assert status["status"] == "fallback"
        assert status["last_error"]
        assert status["fallback"]["entries"] > 0

        # The login limit keeps holding, now in this process's memory (which started empty).
        for _ in range(5):
            assert fail_login(anonymous).status_code == 200
        response = fail_login(anonymous)
        assert response.status_code == 429
        assert b"Too many failed sign-in attempts" in response.content

        redis_server.start()
        time.sleep(0.6)  # the longest back-off in this configuration is 0.5 s
        stream(3)
        status = operator.get("/api/monitoring/redis").json()
        assert status["status"] == "connected"
        assert status["info"]["version"]
        assert redis_server.client().dbsize() > 0  # traffic is back in Redis
        assert set(statuses) == {200}
        caches["default"].clear()


WORKER = """
import os, sys, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
client = Client()
for line in sys.stdin:
    data = {"username": "cashier", "password": "wrong"}
    response = client.post("/", data, REMOTE_ADDR="10.7.7.7")
    print(response.status_code, flush=True)
"""


def test_two_processes_sharing_redis_enforce_one_login_limit(redis_server, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DEBUG": "1",
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "REDIS_URL": redis_server.url,
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr

    def start():
        return subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    first, second = start(), start()
    try:

        def attempt(worker) -> int:
            worker.stdin.write("go\n")
            worker.stdin.flush()
            return int(worker.stdout.readline())

        seen = [attempt(first), attempt(first), attempt(first)]
        seen += [attempt(second), attempt(second), attempt(second)]
        seen += [attempt(first)]
    finally:
        for worker in (first, second):
            worker.stdin.close()
            worker.wait(timeout=30)
    # Five failures in all, across both processes, then both refuse.
    assert seen == [200, 200, 200, 200, 200, 429, 429]


def test_a_hung_redis_never_fails_a_request_nor_holds_it_past_the_timeout(silent_redis, cashier):
    api, logins, durations = [], [], []
    with override_settings(CACHES=cache_config(silent_redis, BACKOFF_INITIAL=0.3)):
        client = Client()
        for i in range(30):
            started = time.monotonic()
            api.append(client.get("/api/monitoring/redis", REMOTE_ADDR="10.6.0.1").status_code)
            if i % 5 == 0:
                logins.append(fail_login(client).status_code)
            durations.append(time.monotonic() - started)
        timeout = caches["default"]._params["OPTIONS"]["SOCKET_TIMEOUT"]
    # The limiter answered from memory: never a 500, and the login limit still held.
    assert set(api) == {401}
    assert logins == [200, 200, 200, 200, 200, 429]
    assert max(durations) < 5 * timeout  # generous: CI runs other work at the same time
    assert sum(d >= timeout / 2 for d in durations) <= 3  # the first call and a probe or two
