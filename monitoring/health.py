"""Health probes: /api/health/live, /api/health/ready (public) and /api/health/detailed (staff).

The checks are django-health-check 4.x `HealthCheck` classes. We do not use its view: it is
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
import datetime
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

import psutil
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.urls import resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from health_check import checks as stock
from health_check.base import HealthCheck
from health_check.contrib import psutil as stock_psutil
from health_check.exceptions import HealthCheckException, ServiceUnavailable, ServiceWarning

from monitoring.cache import REDIS_ERRORS, ResilientRedisCache
from monitoring.endpoints import staff_json
from monitoring.errors import error_payload

logger = logging.getLogger("vevurn.health")

PROCESS_STARTED = psutil.Process().create_time()
PROBE_PATHS = frozenset({"/api/health/live", "/api/health/ready"})


def check_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.HEALTH_CHECK_TIMEOUT_SECONDS)


# --- the checks ---------------------------------------------------------------------------------


@contextmanager
def bounded_connect(connection, seconds: float):
    """A probe that must open the connection waits at most `seconds` for it (PostgreSQL; libpq
    rounds up to whole seconds, at least 2), not the app's DB_CONNECT_TIMEOUT. The settings
    dict is shared by every thread's wrapper, so this thread's wrapper gets a copy."""
    if connection.connection is not None or connection.vendor != "postgresql":
        yield
        return
    shared = connection.settings_dict
    options = {**shared.get("OPTIONS", {}), "connect_timeout": max(2, math.ceil(seconds))}
    connection.settings_dict = {**shared, "OPTIONS": options}
    try:
        yield
    finally:
        connection.settings_dict = shared


@contextmanager
def bounded_query(connection, seconds: float):
    """PostgreSQL: a watchdog cancels the statement (server side) when it runs past `seconds`.
    SQLite is a local file: SELECT 1 takes no lock and cannot hang on a peer."""
    raw = connection.connection
    if connection.vendor != "postgresql" or raw is None:
        yield
        return
    watchdog = threading.Timer(seconds, raw.cancel_safe, kwargs={"timeout": seconds})
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()


def short_error(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:200]


@dataclasses.dataclass
class Database(stock.Database):
    """SELECT 1 on the request's own connection.

    Ours rather than stock `Database`: that one wraps the query in `temporary_connection()`,
    which closes a connection it had to open, so every probe would connect afresh instead of
    reusing the persistent connection (CONN_MAX_AGE); and it has no timeout of its own.
    """

    timeout: datetime.timedelta = dataclasses.field(default_factory=check_timeout, repr=False)
    describe: bool = dataclasses.field(default=False, repr=False)
    detail: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def run(self):
        connection = connections[self.alias]
        seconds = self.timeout.total_seconds()
        try:
            with bounded_connect(connection, seconds):
                connection.ensure_connection()
            with bounded_query(connection, seconds), connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
                if self.describe:
                    self.detail.update(database_facts(connection, cursor))
        except DatabaseError as error:
            raise ServiceUnavailable(short_error(error)) from error
        if row != (1,):
            raise ServiceUnavailable("SELECT 1 did not return 1")


def database_facts(connection, cursor) -> dict:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        version = connection.pg_version  # from the connection handshake, no query
        return {
            "vendor": "postgresql",
            "server_version": f"{version // 10000}.{version % 10000}",
            "connections": cursor.fetchone()[0],
        }
    return {"vendor": connection.vendor, "server_version": sqlite3.sqlite_version}


_migrated: set[str] = set()  # aliases whose migrations were all applied (stays true)


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration on disk is applied. Once true it is remembered for the process: a
    release migrates before the new code starts, so it cannot become false under us."""

    alias: str = "default"
    detail: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def run(self):
        if self.alias in _migrated:
            self.detail["pending"] = 0
            return
        try:
            executor = MigrationExecutor(connections[self.alias])
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as error:
            raise ServiceUnavailable(short_error(error)) from error
        self.detail["pending"] = len(plan)
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
            raise ServiceUnavailable(f"{len(plan)} migration(s) not applied: {names}")
        _migrated.add(self.alias)


