"""Health probes: /api/health/live, /api/health/ready (public) and /api/health/detailed (staff).

The checks (monitoring/checks.py) are django-health-check 4.x `HealthCheck` classes. We do not
use its view: it is
async and, under gunicorn's sync workers, slow (REFERENCE.md §3). Instead:

- checks that need the database run on the request's own thread, on the request's own
  (persistent) connection, with the timeouts set on the connection itself;
- the others run in a small thread pool and are abandoned after HEALTH_CHECK_TIMEOUT_SECONDS
  (`future.result(timeout=...)`), so a hung Redis or disk never hangs a probe.

Live does no I/O at all. Ready needs the database (SELECT 1) and applied migrations (checked once
per process, then remembered); Redis is not critical: on its fallback the shop still serves, so
ready answers 200 with "degraded".
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import psutil
from django.conf import settings
from django.http import JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.contrib import psutil as stock_psutil
from health_check.exceptions import HealthCheckException, ServiceWarning

from monitoring import draining
from monitoring.access import staff_json
from monitoring.checks import (
    CacheFallback,
    CacheRoundTrip,
    Database,
    JobProcess,
    Migrations,
    ProcessMemory,
    Redis,
    SentryConfigured,
    disk_facts,
    memory_facts,
    short_error,
)
from monitoring.errors import error_payload

logger = logging.getLogger("vevurn.health")

PROCESS_STARTED = psutil.Process().create_time()
PROBE_PATHS = frozenset({"/api/health/live", "/api/health/ready"})


# --- running them -------------------------------------------------------------------------------


@dataclasses.dataclass
class Probe:
    name: str
    check: HealthCheck
    critical: bool = False
    on_request_thread: bool = False  # needs the request's database connection
    facts: Callable[[], dict] | None = None


@dataclasses.dataclass
class Result:
    name: str
    status: str  # ok | warning | failed | skipped
    response_time_ms: float
    detail: dict
    critical: bool

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "response_time_ms": self.response_time_ms,
            "critical": self.critical,
            "detail": self.detail,
        }


def run_probe(probe: Probe) -> Result:
    started = time.perf_counter()
    status, message = "ok", None
    try:
        probe.check.run()
    except ServiceWarning as error:
        status, message = "warning", error.message
    except HealthCheckException as error:
        status, message = "failed", error.message
    except Exception as error:
        logger.exception("Health check %s raised", probe.name)
        status, message = "failed", short_error(error)
    detail = dict(getattr(probe.check, "detail", {}))
    if probe.facts is not None:
        try:
            detail.update(probe.facts())
        except Exception as error:
            detail["facts_error"] = short_error(error)
    if message:
        detail["message"] = message
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    return Result(probe.name, status, elapsed, detail, probe.critical)


_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health-check")


def run_probes(probes: list[Probe]) -> list[Result]:
    """Pool checks start first and run while the request thread does the database ones; each
    pool check gets HEALTH_CHECK_TIMEOUT_SECONDS from the moment it was submitted."""
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    submitted = {
        probe.name: (_pool.submit(run_probe, probe), time.monotonic())
        for probe in probes
        if not probe.on_request_thread
    }
    results: dict[str, Result] = {}
    database_ok = True
    for probe in probes:
        if not probe.on_request_thread:
            continue
        if not database_ok:
            results[probe.name] = Result(probe.name, "skipped", 0.0, {}, probe.critical)
            continue
        results[probe.name] = run_probe(probe)
        database_ok = results[probe.name].status != "failed"
    for name, (future, started) in submitted.items():
        probe = next(p for p in probes if p.name == name)
        try:
            results[name] = future.result(timeout=max(0.0, started + timeout - time.monotonic()))
        except FutureTimeout:
            message = f"Timed out after {timeout:g} s"
            results[name] = Result(name, "failed", timeout * 1000, {"message": message}, False)
    return [results[probe.name] for probe in probes]


def overall(results: list[Result]) -> str:
    if any(r.critical and r.status in ("failed", "skipped") for r in results):
        return "unhealthy"
    if any(r.status != "ok" for r in results):
        return "degraded"
    return "healthy"


def readiness_probes() -> list[Probe]:
    return [
        Probe("database", Database(), critical=True, on_request_thread=True),
        Probe("migrations", Migrations(), critical=True, on_request_thread=True),
    ]


def detailed_probes() -> list[Probe]:
    probes = [
        Probe("database", Database(describe=True), critical=True, on_request_thread=True),
        Probe("migrations", Migrations(), critical=True, on_request_thread=True),
        Probe("cache", CacheRoundTrip()),
    ]
    if settings.REDIS_URL:
        probes.append(Probe("redis", Redis()))
    else:
        probes.append(Probe("cache_store", CacheFallback()))
    probes += [
        Probe("disk", stock_psutil.Disk(path=settings.BASE_DIR), facts=disk_facts),
        Probe("memory", stock_psutil.Memory(), facts=memory_facts),
        Probe("process_memory", ProcessMemory()),
        Probe("sentry", SentryConfigured()),
        Probe("worker", JobProcess(kind="worker"), on_request_thread=True),
        Probe("scheduler", JobProcess(kind="scheduler"), on_request_thread=True),
    ]
    return probes


def health_report() -> dict:
    results = run_probes(detailed_probes())
    return {
        "status": overall(results),
        "version": settings.APP_VERSION,
        "uptime_seconds": round(time.time() - PROCESS_STARTED, 1),
        "checks": {result.name: result.as_dict() for result in results},
    }


# --- views --------------------------------------------------------------------------------------


@never_cache
@require_GET
def live(request):
    """The process answers. No database, no cache."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
