import io
import json
import logging
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from logging.config import DictConfigurator

import pytest
import redis
from django.conf import settings
from django.test import Client

from monitoring.logging import RequestContextFilter

# Shops, products, shifts and sales for the business metrics and alerts.
from tests.pos.conftest import category, make_product, register, sell, shift  # noqa: F401


class Capture(logging.Handler):
    """Records as the configured handlers see them: through the request context filter."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def named(self, logger_name):
        return [r for r in self.records if r.name == logger_name]


@pytest.fixture
def captured_logs():
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def configured_json_formatter() -> logging.Formatter:
    """The "json" formatter exactly as settings.LOGGING declares it."""
    config = dict(settings.LOGGING["formatters"]["json"])
    return DictConfigurator({}).configure_formatter(config)


@pytest.fixture
def json_lines():
    """Every log line written while the test runs, formatted by the production JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(configured_json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def read():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    root.removeHandler(handler)


@pytest.fixture
def lenient_client():
    """A client that returns the 500 page instead of re-raising the view's exception."""
    return Client(raise_request_exception=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisProcess:
    """A redis-server of the test's own, on a spare port, so that the test can kill it."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=0.5)


@pytest.fixture
def redis_server():
    server = RedisProcess(free_port())
    server.start()
    yield server
    server.kill()


def cache_config(url: str, **options) -> dict:
    """CACHES["default"] for the resilient backend against `url`, with short test back-offs."""
    return {
        "default": {
            "BACKEND": "monitoring.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "vevurn",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "CONNECTION_POOL_KWARGS": {"max_connections": 20, "retry_on_timeout": False},
                "BACKOFF_INITIAL": 0.2,
                "BACKOFF_MAX": 0.5,
                **options,
            },
        }
    }


@pytest.fixture
def silent_redis():
    """A server that accepts connections and never answers, like a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


class WebhookReceiver:
    """A Slack-style incoming webhook on 127.0.0.1 that keeps what it was sent."""

    def __init__(self, status: int = 200):
        self.messages: list[dict] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.messages.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RedisRoundTrips:
    """What each round trip to Redis carried: one list of command names per write to a socket
    (a pipeline's commands go in one write, and their answers come back together)."""

    def __init__(self):
        self.trips: list[list[str]] = []

    def record(self, packed) -> None:
        data = packed if isinstance(packed, bytes) else b"".join(packed)
        lines, names, i = data.split(b"\r\n"), [], 0
        while i < len(lines) and lines[i].startswith(b"*"):
            names.append(lines[i + 2].decode().upper())  # "*N", "$len", the command's name
            i += 1 + 2 * int(lines[i][1:])
        self.trips.append(names)

    def __len__(self) -> int:
        return len(self.trips)

    def clear(self) -> None:
        self.trips.clear()


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Every round trip this process makes to any Redis while the test runs, counted at the
    connection (redis-py's `send_packed_command`), so nothing can reach Redis uncounted."""
    from redis.connection import AbstractConnection

    seen = RedisRoundTrips()
    original = AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        seen.record(command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return seen
