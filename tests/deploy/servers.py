"""Start and stop real app servers (gunicorn, nginx) for the deployment tests."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.db import connection


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test_<name>)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


def start_gunicorn(port: int, *, log_path, **environ) -> subprocess.Popen:
    """gunicorn with the project's gunicorn.conf.py, in its own process group."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.deploy_settings",
        PORT=str(port),
        ENV_FILE="/nonexistent/.env",
        DATABASE_URL=test_database_url(),
        # Each answer opens a fresh connection: nothing outlives the test database.
        DB_CONN_MAX_AGE="0",
        LOG_FORMAT="json",
    )
    env.update(environ)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "vevurn.wsgi",
                "-c",
                str(settings.BASE_DIR / "gunicorn.conf.py"),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_nginx(conf, tmp) -> subprocess.Popen:
    """Debian's nginx with the config file `conf` (daemon off), logs and prefix under `tmp`."""
    with open(tmp / "nginx-stdout.log", "ab") as log:
        return subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "nginx-error.log")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_serving(port: int, process: subprocess.Popen, path="/", timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            status, _ = get(port, path, timeout=2)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"nothing served on port {port} within {timeout}s")


def get(port: int, path: str, timeout: float = 10, headers=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def get_json(conn: http.client.HTTPConnection, path: str) -> tuple[int, dict]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """Stop a server and everything in its process group; kill it if it does not go."""
    if process is None:
        return
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=timeout)
