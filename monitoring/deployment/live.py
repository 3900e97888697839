"""Live: probe a running deployment at --url (health, monitoring, certificate, headers).

The protected endpoints (/api/health/detailed, /api/monitoring/*) get `Authorization: Bearer
<--token>`: the deployment's MONITORING_API_TOKEN.

Every request has the run's timeout (connect and read), TLS certificates are verified, and
redirects are not followed (a redirect on a probe path is itself a finding).
"""

import socket
import ssl
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitoring.deployment.base import check, failed, passed, warned

SLOW_RESPONSE_MS = 1000
CERT_FAIL_DAYS = 7
CERT_WARN_DAYS = 30
SLOW_ENDPOINT_MS = 1000
SECURITY_HEADERS = {
    "X-Content-Type-Options": "SECURE_CONTENT_TYPE_NOSNIFF = True",
    "Referrer-Policy": "SECURE_REFERRER_POLICY",
    "X-Frame-Options": "XFrameOptionsMiddleware with X_FRAME_OPTIONS = 'DENY'",
}


class Answer:
    """A response, or why there was none, with the elapsed time."""

    def __init__(self, response: httpx.Response | None, error: str, elapsed_ms: float):
        self.response = response
        self.error = error
        self.elapsed_ms = elapsed_ms

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    def json(self) -> dict:
        try:
            data = self.response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def describe(self) -> str:
        if self.response is None:
            return f"no answer: {self.error}"
        return f"HTTP {self.status} in {self.elapsed_ms:.0f} ms"


def fetch(context, path: str, *, authenticated: bool = False) -> Answer:
    """GET `path` on the live URL once per run (later calls reuse the answer)."""
    key = ("GET", path, authenticated)
    if key in context.cache:
        return context.cache[key]
    headers = {"Accept": "application/json"}
    if authenticated and context.token:
        headers["Authorization"] = f"Bearer {context.token}"
    url = context.url.rstrip("/") + path
    started = time.perf_counter()
    try:
        with httpx.Client(
            verify=True, timeout=context.timeout, follow_redirects=False, trust_env=False
        ) as client:
            response = client.get(url, headers=headers)
        answer = Answer(response, "", (time.perf_counter() - started) * 1000)
    except httpx.HTTPError as error:
        answer = Answer(
            None, f"{type(error).__name__}: {error}"[:200], (time.perf_counter() - started) * 1000
        )
    context.cache[key] = answer
    return answer


def _unreachable(answer: Answer, path: str):
    return failed(
        f"{path}: {answer.describe()}",
        "Check that the app runs and that --url is right (proxy, DNS, firewall).",
    )


def _timed(answer: Answer, detail: str):
    if answer.elapsed_ms > SLOW_RESPONSE_MS:
        return warned(
            f"{detail}, slow: {answer.elapsed_ms:.0f} ms", "Look at the server's load and logs."
        )
    return passed(detail)


@check("live.health_live", category="live", title="Liveness probe", severity="critical")
def health_live(context):
    path = "/api/health/live"
    answer = fetch(context, path)
    if answer.response is None:
        return _unreachable(answer, path)
    if answer.status != 200 or answer.json().get("status") != "ok":
        return failed(
            f"{path}: {answer.describe()}, expected 200 with status ok",
            "Deploy a version with the health endpoints, and check the proxy routes /api/.",
        )
    return _timed(answer, f"{path}: ok, {answer.elapsed_ms:.0f} ms")


@check("live.health_ready", category="live", title="Readiness probe", severity="critical")
def health_ready(context):
    path = "/api/health/ready"
    answer = fetch(context, path)
    if answer.response is None:
        return _unreachable(answer, path)
    data = answer.json()
    if answer.status == 503:
        failing = data.get("failing") or [
            name for name, state in (data.get("checks") or {}).items() if state not in ("ok",)
        ]
        return failed(
            f"{path}: not ready ({', '.join(failing) or data.get('status', 'unknown')})",
            "Fix the failing dependency (see /api/health/detailed and the logs).",
        )
    if answer.status != 200:
        return failed(f"{path}: {answer.describe()}", "Expected 200 (ready) or 503 (not ready).")
    if data.get("status") == "degraded":
        return warned(
            f"{path}: degraded (cache: {(data.get('checks') or {}).get('cache', '?')})",
            "Redis is unavailable: each process uses its own cache; bring Redis back.",
        )
    return _timed(answer, f"{path}: {data.get('status', 'ready')}, {answer.elapsed_ms:.0f} ms")


