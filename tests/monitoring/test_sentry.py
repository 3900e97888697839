"""Sentry against a fake endpoint on 127.0.0.1: system errors arrive tagged, domain errors never.

The SDK is initialised through monitoring.sentry.init_sentry for these tests only and closed
afterwards, so the rest of the suite runs without it.
"""

import gzip
import io
import json
import logging
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from monitoring.logging import BufferedStreamHandler, RequestContextFilter
from monitoring.sentry import drop_domain_errors, init_sentry
from tests.monitoring.conftest import configured_json_formatter
from tests.monitoring.views import OutOfStock
from tests.test_settings import PRODUCTION, ROOT, run

pytestmark = [pytest.mark.urls("tests.monitoring.urls"), pytest.mark.django_db]


class FakeSentry(BaseHTTPRequestHandler):
    envelopes: list[list[dict]] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        items = []
        for line in body.splitlines():
            try:
                items.append(json.loads(line))
            except ValueError:
                continue
        self.envelopes.append(items)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_sentry():
    FakeSentry.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hooks = (sys.excepthook, threading.excepthook)
    assert init_sentry(
        dsn=f"http://public@127.0.0.1:{server.server_port}/1",
        environment="test",
        release=lambda: "test-release",
        traces_sample_rate=0.0,
    )
    try:
        yield FakeSentry.envelopes
    finally:
        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.get_global_scope().set_client(None)
        sys.excepthook, threading.excepthook = hooks
        server.shutdown()
        server.server_close()


def events(envelopes):
    return [item for items in envelopes for item in items if "exception" in item]


def exception_types(event):
    return [value["type"] for value in event["exception"]["values"]]


def test_system_error_arrives_with_request_id_and_user_tags(fake_sentry, lenient_client, cashier):
    lenient_client.force_login(cashier)

    refused = lenient_client.get("/test/refuse/")
    api_refused = lenient_client.get("/api/test/drf/domain/")
    failed = lenient_client.get("/test/boom/")
    sentry_sdk.flush(timeout=5)

    assert (refused.status_code, api_refused.status_code, failed.status_code) == (409, 409, 500)
    (event,) = events(fake_sentry)
    assert exception_types(event) == ["RuntimeError"]
    assert event["tags"]["request_id"] == failed["X-Request-ID"]
    assert event["tags"]["user_id"] == str(cashier.pk)
    assert event["environment"] == "test"
    assert event["release"] == "test-release"
    assert event["user"] == {"id": str(cashier.pk)}  # the id only: no name, email or IP
    assert "cookies" not in event["request"]
    assert "OutOfStock" not in str([exception_types(e) for e in events(fake_sentry)])


def test_api_system_error_arrives_once(fake_sentry, lenient_client):
    response = lenient_client.get("/api/test/drf/system/")
    sentry_sdk.flush(timeout=5)

    (event,) = events(fake_sentry)
    assert exception_types(event) == ["RuntimeError"]
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert "user_id" not in event["tags"]  # anonymous


def test_access_lines_still_reach_sentrys_logging_integration(fake_sentry, lenient_client):
    # The production handler alone on the root logger (pytest's capture off it), where the
    # access line is written without a log record unless Sentry is on (monitoring.logging).
    handler = BufferedStreamHandler(io.StringIO(), interval=3600)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(configured_json_formatter())
    root = logging.getLogger()
    kept = root.handlers[:]
    root.handlers = [handler]
    try:
        lenient_client.get("/test/items/5/log/")
        failed = lenient_client.get("/test/boom/")
    finally:
        root.handlers = kept
        handler.close()
    sentry_sdk.flush(timeout=5)

    (event,) = events(fake_sentry)
    assert event["tags"]["request_id"] == failed["X-Request-ID"]
    crumbs = [c for c in event["breadcrumbs"]["values"] if c.get("category") == "vevurn.access"]
    assert "GET /test/items/<int:pk>/log/ 200" in [c["message"] for c in crumbs]


def test_a_captured_domain_error_is_dropped(fake_sentry):
    try:
        raise OutOfStock
    except OutOfStock:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=5)

    assert events(fake_sentry) == []


def test_no_default_pii(fake_sentry):
    assert sentry_sdk.get_client().options["data_collection"]["user_info"] is False


def test_without_a_dsn_nothing_is_initialised():
    assert init_sentry(dsn="", environment="x", release="y") is False
    assert not sentry_sdk.get_client().is_active()


def test_before_send_keeps_system_errors():
    event = {"message": "x"}
    hint = {"exc_info": (RuntimeError, RuntimeError("x"), None)}

    assert drop_domain_errors(event, hint) is event
    assert drop_domain_errors(event, {"exc_info": (OutOfStock, OutOfStock(), None)}) is None


def sentry_options(env: dict) -> dict:
    code = (
        "import json, django, sentry_sdk; django.setup(); o = sentry_sdk.get_client().options; "
        "print(json.dumps({k: o.get(k) for k in "
        "('dsn', 'environment', 'release', 'traces_sample_rate')}))"
    )
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "vevurn.settings", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings_start_sentry_only_with_a_dsn_and_name_the_release():
    dsn = "http://public@127.0.0.1:9/1"  # never contacted: no event is raised
    # The deployed git revision; APP_VERSION's default where the code is not a git checkout.
    git = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    revision = git.stdout.strip() if git.returncode == 0 else "0.1.0"

    off = sentry_options(PRODUCTION)
    from_git = sentry_options({**PRODUCTION, "SENTRY_DSN": dsn, "SENTRY_TRACES_SAMPLE_RATE": "0.2"})
    named = sentry_options(
        {
            **PRODUCTION,
            "SENTRY_DSN": dsn,
            "SENTRY_RELEASE": "2026.11.1",
            "SENTRY_ENVIRONMENT": "staging",
        }
    )

    assert off["dsn"] is None
    assert from_git == {
        "dsn": dsn,
        "environment": "production",
        "release": revision,
        "traces_sample_rate": 0.2,
    }
    assert (named["release"], named["environment"]) == ("2026.11.1", "staging")
