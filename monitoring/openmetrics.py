"""GET /api/monitoring/metrics: the figures in the Prometheus text format (or OpenMetrics when
the scraper asks for it), for Prometheus, Grafana Agent, Datadog, New Relic and the like.

prometheus_client writes the format; the numbers are ours. Request counts and latency
histograms come from the cluster-wide counters in the cache (monitoring/metrics.py), so every
instance exports the same merged truth, never its own process's share: scrape one instance (or
the load balancer) and do not `sum()` across instances. Health, Redis and process memory are
the answering instance's own (label `instance`, added by the scraper, tells them apart).

Our own registry, never prometheus_client's global one: nothing is recorded through it, it only
renders what `ClusterCollector.collect()` reads at scrape time.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    StateSetMetricFamily,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from monitoring import metrics
from monitoring import registry as registered
from monitoring.access import staff_json
from monitoring.cache import redis_status
from monitoring.client_ip import client_ip, is_trusted_proxy, networks

HEALTH_STATES = ("ok", "warning", "failed", "skipped")
# Every 4th of the 63 log buckets (x1.2^4, about x2.07: 1 ms, 2.1 ms, 4.3 ms ... 56 s): exact
# cumulative counts at these bounds, 16 series per endpoint instead of 63.
EXPORTED_BUCKETS = list(range(0, metrics.BUCKET_COUNT - 1, 4))


def le(index: int) -> str:
    """A bucket's upper bound in seconds, to 6 significant digits ("0.0185" for 1.2^16 ms)."""
    return f"{metrics.UPPER_BOUNDS_MS[index] / 1000:.6g}"


def request_families(cumulative: dict[str, metrics.Aggregate]):
    requests = CounterMetricFamily(
        "vevurn_http_requests",
        "HTTP requests answered, by endpoint (route pattern) and status class; cluster-wide.",
        labels=["method", "route", "status_class"],
    )
    duration = HistogramMetricFamily(
        "vevurn_http_request_duration_seconds",
        "HTTP request duration by endpoint (route pattern); cluster-wide.",
        labels=["method", "route"],
    )
    for endpoint, aggregate in sorted(cumulative.items()):
        method, _, route = endpoint.partition(" ")
        successes = (
            aggregate.count
            - aggregate.redirects
            - aggregate.client_errors
            - aggregate.server_errors
        )
        for status_class, value in (
            ("2xx", successes),
            ("3xx", aggregate.redirects),
            ("4xx", aggregate.client_errors),
            ("5xx", aggregate.server_errors),
        ):
            requests.add_metric([method, route, status_class], value)
        buckets, seen, exported = [], 0, iter(EXPORTED_BUCKETS)
        bound = next(exported)
        for index in range(metrics.BUCKET_COUNT - 1):
            seen += aggregate.histogram.get(index, 0)
            if index == bound:
                buckets.append((le(index), seen))
                bound = next(exported, None)
        buckets.append(("+Inf", aggregate.count))
        duration.add_metric([method, route], buckets, aggregate.sum_us / 1_000_000)
    yield requests
    yield duration


def window_families():
    """The same window figures the alert rules read, for monitors that cannot compute quantiles
    from a histogram."""
    from monitoring.alert_rules import window_figures

    minutes = settings.ALERT_WINDOW_MINUTES
    figures = window_figures(minutes)
    window = f"{minutes}m"
    p95 = GaugeMetricFamily(
        "vevurn_http_request_duration_p95_seconds",
        "P95 request duration over the recent window, all endpoints; cluster-wide.",
        labels=["window"],
    )
    p95.add_metric([window], (figures["p95_ms"] or 0) / 1000)
    errors = GaugeMetricFamily(
        "vevurn_http_server_error_ratio",
        "Share of requests answered with a 5xx over the recent window; cluster-wide.",
        labels=["window"],
    )
    errors.add_metric([window], figures["server_error_ratio"])
    count = GaugeMetricFamily(
        "vevurn_http_window_requests",
        "Requests answered over the recent window; cluster-wide.",
        labels=["window"],
    )
    count.add_metric([window], figures["count"])
    return [p95, errors, count]


def health_families():
    from monitoring.health import detailed_probes, overall, run_probes

    results = run_probes(detailed_probes())
    state = StateSetMetricFamily(
        "vevurn_health_check", "State of each health check on this instance.", labels=["check"]
    )
    latency = GaugeMetricFamily(
        "vevurn_health_check_duration_seconds",
        "How long each health check took on this instance.",
        labels=["check"],
    )
    for result in results:
        state.add_metric([result.name], {name: result.status == name for name in HEALTH_STATES})
        latency.add_metric([result.name], result.response_time_ms / 1000)
    healthy = GaugeMetricFamily(
        "vevurn_healthy",
        "1 when every critical check passes (ready), 0 when the instance is unhealthy.",
    )
    healthy.add_metric([], 0 if overall(results) == "unhealthy" else 1)
    return [state, latency, healthy]