def _https_only(context, answer: Answer, path: str):
    """A plain-HTTP --url whose answer is the redirect to HTTPS: an HTTPS finding, named so."""
    if urlsplit(context.url).scheme == "https" or answer.response is None:
        return None
    location = answer.response.headers.get("Location", "")
    if answer.response.is_redirect and location.startswith("https://"):
        return warned(
            f"{path} redirects to HTTPS ({location}): checked on the HTTPS answer only",
            "Check with --url https://<host>.",
        )
    return None


def _token_missing():
    return warned(
        "not checked: needs a monitoring token",
        "Pass --token <MONITORING_API_TOKEN of the deployment>.",
    )


@check("live.health_detailed", category="live", title="Detailed health", severity="high")
def health_detailed(context):
    path = "/api/health/detailed"
    if not context.token:
        return _token_missing()
    answer = fetch(context, path, authenticated=True)
    if answer.response is None:
        return _unreachable(answer, path)
    if answer.status in (401, 403):
        return failed(f"{path}: the token was refused ({answer.status})", "Check --token.")
    data = answer.json()
    overall = data.get("status")
    if answer.status not in (200, 503) or overall is None:
        return failed(f"{path}: {answer.describe()}", "Expected JSON with status and checks.")
    checks = data.get("checks") or {}
    unwell = sorted(
        f"{name}: {result.get('status')}"
        for name, result in checks.items()
        if isinstance(result, dict) and result.get("status") not in ("ok", "skipped")
    )
    detail = f"{path}: {overall}" + (f" ({'; '.join(unwell)})" if unwell else "")
    if overall == "healthy":
        return _timed(answer, f"{detail}, {len(checks)} services ok")
    fix = "Look at the services named above (and their logs)."
    if overall == "degraded":
        return warned(detail, fix)
    return failed(detail, fix)


@check("live.performance", category="live", title="Performance endpoint", severity="low")
def performance(context):
    path = "/api/monitoring/performance"
    if not context.token:
        return _token_missing()
    answer = fetch(context, path, authenticated=True)
    if answer.response is None:
        return _unreachable(answer, path)
    if answer.status in (401, 403):
        return failed(f"{path}: the token was refused ({answer.status})", "Check --token.")
    if redirected := _https_only(context, answer, path):
        return redirected
    if answer.status != 200:
        return failed(f"{path}: {answer.describe()}", "Expected 200 with the request metrics.")
    data = answer.json()
    figures = ", ".join(
        f"{name} {data[key]}"
        for name, key in (("requests", "count"), ("P95 ms", "p95_ms"), ("errors", "errors"))
        if data.get(key) is not None
    )
    return _timed(
        answer,
        f"{path}: answered in {answer.elapsed_ms:.0f} ms" + (f" ({figures})" if figures else ""),
    )


def _endpoint_rows(data: dict) -> list[dict]:
    for key in ("endpoints", "slow_endpoints", "routes"):
        rows = data.get(key)
        if isinstance(rows, list):
            return [row for row in rows if isinstance(row, dict)]
        if isinstance(rows, dict):
            return [{"route": name, **row} for name, row in rows.items() if isinstance(row, dict)]
    return []


def _p95(row: dict) -> float | None:
    for key in ("p95_ms", "p95", "p95_duration_ms"):
        if isinstance(row.get(key), int | float):
            return float(row[key])
    percentiles = row.get("percentiles") or {}
    value = percentiles.get("p95") if isinstance(percentiles, dict) else None
    return float(value) if isinstance(value, int | float) else None