@draining.unready_while_draining
def ready(request):
    """200 when the database answers and migrations are applied ("degraded" while Redis is on
    its fallback); 503 naming the failing check. Says nothing more: it is public."""
    results = run_probes(readiness_probes())
    fallback = run_probe(Probe("cache", CacheFallback()))
    checks = {result.name: result.status for result in results}
    checks["cache"] = fallback.detail.get("store", "memory")
    failing = [r.name for r in results if r.status != "ok"]
    if failing:
        payload = error_payload(
            request, "not_ready", f"Not ready: {', '.join(failing)} failed.", status=503
        )
        return JsonResponse(
            {"status": "unavailable", "failing": failing, "checks": checks, **payload},
            status=503,
        )
    status = "degraded" if fallback.status != "ok" else "ok"
    return JsonResponse({"status": status, "checks": checks})


@never_cache
@require_GET
@staff_json
def detailed(request):
    report = health_report()
    return JsonResponse(report, status=503 if report["status"] == "unhealthy" else 200)


class HealthProbeMiddleware:
    """Answers the live and ready probes before host validation and the HTTPS redirect.

    Kubernetes probes connect to the pod's IP over plain HTTP with `Host: <pod IP>`, which is
    not in ALLOWED_HOSTS; CommonMiddleware (and SecurityMiddleware's redirect) would answer
    400 or 301. Placed before them, this middleware calls the probe views directly for exactly
    these two paths. They read nothing from the host, cookies or body, so skipping those
    middlewares exposes nothing; every other path (detailed included) goes the normal way.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        # The probes skip SecurityMiddleware's redirect, not its headers (nosniff, referrer,
        # X-Frame-Options); the Content-Security-Policy is added before this middleware.
        self.security_headers = SecurityMiddleware(get_response)
        self.frame_options = XFrameOptionsMiddleware(get_response)

    def __call__(self, request):
        if request.path_info in PROBE_PATHS:
            match = resolve(request.path_info)
            request.resolver_match = match
            response = match.func(request, *match.args, **match.kwargs)
            response = self.security_headers.process_response(request, response)
            # CommonMiddleware, skipped, would: without it gunicorn sends the answer chunked,
            # which a probe or a load balancer keeping the connection alive must then decode.
            if not response.streaming and not response.has_header("Content-Length"):
                response.headers["Content-Length"] = str(len(response.content))
            return self.frame_options.process_response(request, response)
        return self.get_response(request)
