"""Request metrics: recorded per request in process, flushed to the cache in batches, merged
across processes and instances by reading the cache.

What a request leaves: route pattern (never the raw path, query string, body or headers),
method, status, duration and peak-memory growth, with its request id.

Layout in the cache (counter hashes, see `merge_counters` in monitoring/cache.py), one set of
keys per UTC minute, expiring on their own after METRICS_RETENTION_MINUTES:

    metrics:{minute}:index              field "{method} {route}" -> requests
    metrics:{minute}:{method}%20{route} count, 3xx, 4xx, 5xx, sum_us, mem_kb, b0 .. b62

and the same figures added up since the keys were created (cumulative, for the OpenMetrics
export, monitoring/openmetrics.py), written in the same flush:

    metrics:total:index                 field "{method} {route}" -> requests
    metrics:total:{method}%20{route}    count, 3xx, 4xx, 5xx, sum_us, mem_kb, b0 .. b62

Latency is a histogram with fixed log-spaced buckets (bucket i holds durations in
(1.2^(i-1), 1.2^i] ms, bucket 0 up to 1 ms, the last one everything over ~67 s). Histograms from
any number of processes add up field by field, so percentiles stay right after merging.

Percentiles: nearest rank (rank = ceil(p/100 * n)) located in the merged histogram, then linear
interpolation inside that bucket. The answer is within one bucket (20 %) of the true value.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import resource
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from monitoring.cache import ResilientRedisCache

logger = logging.getLogger("vevurn.monitoring")
performance_logger = logging.getLogger("vevurn.performance")

GROWTH = 1.2
BUCKET_COUNT = 63  # upper bounds 1.2^0 .. 1.2^61 ms (1 ms .. 67.6 s) and an overflow bucket
UPPER_BOUNDS_MS = [GROWTH**i for i in range(BUCKET_COUNT - 1)]
LOG_GROWTH = math.log(GROWTH)
UNMATCHED = "<unmatched>"


def bucket_of(duration_ms: float) -> int:
    if duration_ms <= 1.0:
        return 0
    index = math.ceil(math.log(duration_ms) / LOG_GROWTH - 1e-9)
    return min(index, BUCKET_COUNT - 1)


def bucket_range(index: int) -> tuple[float, float]:
    """(lower, upper] of a bucket in ms; the overflow bucket reports its lower bound twice."""
    if index == 0:
        return 0.0, 1.0
    lower = UPPER_BOUNDS_MS[index - 1]
    upper = UPPER_BOUNDS_MS[index] if index < BUCKET_COUNT - 1 else lower
    return lower, upper


def percentile(histogram: dict[int, int], p: float) -> float | None:
    """The p-th percentile in ms from a {bucket: count} histogram (see the module docstring)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for index in sorted(histogram):
        count = histogram[index]
        if seen + count >= rank:
            lower, upper = bucket_range(index)
            return round(lower + (upper - lower) * (rank - seen) / count, 3)
        seen += count
    raise AssertionError("unreachable: rank <= total")


