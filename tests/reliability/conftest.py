"""Fixtures for the fault tests: private PostgreSQL and Redis, a seeded shop, a live gunicorn.

Nothing here touches the suite's own database or Redis: the servers under test, the seeding and
the invariant report all use the private cluster and the private redis-server.
"""

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.deploy import servers
from tests.reliability.services import PrivatePostgres, PrivateRedis


def django_env(database_url: str, **extra) -> dict:
    """The environment of a manage.py or shop.py subprocess against the private database."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.reliability.app_settings",
        ENV_FILE="/nonexistent/.env",
        DATABASE_URL=database_url,
        REDIS_URL="",  # an in-process cache: never the suite's Redis
        DB_CONN_MAX_AGE="0",
    )
    env.update(extra)
    return env


def run_django(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=django_env(database_url),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def private_postgres():
    """A migrated database in a cluster of the module's own, removed afterwards."""
    cluster = PrivatePostgres()
    try:
        cluster.init()
        migrated = run_django(cluster.url, "manage.py", "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr[-4000:]
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Shop:
    """What the seeding made, and the report of the database's invariants."""

    database_url: str
    products: list[int]
    tokens: list[str]

    def report(self) -> dict:
        done = run_django(self.database_url, "-m", "tests.reliability.shop", "report")
        assert done.returncode == 0, done.stderr[-4000:]
        return json.loads(done.stdout)

    def check_stock(self) -> subprocess.CompletedProcess:
        return run_django(self.database_url, "manage.py", "check_stock")


SHOP_NUMBERS = itertools.count(1)


@pytest.fixture
def seed_shop(private_postgres):
    """seed_shop(cashiers=4): products with stock, cashiers with tokens and open shifts."""

    def seed(cashiers: int, products: int = 3, stock: int = 10_000) -> Shop:
        prefix = f"T{next(SHOP_NUMBERS)}"  # unique codes in the module's shared database
        done = run_django(
            private_postgres.url,
            *("-m", "tests.reliability.shop", "seed", prefix),
            *(str(cashiers), str(products), str(stock)),
        )
        assert done.returncode == 0, done.stderr[-4000:]
        made = json.loads(done.stdout)
        return Shop(
            private_postgres.url, made["products"], [till["token"] for till in made["tills"]]
        )

    return seed


@dataclass
class App:
    port: int
    process: subprocess.Popen
    hook_dir: Path
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def hold_next_sale(self) -> None:
        (self.hook_dir / "hold-next-sale").touch()

    def wait_for_held_sale(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while not (self.hook_dir / "held").exists():
            assert time.monotonic() < deadline, "no sale was held in flight\n" + self.logs()
            time.sleep(0.05)
        return json.loads((self.hook_dir / "held").read_text())

    def release_held_sale(self) -> None:
        (self.hook_dir / "release").touch()


@pytest.fixture
def start_app(tmp_path, private_postgres):
    """start_app(redis_url, **environ): gunicorn on the private database, stopped afterwards."""
    started = []

    def start(redis_url: str, **environ) -> App:
        hook_dir = tmp_path / f"hooks-{len(started)}"
        hook_dir.mkdir()
        port = servers.spare_port()
        log_path = tmp_path / f"gunicorn-{len(started)}.log"
        process = servers.start_gunicorn(
            port,
            log_path=log_path,
            **{
                "DJANGO_SETTINGS_MODULE": "tests.reliability.app_settings",
                "DATABASE_URL": private_postgres.url,
                "REDIS_URL": redis_url,
                # Persistent connections, as in production: they must survive a restart.
                "DB_CONN_MAX_AGE": "60",
                "WEB_CONCURRENCY": "2",
                "GUNICORN_THREADS": "2",
                "RATE_LIMIT_CHECKOUT": "100000/m",
                "RATE_LIMIT_API_USER": "100000/m",
                "CACHE_BACKOFF_INITIAL": "0.5",
                "CACHE_BACKOFF_MAX": "2",
                "RELIABILITY_HOOK_DIR": str(hook_dir),
                **environ,
            },
        )
        app = App(port, process, hook_dir, log_path)
        started.append(app)
        servers.wait_until_serving(port, process, path="/api/health/live")
        return app

    yield start
    for app in started:
        servers.stop(app.process)


class ReadinessWatch:
    """Polls /api/health/ready in the background and keeps every answer, in order."""

    def __init__(self, port: int):
        self.port = port
        self.answers: list[tuple[int | None, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                status, body = servers.get(self.port, "/api/health/ready", timeout=30)
                self.answers.append((status, json.loads(body).get("status")))
            except OSError as error:
                self.answers.append((None, type(error).__name__))
            time.sleep(0.1)

    def wait_for(self, status: int, body_status: str | None = None, timeout: float = 90):
        """Until an answer after now has this status (and body status), else fail."""
        seen = len(self.answers)
        deadline = time.monotonic() + timeout
        while True:
            for answer in self.answers[seen:]:
                if answer[0] == status and body_status in (None, answer[1]):
                    return
            assert time.monotonic() < deadline, f"readiness never said {status} {body_status}"
            time.sleep(0.1)

    def __enter__(self) -> "ReadinessWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