def cache_backend():
    from django.core.cache import caches

    return caches["default"]


@dataclasses.dataclass
class CacheFallback(HealthCheck):
    """Whether the cache (and so rate limits and metrics) runs on Redis or on the in-process
    fallback. Reads the circuit breaker's state only: no cache call."""

    detail: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def run(self):
        backend = cache_backend()
        if not isinstance(backend, ResilientRedisCache):
            self.detail.update(store="memory", redis="not_configured")
            return
        state = backend.state
        self.detail.update(store="redis" if state.connected else "memory")
        if not state.connected:
            self.detail["since"] = state.as_dict()["since"]
            raise ServiceWarning(
                "Redis unavailable: cache, rate limits and metrics on the in-process fallback"
            )


@dataclasses.dataclass
class CacheRoundTrip(stock.Cache):
    """Set then get a key (stock `Cache`'s test). Ours only because the stock `run` is async:
    on a sync worker it would need an event loop and asgiref's thread hop for two calls."""

    timeout: datetime.timedelta = dataclasses.field(default_factory=check_timeout, repr=False)

    def run(self):
        cache = cache_backend()
        key = f"{self.key_prefix}:{threading.get_ident()}"
        value = f"itworks-{time.time()}"
        cache.set(key, value, timeout=5)
        if cache.get(key) != value:
            raise ServiceUnavailable("The cache did not return what was stored")
        cache.delete(key)


@dataclasses.dataclass
class Redis(HealthCheck):
    """PING and INFO through the cache backend's own connection pool and circuit breaker.

    Ours rather than `health_check.contrib.redis.Redis`: that one builds a new client (and
    connection) on every run -- the fault of the system we replace -- and is async-only.
    """

    timeout: datetime.timedelta = dataclasses.field(default_factory=check_timeout, repr=False)
    detail: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def run(self):
        backend = cache_backend()
        if not isinstance(backend, ResilientRedisCache):
            self.detail["status"] = "not_configured"
            return
        backend.has_key("health:redis")  # through the breaker: reconnects when Redis is back
        state = backend.state
        if not state.connected and state.probe_lock.acquire(timeout=self.timeout.total_seconds()):
            # Another call (the cache check, say) was the one probing Redis: its outcome is
            # the answer. The probe is bounded by the socket timeout.
            state.probe_lock.release()
        if state.connected:
            try:
                self.detail.update(backend.redis_info())
            except REDIS_ERRORS as error:
                state.record_failure(error)
        self.detail.update(
            status="connected" if state.connected else "fallback",
            since=state.as_dict()["since"],
            reconnect_attempts=state.reconnect_attempts,
            last_error=state.last_error or None,
        )
        if not state.connected:
            raise ServiceWarning("Redis unavailable; using the in-process fallback")


@dataclasses.dataclass
class ProcessMemory(HealthCheck):
    """This worker's resident memory (for the dashboard; never fails)."""

    detail: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def run(self):
        info = psutil.Process().memory_info()
        self.detail.update(rss_bytes=info.rss, rss_mb=round(info.rss / 2**20, 1))


@dataclasses.dataclass
class SentryConfigured(HealthCheck):
    """Whether errors are reported to Sentry (information; an unset DSN is a choice)."""

    detail: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def run(self):
        self.detail.update(
            configured=bool(settings.SENTRY_DSN), environment=settings.SENTRY_ENVIRONMENT
        )


def disk_facts() -> dict:
    usage = psutil.disk_usage(str(settings.BASE_DIR))
    return {"percent": usage.percent, "free_gb": round(usage.free / 2**30, 1)}


def memory_facts() -> dict:
    memory = psutil.virtual_memory()
    return {"percent": memory.percent, "available_mb": round(memory.available / 2**20)}


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

    def __call__(self, request):
        if request.path_info in PROBE_PATHS:
            match = resolve(request.path_info)
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