@dataclass
class Aggregate:
    """The figures of one endpoint in one minute; adds up across processes."""

    count: int = 0
    redirects: int = 0
    client_errors: int = 0
    server_errors: int = 0
    sum_us: int = 0
    mem_kb: int = 0
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, status: int, duration_ms: float, mem_kb: int) -> None:
        self.count += 1
        if 300 <= status < 400:
            self.redirects += 1
        elif 400 <= status < 500:
            self.client_errors += 1
        elif status >= 500:
            self.server_errors += 1
        self.sum_us += round(duration_ms * 1000)
        self.mem_kb += mem_kb
        index = bucket_of(duration_ms)
        self.histogram[index] = self.histogram.get(index, 0) + 1

    def merge(self, other: Aggregate) -> None:
        self.count += other.count
        self.redirects += other.redirects
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors
        self.sum_us += other.sum_us
        self.mem_kb += other.mem_kb
        for index, count in other.histogram.items():
            self.histogram[index] = self.histogram.get(index, 0) + count

    def as_fields(self) -> dict[str, int]:
        fields = {
            "count": self.count,
            "3xx": self.redirects,
            "4xx": self.client_errors,
            "5xx": self.server_errors,
            "sum_us": self.sum_us,
            "mem_kb": self.mem_kb,
        }
        fields.update({f"b{index}": count for index, count in self.histogram.items()})
        return fields

    @classmethod
    def from_fields(cls, fields: dict[str, int]) -> Aggregate:
        return cls(
            count=int(fields.get("count", 0)),
            redirects=int(fields.get("3xx", 0)),
            client_errors=int(fields.get("4xx", 0)),
            server_errors=int(fields.get("5xx", 0)),
            sum_us=int(fields.get("sum_us", 0)),
            mem_kb=int(fields.get("mem_kb", 0)),
            histogram={int(k[1:]): int(v) for k, v in fields.items() if k.startswith("b")},
        )

    def summary(self) -> dict:
        errors = self.client_errors + self.server_errors
        return {
            "count": self.count,
            "errors_4xx": self.client_errors,
            "errors_5xx": self.server_errors,
            "error_rate": round(errors / self.count, 4) if self.count else 0.0,
            "mean_ms": round(self.sum_us / self.count / 1000, 3) if self.count else None,
            "p50_ms": percentile(self.histogram, 50),
            "p95_ms": percentile(self.histogram, 95),
            "p99_ms": percentile(self.histogram, 99),
        }


# --- the per-process recorder -------------------------------------------------------------------


def index_key(minute: int) -> str:
    return f"metrics:{minute}:index"


def endpoint_key(minute: int, endpoint: str) -> str:
    # Percent-encoded (the space between method and route, above all): a valid key for any
    # cache backend, still readable in redis-cli.
    return f"metrics:{minute}:{quote(endpoint, safe='/<>:._-')}"


TOTAL_INDEX_KEY = "metrics:total:index"


def total_key(endpoint: str) -> str:
    return f"metrics:total:{quote(endpoint, safe='/<>:._-')}"


# What the request path leaves for one request: a tuple, the one allocation a request costs. The
# flush adds them up; the ring of recent requests keeps the same tuples.
RECENT_FIELDS = (
    "time",
    "method",
    "route",
    "status",
    "duration_ms",
    "memory_delta_kb",
    "request_id",
)
# Requests waiting for the flush thread; past this (the thread is late: a hung Redis, a long alert
# evaluation) the request that reaches it adds them up itself, so memory stays bounded.
MAX_PENDING = 10_000