def redis_families():
    status = redis_status()
    configured = status["status"] != "not_configured"
    on_fallback = status["status"] == "fallback"
    families = []

    def gauge(name, documentation, value):
        family = GaugeMetricFamily(name, documentation)
        family.add_metric([], value)
        families.append(family)

    gauge("vevurn_redis_configured", "1 when REDIS_URL is set.", int(configured))
    gauge(
        "vevurn_redis_fallback",
        "1 while this instance uses the in-process fallback instead of Redis.",
        int(on_fallback),
    )
    since = status.get("since")
    fallback_seconds = 0.0
    if on_fallback and since:
        fallback_seconds = time.time() - _timestamp(since)
    gauge(
        "vevurn_redis_fallback_seconds",
        "How long this instance has been on the fallback (0 when connected).",
        max(0.0, fallback_seconds),
    )
    if configured:
        gauge(
            "vevurn_redis_fallback_entries",
            "Entries held in this instance's fallback store.",
            status["fallback"]["entries"],
        )
        gauge(
            "vevurn_redis_reconnect_attempts",
            "Reconnect attempts since the current outage began.",
            status["reconnect_attempts"],
        )
    if status.get("info"):
        gauge(
            "vevurn_redis_ping_seconds", "Redis PING round trip.", status["info"]["ping_ms"] / 1000
        )
    return families


def _timestamp(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def jobs_families():
    """The background jobs (jobs/): the queue in the database, and who is alive."""
    from jobs import health as jobs

    now = timezone.now()
    queue = jobs.queue_figures(now)
    families = []
    for name, key, documentation in (
        ("vevurn_jobs_queued", "queued", "Jobs ready to run, waiting for a worker."),
        ("vevurn_jobs_waiting_retry", "waiting_retry", "Jobs waiting for their retry back-off."),
        ("vevurn_jobs_running", "running", "Jobs a worker is running."),
        ("vevurn_jobs_failed", "failed", "Jobs that failed for good (listed in the admin)."),
        (
            "vevurn_jobs_oldest_queued_seconds",
            "oldest_queued_seconds",
            "Age of the oldest job ready to run (0 when none waits).",
        ),
    ):
        family = GaugeMetricFamily(name, documentation)
        family.add_metric([], queue[key])
        families.append(family)
    alive = GaugeMetricFamily(
        "vevurn_job_processes_alive",
        "Worker and scheduler processes with a fresh heartbeat.",
        labels=["kind"],
    )
    for kind in ("worker", "scheduler"):
        alive.add_metric([kind], jobs.process_status(kind, now)["alive"])
    families.append(alive)
    last_success = GaugeMetricFamily(
        "vevurn_job_last_success_timestamp_seconds",
        "When each periodic job last succeeded (Unix time; absent until it has).",
        labels=["job"],
    )
    for row in jobs.job_rows(now):
        if row["last_success"]:
            last_success.add_metric([row["name"]], _timestamp(row["last_success"]))
    families.append(last_success)
    return families


class ClusterCollector(Collector):
    def collect(self):
        yield from request_families(metrics.cumulative())
        yield from window_families()
        yield from health_families()
        yield from redis_families()
        yield from jobs_families()
        for families in registered.metric_families:  # the shop's own (pos/monitoring.py)
            yield from families()


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector())
    # The answering process's memory, CPU and file descriptors (process_resident_memory_bytes…).
    ProcessCollector(registry=registry)
    return registry


registry = build_registry()


# --- the view -----------------------------------------------------------------------------------


def from_scraper(request) -> bool:
    """The client IP (TRUSTED_PROXIES-aware) is in METRICS_SCRAPER_IPS."""
    scrapers = networks(settings.METRICS_SCRAPER_IPS)
    return bool(scrapers) and is_trusted_proxy(client_ip(request), scrapers)


def scraper_or_staff(view):
    staff_view = staff_json(view)

    def wrapped(request, *args, **kwargs):
        if from_scraper(request):
            return view(request, *args, **kwargs)
        return staff_view(request, *args, **kwargs)

    return wrapped


@never_cache
@require_GET
@scraper_or_staff
def metrics_view(request):
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(registry), content_type=content_type)
