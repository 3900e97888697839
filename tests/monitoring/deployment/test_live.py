"""Live checks against servers on 127.0.0.1 only: the app's live test server, a stand-in for the
health endpoints with canned answers, a TLS server with a certificate of our own, and a port
that accepts connections and never answers."""

import json
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitoring.deployment import live
from monitoring.deployment.base import Context
from monitoring.deployment.runner import run_checks
from tests.monitoring.deployment.conftest import run

LIVE_CHECKS = [
    "live.health_live",
    "live.health_ready",
    "live.health_detailed",
    "live.performance",
    "live.slow_endpoints",
    "live.certificate",
    "live.security_headers",
]
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class CannedApp:
    """An HTTP server answering each path with a canned (status, JSON body, headers)."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, dict]] = {}
        self.requests: list[tuple[str, dict]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                app.requests.append((self.path, dict(self.headers)))
                status, body, headers = app.routes.get(self.path, (404, {}, {}))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def healthy(self):
        self.routes.update(
            {
                "/api/health/live": (200, {"status": "ok"}, {}),
                "/api/health/ready": (
                    200,
                    {"status": "ok", "checks": {"database": "ok", "cache": "redis"}},
                    {},
                ),
                "/api/health/detailed": (
                    200,
                    {"status": "healthy", "checks": {"database": {"status": "ok"}}},
                    {},
                ),
                "/api/monitoring/performance": (200, {"count": 120, "p95_ms": 85.2}, {}),
                "/api/monitoring/endpoints": (
                    200,
                    {"endpoints": [{"method": "POST", "route": "pos/checkout", "p95_ms": 180.0}]},
                    {},
                ),
                "/": (200, {}, HEADERS),
            }
        )
        return self


@pytest.fixture
def canned_app():
    app = CannedApp()
    app.thread.start()
    yield app
    app.server.shutdown()
    app.server.server_close()


TOKEN = "s3cret-token"  # noqa: S105 - a test value


def context(url, token=TOKEN, timeout=2.0):
    return Context(url=url, token=token, timeout=timeout)


def test_a_healthy_deployment_passes_every_live_check_but_the_plain_http_ones(canned_app):
    ctx = context(canned_app.healthy().url)
    results = {check_id: run(check_id, ctx) for check_id in LIVE_CHECKS}
    assert {k: r.status for k, r in results.items()} == {
        "live.health_live": "pass",
        "live.health_ready": "pass",
        "live.health_detailed": "pass",
        "live.performance": "pass",
        "live.slow_endpoints": "pass",
        "live.certificate": "warn",  # plain HTTP: no certificate to check
        "live.security_headers": "warn",  # plain HTTP: no HSTS
    }
    assert results["live.health_detailed"].detail.startswith(
        "/api/health/detailed: healthy, 1 services ok"
    )
    # The token went to the protected endpoints only, and each path was fetched once.
    sent = {path: headers.get("Authorization") for path, headers in canned_app.requests}
    assert sent["/api/health/detailed"] == "Bearer s3cret-token"
    assert sent["/api/monitoring/performance"] == "Bearer s3cret-token"
    assert sent["/api/health/live"] is None
    assert sent["/api/monitoring/endpoints"] == "Bearer s3cret-token"
    assert len(canned_app.requests) == 6


def test_not_ready_names_the_failing_check(canned_app):
    canned_app.healthy().routes["/api/health/ready"] = (
        503,
        {
            "status": "unavailable",
            "failing": ["migrations"],
            "checks": {"database": "ok", "migrations": "failed", "cache": "redis"},
        },
        {},
    )
    result = run("live.health_ready", context(canned_app.url))
    assert (result.status, result.detail) == ("fail", "/api/health/ready: not ready (migrations)")


def test_ready_but_degraded_warns(canned_app):
    canned_app.healthy().routes["/api/health/ready"] = (
        200,
        {"status": "degraded", "checks": {"database": "ok", "cache": "memory"}},
        {},
    )
    result = run("live.health_ready", context(canned_app.url))
    assert (result.status, result.detail) == ("warn", "/api/health/ready: degraded (cache: memory)")


@pytest.mark.parametrize(("overall", "status"), [("degraded", "warn"), ("unhealthy", "fail")])
def test_detailed_health_reports_each_unwell_service(canned_app, overall, status):
    canned_app.healthy().routes["/api/health/detailed"] = (
        200 if overall == "degraded" else 503,
        {
            "status": overall,
            "checks": {
                "database": {"status": "ok"},
                "memory": {"status": "skipped"},
                "redis": {"status": "failed"},
            },
        },
        {},
    )
    result = run("live.health_detailed", context(canned_app.url))
    assert (result.status, result.detail) == (
        status,
        f"/api/health/detailed: {overall} (redis: failed)",
    )


def test_without_a_token_the_protected_endpoints_are_not_checked(canned_app):
    ctx = context(canned_app.healthy().url, token="")
    for check_id in ("live.health_detailed", "live.performance", "live.slow_endpoints"):
        result = run(check_id, ctx)
        assert (result.status, result.detail) == ("warn", "not checked: needs a monitoring token")


def test_a_refused_token_fails(canned_app):
    canned_app.healthy().routes["/api/health/detailed"] = (403, {"error": {}}, {})
    result = run("live.health_detailed", context(canned_app.url))
    assert (result.status, result.detail) == (
        "fail",
        "/api/health/detailed: the token was refused (403)",
    )


def test_slow_endpoints_from_the_monitoring_data(canned_app):
    canned_app.healthy().routes["/api/monitoring/endpoints"] = (
        200,
        {
            "endpoints": [
                {"method": "POST", "route": "pos/checkout", "p95_ms": 2400.0},
                {"method": "GET", "route": "pos/products", "p95_ms": 1200.0},
                {"method": "POST", "route": "accounts/login", "p95_ms": 90.0},
            ]
        },
        {},
    )
    result = run("live.slow_endpoints", context(canned_app.url))
    assert result.status == "warn"
    assert result.detail == (
        "slow endpoints: POST pos/checkout P95 2400 ms, GET pos/products P95 1200 ms"
    )


def test_missing_security_headers_fail(canned_app):
    canned_app.healthy().routes["/"] = (200, {}, {"X-Frame-Options": "DENY"})
    result = run("live.security_headers", context(canned_app.url))
    assert result.status == "fail"
    assert result.detail == "/ answers without X-Content-Type-Options, Referrer-Policy"


def test_monitoring_endpoints_redirected_to_https_are_named_as_https_findings(canned_app):
    # A plain-HTTP --url of a production instance: only /api/health/ is exempt from the redirect.
    canned_app.healthy()
    for path in ("/api/monitoring/performance", "/api/monitoring/endpoints"):
        canned_app.routes[path] = (301, {}, {"Location": f"https://pos.myshop.rw{path}"})
    results = {
        check_id: run(check_id, context(canned_app.url, token="s3cret-token"))
        for check_id in ("live.performance", "live.slow_endpoints")
    }
    assert {check_id: r.status for check_id, r in results.items()} == {
        "live.performance": "warn",
        "live.slow_endpoints": "warn",
    }
    assert results["live.performance"].detail == (
        "/api/monitoring/performance redirects to HTTPS "
        "(https://pos.myshop.rw/api/monitoring/performance): checked on the HTTPS answer only"
    )
    assert results["live.slow_endpoints"].fix == "Check with --url https://<host>."


def test_a_plain_http_url_that_redirects_to_https_is_a_warning(canned_app):
    canned_app.healthy().routes["/"] = (301, {}, {"Location": "https://pos.myshop.rw/"})
    result = run("live.security_headers", context(canned_app.url))
    assert (result.status, result.detail) == (
        "warn",
        "/ redirects to HTTPS (https://pos.myshop.rw/): the headers are checked on the HTTPS "
        "answer",
    )


def test_a_port_where_nothing_answers_fails_within_the_timeout(silent_redis):
    # silent_redis is a plain TCP listener that accepts and never answers.
    url = "http://" + silent_redis.removeprefix("redis://").removesuffix("/0")
    started = time.monotonic()
    findings = run_checks(context=context(url, timeout=0.5), categories=["live"])
    elapsed = time.monotonic() - started
    by_id = {f.id: f for f in findings}
    assert by_id["live.health_live"].status == "fail"
    assert "no answer: ReadTimeout" in by_id["live.health_live"].detail
    assert by_id["live.security_headers"].status == "fail"
    # 6 requests at most (live, ready, detailed, performance, endpoints, /), 0.5 s each.
    assert elapsed < 6 * 0.5 + 2


def test_a_closed_port_fails_at_once():
    from tests.monitoring.conftest import free_port

    result = run("live.health_live", context(f"http://127.0.0.1:{free_port()}"))
    assert result.status == "fail"
    assert "no answer: ConnectError" in result.detail


# --- the app itself ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_app_answers_with_its_security_headers(live_server):
    # A generous timeout: the first request of a live test server on a busy machine is slow.
    result = run("live.security_headers", context(live_server.url, timeout=20))
    assert result.status == "warn", result.detail  # no HSTS over plain HTTP
    assert result.detail.startswith("X-Content-Type-Options, Referrer-Policy and X-Frame-Options")


# --- certificates ---------------------------------------------------------------------------


def make_certificate(tmp_path, days: int) -> tuple[str, str]:
    cert, key = tmp_path / f"cert{days}.pem", tmp_path / f"key{days}.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            str(days),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def tls_server(tmp_path):
    servers = []

    def start(days: int):
        cert, key = make_certificate(tmp_path, days)
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_address[1]}", cert

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def trust(monkeypatch, cafile):
    """Make the check trust our own certificate, as a system CA store trusts a real one."""
    original = ssl.create_default_context
    monkeypatch.setattr(live.ssl, "create_default_context", lambda: original(cafile=cafile))


@pytest.mark.parametrize(("days", "status"), [(90, "pass"), (20, "warn"), (3, "fail")])
def test_certificate_days_until_expiry(tls_server, monkeypatch, days, status):
    url, cert = tls_server(days)
    trust(monkeypatch, cert)
    result = run("live.certificate", context(url))
    assert result.status == status
    assert f"({days - 1} days)" in result.detail or f"({days} days)" in result.detail


def test_an_untrusted_certificate_fails(tls_server):
    url, _cert = tls_server(90)
    result = run("live.certificate", context(url))
    assert result.status == "fail"
    assert "certificate not valid: SSLCertVerificationError" in result.detail


# --- the app's own health and monitoring endpoints (issue 7) ----------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_app_passes_its_own_live_checks(live_server, settings):
    settings.MONITORING_API_TOKEN = TOKEN
    ctx = context(live_server.url, timeout=20)
    results = {check_id: run(check_id, ctx) for check_id in LIVE_CHECKS}
    for check_id in ("live.health_live", "live.health_ready", "live.performance"):
        assert results[check_id].status == "pass", results[check_id]
    assert results["live.health_live"].detail.startswith("/api/health/live: ok, ")
    # It read the app's own per-endpoint figures. Whether one crossed 1 s depends on the
    # machine's load (the verdicts are tested on canned figures above).
    slow = results["live.slow_endpoints"]
    assert (slow.status, slow.detail.split(" endpoints, ")[-1]) == (
        "pass",
        "none with P95 over 1000 ms",
    ) or (slow.status == "warn" and slow.detail.startswith("slow endpoints: ")), slow
    assert results["live.health_detailed"].status == "pass", results["live.health_detailed"]
    assert results["live.health_detailed"].detail.startswith("/api/health/detailed: healthy, ")


@pytest.mark.django_db(transaction=True)
def test_the_app_refuses_a_wrong_monitoring_token(live_server, settings):
    settings.MONITORING_API_TOKEN = TOKEN
    result = run("live.health_detailed", context(live_server.url, token="wrong", timeout=20))
    assert (result.status, result.detail) == (
        "fail",
        "/api/health/detailed: the token was refused (401)",
    )