def fold(requests: list[tuple], into: dict[tuple[int, str, str], Aggregate]) -> None:
    """Add recorded requests up per (minute, method, route)."""
    for when, method, route, status, duration_ms, mem_kb, _ in requests:
        key = (int(when // 60), method, route)
        aggregate = into.get(key)
        if aggregate is None:
            aggregate = into[key] = Aggregate()
        aggregate.add(status, duration_ms, mem_kb)


class Recorder:
    """Per-process recording, a flush to the cache at most once per interval, and the ring of
    recent requests.

    The request path only appends one tuple (under a lock, a fraction of a µs): to the requests
    waiting for the flush and to the ring. A background thread adds them up per minute and
    endpoint and writes them in one cache call, so a slow or dead Redis never delays a request;
    the cache backend's breaker bounds each flush."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: list[tuple] = []  # recorded since the last flush, not yet added up
        self.folded: dict[tuple[int, str, str], Aggregate] = {}  # added up, not yet written
        self.recent: deque[tuple] = deque(maxlen=1000)
        self.flush_lock = threading.Lock()
        self.start_lock = threading.Lock()
        # settings.METRICS_FLUSH_INTERVAL_SECONDS, read on first use and again after a change
        # (a settings read costs more than the rest of the check).
        self.interval: float | None = None
        self.wake = threading.Event()
        self.pid: int | None = None

    def record(
        self,
        *,
        route: str,
        method: str,
        status: int,
        duration_ms: float,
        mem_kb: int,
        request_id: str | None,
    ) -> None:
        item = (time.time(), method, route, status, duration_ms, mem_kb, request_id)
        with self.lock:
            self.pending.append(item)
            self.recent.append(item)
            if len(self.pending) >= MAX_PENDING:
                fold(self.pending, self.folded)
                self.pending = []
        if self.pid != os.getpid():
            self._ensure_flusher()

    def flush_interval(self) -> float:
        interval = self.interval
        if interval is None:
            interval = self.interval = settings.METRICS_FLUSH_INTERVAL_SECONDS
        return interval

    def _ensure_flusher(self) -> None:
        # One flusher thread per process, started after gunicorn has forked the worker.
        with self.start_lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
            threading.Thread(target=self._flush_loop, name="metrics-flush", daemon=True).start()

    def _flush_loop(self) -> None:
        """Flush every interval, whether or not requests arrive: what a worker recorded just
        before it went quiet reaches the shared store within one interval (and the worker's
        exit flushes the rest, see `flush_at_exit`)."""
        while True:
            # A floor, so that an interval of 0 (tests) does not spin.
            self.wake.wait(timeout=max(self.flush_interval(), 0.05))
            self.wake.clear()
            try:
                self.flush()
            except Exception:
                logger.exception("Could not flush request metrics")
            for hook in list(after_flush_hooks):
                try:
                    hook()
                except Exception:
                    logger.exception("A metrics after-flush hook failed")

    def flush(self) -> int:
        """Add up and write what this process has recorded since the last flush; returns how
        many endpoint-minutes were written."""
        with self.flush_lock:
            with self.lock:
                pending, self.pending = self.pending, []
                aggregates, self.folded = self.folded, {}
            fold(pending, aggregates)
            if not aggregates:
                return 0
            updates: dict[str, dict[str, int]] = {}
            for (minute, method, route), aggregate in aggregates.items():
                endpoint = f"{method} {route}"
                fields = aggregate.as_fields()
                updates[endpoint_key(minute, endpoint)] = fields
                index = updates.setdefault(index_key(minute), {})
                index[endpoint] = index.get(endpoint, 0) + aggregate.count
                total = updates.setdefault(total_key(endpoint), {})
                for name, amount in fields.items():
                    total[name] = total.get(name, 0) + amount
                total_index = updates.setdefault(TOTAL_INDEX_KEY, {})
                total_index[endpoint] = total_index.get(endpoint, 0) + aggregate.count
            merge_counters(updates, timeout=settings.METRICS_RETENTION_MINUTES * 60 + 120)
            return len(aggregates)

    def recent_requests(self, limit: int) -> list[dict]:
        with self.lock:
            items = list(self.recent)[-limit:] if limit else []
        requests = [dict(zip(RECENT_FIELDS, item, strict=True)) for item in reversed(items)]
        for request in requests:
            request["duration_ms"] = round(request["duration_ms"], 3)
        return requests

    def reset(self) -> None:
        with self.lock:
            self.pending = []
            self.folded = {}
            self.recent.clear()


recorder = Recorder()

# Called by the flush thread after each flush (the alerts register theirs: a lower module calls
# a higher one through this list, never by importing it).
after_flush_hooks: list = []


def flush_at_exit() -> None:
    """Write what this process recorded since its last flush; gunicorn's worker_exit hook and
    atexit call it, so that a worker that stops (max_requests, a deploy) loses nothing."""
    if recorder.pid != os.getpid():
        return  # nothing was recorded in this process (or only before a fork)
    try:
        recorder.flush()
    except Exception:
        logger.exception("Could not flush request metrics at exit")


atexit.register(flush_at_exit)


@receiver(setting_changed, dispatch_uid="vevurn-metrics-interval")
def _forget_interval(*, setting, **kwargs) -> None:
    if setting == "METRICS_FLUSH_INTERVAL_SECONDS":
        recorder.interval = None
        recorder.wake.set()  # the flush thread waits with the new interval from now on


_generic_lock = threading.Lock()


def merge_counters(updates: dict[str, dict[str, int]], timeout: int) -> None:
    """Through the backend's own operation when it has one (Redis pipeline, breaker-covered);
    else with get_many/set_many, which is exact for an in-process cache (LocMem)."""
    if hasattr(cache, "merge_counters"):
        cache.merge_counters(updates, timeout)
        return
    with _generic_lock:
        current = cache.get_many(list(updates))
        for key, fields in updates.items():
            counters = dict(current.get(key) or {})
            for name, amount in fields.items():
                counters[name] = counters.get(name, 0) + amount
            current[key] = counters
        cache.set_many(current, timeout=timeout)


def read_counters(keys: list[str]) -> dict[str, dict[str, int]]:
    if hasattr(cache, "read_counters"):
        return cache.read_counters(keys)
    return cache.get_many(keys)


def store_name() -> str:
    """Where the merged figures live now: "redis" (shared) or "memory" (this process only)."""
    from django.core.cache import caches

    backend = caches["default"]
    if isinstance(backend, ResilientRedisCache) and backend.state.connected:
        return "redis"
    return "memory"


# --- reading the merged figures -----------------------------------------------------------------


def window(minutes: int, *, now: float | None = None) -> dict[int, dict[str, Aggregate]]:
    """{minute: {endpoint: Aggregate}} for the last `minutes` minutes (this one included), as
    merged in the cache. Two round trips: the minute indexes, then the endpoint hashes."""
    recorder.flush()  # this process's last second too
    current = int((now or time.time()) // 60)
    minutes_list = list(range(current - minutes + 1, current + 1))
    indexes = read_counters([index_key(m) for m in minutes_list])
    keys = []
    for minute in minutes_list:
        for endpoint in indexes.get(index_key(minute), {}):
            keys.append((minute, endpoint))
    hashes = read_counters([endpoint_key(m, e) for m, e in keys]) if keys else {}
    found: dict[int, dict[str, Aggregate]] = {}
    for minute, endpoint in keys:
        fields = hashes.get(endpoint_key(minute, endpoint))
        if fields:
            found.setdefault(minute, {})[endpoint] = Aggregate.from_fields(fields)
    return found


def cumulative() -> dict[str, Aggregate]:
    """{endpoint: Aggregate} added up since the counters were created (they expire after
    METRICS_RETENTION_MINUTES without traffic, which a scraper sees as a counter reset)."""
    recorder.flush()
    endpoints = list(read_counters([TOTAL_INDEX_KEY]).get(TOTAL_INDEX_KEY, {}))
    hashes = read_counters([total_key(e) for e in endpoints]) if endpoints else {}
    return {
        endpoint: Aggregate.from_fields(hashes[total_key(endpoint)])
        for endpoint in endpoints
        if total_key(endpoint) in hashes
    }


def totals(per_minute: dict[int, dict[str, Aggregate]]) -> Aggregate:
    total = Aggregate()
    for endpoints in per_minute.values():
        for aggregate in endpoints.values():
            total.merge(aggregate)
    return total


def by_endpoint(per_minute: dict[int, dict[str, Aggregate]]) -> dict[str, Aggregate]:
    merged: dict[str, Aggregate] = {}
    for endpoints in per_minute.values():
        for endpoint, aggregate in endpoints.items():
            merged.setdefault(endpoint, Aggregate()).merge(aggregate)
    return merged


def endpoint_rows(per_minute: dict[int, dict[str, Aggregate]]) -> list[dict]:
    """Per endpoint figures, slowest (by P95, then mean) first."""
    rows = []
    for endpoint, aggregate in by_endpoint(per_minute).items():
        method, _, route = endpoint.partition(" ")
        rows.append({"method": method, "route": route, **aggregate.summary()})
    rows.sort(key=lambda row: (row["p95_ms"] or 0, row["mean_ms"] or 0), reverse=True)
    return rows


def series(per_minute: dict[int, dict[str, Aggregate]], minutes: int, *, now=None) -> list[dict]:
    """One point per minute, oldest first: requests and P95 (None when no requests)."""
    current = int((now or time.time()) // 60)
    points = []
    for minute in range(current - minutes + 1, current + 1):
        merged = Aggregate()
        for aggregate in per_minute.get(minute, {}).values():
            merged.merge(aggregate)
        points.append(
            {
                "minute": minute * 60,
                "requests": merged.count,
                "p95_ms": percentile(merged.histogram, 95),
            }
        )
    return points


def process_memory() -> dict:
    import psutil

    info = psutil.Process().memory_info()
    return {"rss_bytes": info.rss, "vms_bytes": info.vms, "pid": os.getpid()}


_RUSAGE = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)  # Linux only


def peak_rss_kb() -> int:
    # ru_maxrss is in KiB on Linux. One getrusage call (a syscall: 1-4 µs in a VM, the dearest
    # part of recording a request), where psutil's RSS read costs about 20 µs. RUSAGE_THREAD:
    # the same figure on Linux (the process's peak RSS, its memory map's high-water mark)
    # without adding up the CPU times of every thread of the process, as RUSAGE_SELF does.
    return resource.getrusage(_RUSAGE).ru_maxrss


class PeakMemory:
    """The growth of the process's peak memory since the previous reading, read once per
    request, after it (usually 0; a request that raises the peak shows by how much).

    In a sync worker that is the growth during the request (from the previous request's end,
    gunicorn's reading of this one included), as a before/after pair would measure it at twice
    the syscalls. With threads, growth while requests overlap counts once, for the first of them
    to finish, where a pair would count it for each; over a worker's requests the growths add
    up to its peak's growth since it started."""

    def __init__(self):
        self.peak_kb = peak_rss_kb()

    def restart(self) -> None:
        self.peak_kb = peak_rss_kb()

    def growth_kb(self) -> int:
        peak = peak_rss_kb()
        grown = peak - self.peak_kb
        if grown <= 0:
            return 0
        self.peak_kb = peak
        return grown


peak_memory = PeakMemory()
os.register_at_fork(after_in_child=peak_memory.restart)  # a gunicorn worker starts from its own


# --- the middleware -----------------------------------------------------------------------------


class RequestMetricsMiddleware:
    """Times every request that reaches it and records it in the process's recorder. Placed
    right after RequestIdMiddleware; the probe paths are answered before it (they would
    otherwise dominate an idle shop's figures)."""

    def __init__(self, get_response):
        from monitoring.middleware import route_of

        self.get_response = get_response
        self.route_of = route_of
        self.enabled = settings.METRICS_ENABLED
        self.warning_ms = settings.SLOW_REQUEST_WARNING_MS
        self.error_ms = settings.SLOW_REQUEST_ERROR_MS

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        route = self.route_of(request) or UNMATCHED
        request_id = getattr(request, "request_id", None)
        try:
            recorder.record(
                route=route,
                method=request.method,
                status=response.status_code,
                duration_ms=duration_ms,
                mem_kb=peak_memory.growth_kb(),
                request_id=request_id,
            )
        except Exception:  # metrics must never fail a request
            logger.exception("Could not record request metrics")
        if duration_ms > self.warning_ms:
            self.log_slow(request, route, duration_ms, request_id)
        return response

    def log_slow(self, request, route: str, duration_ms: float, request_id) -> None:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        level = logging.ERROR if duration_ms > self.error_ms else logging.WARNING
        performance_logger.log(
            level,
            "Slow request: %s %s took %.0f ms",
            request.method,
            route,
            duration_ms,
            extra={
                # the JSON log line's own fields (monitoring/logging.py)
                "route": route,
                "duration": round(duration_ms, 1),
                "user": user_id,
                "request_id": request_id,
            },
        )