@check("live.slow_endpoints", category="live", title="Slow endpoints", severity="medium")
def slow_endpoints(context):
    if not context.token:
        return _token_missing()
    answer = fetch(context, "/api/monitoring/endpoints", authenticated=True)
    if redirected := _https_only(context, answer, "/api/monitoring/endpoints"):
        return redirected
    if answer.status != 200:
        return warned(
            f"no per-endpoint data from /api/monitoring/endpoints ({answer.describe()})",
            "Check --token and that the deployment has the monitoring endpoints.",
        )
    rows = _endpoint_rows(answer.json())
    if not rows:
        return passed("no per-endpoint data yet")
    slow = sorted(
        (
            (" ".join(filter(None, [row.get("method"), row.get("route") or "?"])), _p95(row))
            for row in rows
        ),
        key=lambda item: -(item[1] or 0),
    )
    slow = [(route, p95) for route, p95 in slow if p95 is not None and p95 > SLOW_ENDPOINT_MS]
    if slow:
        shown = ", ".join(f"{route} P95 {p95:.0f} ms" for route, p95 in slow[:5])
        return warned(f"slow endpoints: {shown}", "Profile these routes (queries, N+1, locks).")
    return passed(f"{len(rows)} endpoints, none with P95 over {SLOW_ENDPOINT_MS} ms")


def certificate_expiry(host: str, port: int, timeout: float) -> datetime:
    """The verified certificate's expiry; raises ssl.SSLError / OSError when not valid."""
    tls = ssl.create_default_context()
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        tls.wrap_socket(raw, server_hostname=host) as sock,
    ):
        cert = sock.getpeercert()
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), UTC)


@check("live.certificate", category="live", title="HTTPS certificate", severity="critical")
def certificate(context):
    parts = urlsplit(context.url)
    if parts.scheme != "https":
        return warned(
            f"{context.url} is plain HTTP: no certificate to check",
            "Serve the shop over HTTPS and check with --url https://<host>.",
        )
    try:
        expires = certificate_expiry(parts.hostname, parts.port or 443, context.timeout)
    except (ssl.SSLError, OSError) as error:
        return failed(
            f"certificate not valid: {type(error).__name__}: {error}"[:300],
            "Install a valid certificate for this host (e.g. Let's Encrypt).",
        )
    days = (expires - datetime.now(UTC)).days
    detail = f"valid until {expires:%Y-%m-%d} ({days} days)"
    fix = "Renew the certificate (check that automatic renewal runs)."
    if days < CERT_FAIL_DAYS:
        return failed(detail, fix)
    if days < CERT_WARN_DAYS:
        return warned(detail, fix)
    return passed(detail)


@check("live.security_headers", category="live", title="Security headers", severity="high")
def security_headers(context):
    answer = fetch(context, "/")
    if answer.response is None:
        return _unreachable(answer, "/")
    headers = answer.response.headers
    is_https = urlsplit(context.url).scheme == "https"
    location = headers.get("Location", "")
    if not is_https and answer.response.is_redirect and location.startswith("https://"):
        return warned(
            f"/ redirects to HTTPS ({location}): the headers are checked on the HTTPS answer",
            "Check with --url https://<host>.",
        )
    missing = [name for name in SECURITY_HEADERS if name not in headers]
    if is_https and "Strict-Transport-Security" not in headers:
        missing.insert(0, "Strict-Transport-Security")
    if missing:
        return failed(
            f"/ answers without {', '.join(missing)}",
            "Run with DEBUG=0 and keep SecurityMiddleware and XFrameOptionsMiddleware; check "
            "that the proxy does not strip headers.",
        )
    if not is_https:
        return warned(
            "X-Content-Type-Options, Referrer-Policy and X-Frame-Options present; HSTS cannot "
            "be sent over plain HTTP",
            "Check with --url https://<host>.",
        )
    return passed("HSTS, X-Content-Type-Options, Referrer-Policy, X-Frame-Options present")
