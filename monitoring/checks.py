"""The health checks: django-health-check 4.x `HealthCheck` classes, each doing one thing.

Stock classes where they fit (`health_check.contrib.psutil` Disk and Memory are used as they
are); ours where the stock one does something wrong for us, each saying why. Checks that need
the database run on the request's own thread and connection, with timeouts set on the
connection; monitoring/health.py runs the others in a thread pool with a deadline.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import math
import os
import sqlite3
import threading
import time
from contextlib import contextmanager

import psutil
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from health_check import checks as stock
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from monitoring.cache import REDIS_ERRORS, ResilientRedisCache

logger = logging.getLogger("vevurn.health")


def check_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.HEALTH_CHECK_TIMEOUT_SECONDS)


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


class Watchdog:
    """One thread per process that runs an action when its deadline passes, unless disarmed
    first. Arming and disarming cost a lock and a notify (a few µs), where a threading.Timer
    per probe costs a thread start (~100-250 µs measured here)."""

    def __init__(self):
        self.condition = threading.Condition()
        self.armed: dict[object, tuple[float, object]] = {}
        self.pid: int | None = None

    def arm(self, seconds: float, action) -> object:
        token = object()
        with self.condition:
            if self.pid != os.getpid():  # first use in this (possibly forked) process
                self.pid = os.getpid()
                threading.Thread(target=self._loop, name="health-watchdog", daemon=True).start()
            self.armed[token] = (time.monotonic() + seconds, action)
            self.condition.notify()
        return token

    def disarm(self, token: object) -> None:
        with self.condition:
            self.armed.pop(token, None)

    def _loop(self) -> None:
        while True:
            with self.condition:
                now = time.monotonic()
                due = [token for token, (deadline, _) in self.armed.items() if deadline <= now]
                actions = [self.armed.pop(token)[1] for token in due]
                if not actions:
                    deadlines = [deadline for deadline, _ in self.armed.values()]
                    self.condition.wait(min(deadlines) - now if deadlines else None)
                    continue
            for action in actions:  # outside the lock: an action may block for a while
                try:
                    action()
                except Exception:
                    logger.warning("Health watchdog action failed", exc_info=True)


watchdog = Watchdog()


@contextmanager
def bounded_query(connection, seconds: float):
    """PostgreSQL: the watchdog cancels the statement (server side) when it runs past
    `seconds`. SQLite is a local file: SELECT 1 takes no lock and cannot hang on a peer."""
    raw = connection.connection
    if connection.vendor != "postgresql" or raw is None:
        yield
        return
    token = watchdog.arm(seconds, lambda: raw.cancel_safe(timeout=seconds))
    try:
        yield
    finally:
        watchdog.disarm(token)


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


@dataclasses.dataclass
class JobProcess(HealthCheck):
    """A background worker or scheduler (jobs/) has a fresh heartbeat. Down when the last one is
    older than three intervals; nothing is expected when jobs run in-process (immediate)."""

    kind: str = "worker"  # or "scheduler"
    detail: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def run(self):
        from django.utils import timezone

        from jobs import health as jobs

        if not jobs.needs_worker():
            self.detail["mode"] = "immediate: jobs run in the process that enqueues them"
            return
        now = timezone.now()
        state = jobs.process_status(self.kind, now)
        self.detail.update(state)
        if self.kind == "worker":
            self.detail["queue"] = jobs.queue_figures(now)
        else:
            self.detail["schedule"] = jobs.job_rows(now)
        if state["status"] == jobs.DOWN:
            raise ServiceUnavailable(
                f"{self.kind} down: last heartbeat {state['seconds_since']} s ago"
            )
        if state["status"] == jobs.NEVER:
            raise ServiceUnavailable(f"no {self.kind} has run yet")


def disk_facts() -> dict:
    usage = psutil.disk_usage(str(settings.BASE_DIR))
    return {"percent": usage.percent, "free_gb": round(usage.free / 2**30, 1)}


def memory_facts() -> dict:
    memory = psutil.virtual_memory()
    return {"percent": memory.percent, "available_mb": round(memory.available / 2**20)}
