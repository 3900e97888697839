"""Request metrics: what is recorded, the histogram's percentiles, the cache store (Redis or the
in-process fallback), and two processes merging into one set of figures."""

import logging
import math
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from monitoring import metrics
from tests.monitoring.conftest import cache_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_recorder():
    metrics.recorder.reset()
    yield
    metrics.recorder.reset()


def exact_percentile(values, p):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def test_buckets_grow_by_a_fifth_from_1_ms_past_60_s():
    assert metrics.UPPER_BOUNDS_MS[0] == 1.0
    assert metrics.UPPER_BOUNDS_MS[-1] > 60_000 > metrics.UPPER_BOUNDS_MS[-2]
    assert metrics.BUCKET_COUNT == 63
    assert metrics.bucket_of(0.2) == 0
    assert metrics.bucket_of(1.0) == 0
    assert metrics.bucket_of(1.1) == 1
    assert metrics.bucket_of(1.2) == 1
    assert metrics.bucket_of(1.21) == 2
    assert metrics.bucket_of(10 * 60_000) == metrics.BUCKET_COUNT - 1


@pytest.mark.parametrize(
    "distribution",
    [
        pytest.param(lambda rng: rng.lognormvariate(math.log(40), 0.9), id="log-normal"),
        pytest.param(lambda rng: rng.uniform(1, 1000), id="uniform"),
    ],
)
def test_percentiles_match_a_known_distribution_within_one_bucket(distribution):
    rng = random.Random(2026)
    durations = [distribution(rng) for _ in range(1000)]
    aggregate = metrics.Aggregate()
    for duration in durations:
        aggregate.add(200, duration, 0)
    for p in (50, 95, 99):
        estimate = metrics.percentile(aggregate.histogram, p)
        true = exact_percentile(durations, p)
        assert abs(estimate - true) / true < 0.2, (p, estimate, true)
    assert aggregate.summary()["mean_ms"] == pytest.approx(sum(durations) / 1000, abs=0.01)


def test_histograms_from_several_processes_merge_into_the_histogram_of_all():
    rng = random.Random(7)
    durations = [rng.lognormvariate(math.log(80), 1.0) for _ in range(3000)]
    parts = [metrics.Aggregate() for _ in range(3)]
    for i, duration in enumerate(durations):
        parts[i % 3].add(200, duration, 0)
    merged = metrics.Aggregate()
    for part in parts:
        merged.merge(metrics.Aggregate.from_fields(part.as_fields()))  # through the cache form
    whole = metrics.Aggregate()
    for duration in durations:
        whole.add(200, duration, 0)
    assert merged.histogram == whole.histogram
    assert merged.count == 3000
    p95 = metrics.percentile(merged.histogram, 95)
    assert abs(p95 - exact_percentile(durations, 95)) / exact_percentile(durations, 95) < 0.2


@pytest.mark.urls("tests.monitoring.urls")
@pytest.mark.django_db
def test_requests_are_recorded_by_route_pattern_without_query_strings(client):
    client.get("/test/items/17/log/?phone=0788123456")
    client.get("/test/items/18/log/")
    client.get("/no/such/page/?token=s3cret")
    metrics.recorder.flush()

    endpoints = {
        f"{row['method']} {row['route']}": row for row in metrics.endpoint_rows(metrics.window(5))
    }
    assert endpoints["GET /test/items/<int:pk>/log/"]["count"] == 2
    assert endpoints["GET <unmatched>"]["count"] == 1
    assert endpoints["GET <unmatched>"]["errors_4xx"] == 1
    recent = metrics.recorder.recent_requests(10)
    assert [r["route"] for r in recent] == [
        "<unmatched>",
        "/test/items/<int:pk>/log/",
        "/test/items/<int:pk>/log/",
    ]
    assert recent[0]["status"] == 404
    assert recent[0]["request_id"]
    stored = repr(recent) + repr(metrics.read_counters([metrics.index_key(int(time.time() // 60))]))
    assert "0788123456" not in stored and "s3cret" not in stored and "/17/" not in stored


@pytest.mark.urls("tests.monitoring.urls")
@pytest.mark.django_db
def test_server_errors_and_client_errors_are_counted_apart(lenient_client):
    lenient_client.get("/test/boom/")
    lenient_client.get("/test/refuse/")
    lenient_client.get("/test/refuse/")
    total = metrics.totals(metrics.window(1))
    assert (total.count, total.server_errors, total.client_errors) == (3, 1, 2)


def test_the_recent_ring_keeps_the_last_1000_requests():
    for i in range(1005):
        metrics.recorder.record(
            route=f"/r/{i}", method="GET", status=200, duration_ms=1, mem_kb=0, request_id=str(i)
        )
    assert len(metrics.recorder.recent) == 1000
    latest = metrics.recorder.recent_requests(3)
    assert [r["request_id"] for r in latest] == ["1004", "1003", "1002"]


@pytest.mark.urls("tests.monitoring.urls")
def test_slow_requests_are_logged_with_route_duration_user_and_request_id(
    settings, captured_logs, admin_user
):
    settings.SLOW_REQUEST_WARNING_MS = 0
    settings.SLOW_REQUEST_ERROR_MS = 60_000
    client = Client()
    client.force_login(admin_user)
    response = client.get("/test/items/5/log/")
    (warning,) = captured_logs.named("vevurn.performance")
    assert warning.levelno == logging.WARNING
    assert warning.route == "/test/items/<int:pk>/log/"
    assert warning.duration >= 0
    assert warning.user == admin_user.pk
    assert warning.request_id == response["X-Request-ID"]

    settings.SLOW_REQUEST_ERROR_MS = 0
    Client().get("/test/items/5/log/")
    assert captured_logs.named("vevurn.performance")[-1].levelno == logging.ERROR


def test_fast_requests_are_not_logged_as_slow(client, db, captured_logs):
    client.get("/api/health/detailed")
    assert captured_logs.named("vevurn.performance") == []


def test_the_background_flush_writes_within_the_interval(settings, db):
    settings.METRICS_FLUSH_INTERVAL_SECONDS = 0
    Client().get("/no/such/page/")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = metrics.read_counters([metrics.index_key(int(time.time() // 60))])
        if found:
            break
        time.sleep(0.02)
    assert list(found.values()) == [{"GET <unmatched>": 1}]


def _stored_count(endpoint: str) -> int:
    """What the shared store holds for `endpoint` this minute and the last, read without
    flushing this process's recorder (as another instance would see it)."""
    minute = int(time.time() // 60)
    indexes = metrics.read_counters([metrics.index_key(m) for m in (minute - 1, minute)])
    return sum(index.get(endpoint, 0) for index in indexes.values())


def test_requests_made_just_before_the_process_goes_idle_are_flushed_without_another(settings, db):
    settings.METRICS_FLUSH_INTERVAL_SECONDS = 0.2
    client = Client()
    for _ in range(5):
        client.get("/no/such/page/")
    sent = time.monotonic()
    # Idle from here: no request arrives to wake the flush, yet the store gets all five (the
    # two-interval bound is checked against real workers in tests/deploy/test_scale_out.py).
    while _stored_count("GET <unmatched>") < 5 and time.monotonic() - sent < 5:
        time.sleep(0.02)
    assert _stored_count("GET <unmatched>") == 5


EXITING_WORKER = """
import sys, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
for _ in range(int(sys.argv[1])):
    Client().get("/no/such/page/")
# No flush here: the flush interval is an hour (tests.settings); the exit must write them.
"""


@pytest.mark.redis
def test_a_process_that_exits_writes_what_it_has_not_flushed_yet(redis_server, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "REDIS_URL": redis_server.url,
    }
    worker = subprocess.run(
        [sys.executable, "-c", EXITING_WORKER, "7"], cwd=ROOT, env=env, timeout=120, check=False
    )
    assert worker.returncode == 0
    with override_settings(CACHES=cache_config(redis_server.url)):
        stored = _stored_count("GET <unmatched>")
        caches["default"].clear()
    assert stored == 7


def test_a_flush_stuck_on_the_store_delays_no_request_bounds_memory_and_loses_nothing(
    settings, monkeypatch, db
):
    held, release = threading.Event(), threading.Event()
    store = metrics.merge_counters

    def hung_store(updates, timeout):  # like a Redis that accepts and never answers
        held.set()
        release.wait(10)
        store(updates, timeout)

    monkeypatch.setattr(metrics, "merge_counters", hung_store)
    monkeypatch.setattr(metrics, "MAX_PENDING", 20)
    settings.METRICS_FLUSH_INTERVAL_SECONDS = 0
    client = Client()
    try:
        client.get("/no/such/page/")
        assert held.wait(5)  # the flush thread now waits on the store
        durations = []
        for _ in range(50):
            started = time.monotonic()
            assert client.get("/no/such/page/").status_code == 404
            durations.append(time.monotonic() - started)
        assert max(durations) < 0.5  # no request waits for the flush thread
        # The requests the thread could not take were added up as they came: no more than
        # MAX_PENDING are kept one by one.
        assert len(metrics.recorder.pending) < 20
        assert sum(a.count for a in metrics.recorder.folded.values()) >= 40
    finally:
        release.set()
    settings.METRICS_FLUSH_INTERVAL_SECONDS = 3600
    assert metrics.totals(metrics.window(2)).count == 51  # waits for the stuck flush, then its own


def test_the_flush_interval_is_read_once_and_again_after_a_change(settings):
    settings.METRICS_FLUSH_INTERVAL_SECONDS = 3600
    assert metrics.recorder.flush_interval() == 3600
    assert metrics.recorder.interval == 3600
    settings.METRICS_FLUSH_INTERVAL_SECONDS = 5
    assert metrics.recorder.interval is None  # read again by the flush thread's next wait
    assert metrics.recorder.flush_interval() == 5


@pytest.mark.urls("tests.monitoring.urls")
def test_a_request_records_the_growth_of_the_peak_memory_since_the_previous_one(
    client, monkeypatch, db
):
    readings = iter([2000, 2000, 2600, 2500])  # KiB; the peak never falls, the reading may lag
    monkeypatch.setattr(metrics, "peak_rss_kb", lambda: next(readings))
    monkeypatch.setattr(metrics.peak_memory, "peak_kb", 2000)
    for _ in range(4):
        client.get("/test/items/1/log/")
    growth = [r["memory_delta_kb"] for r in reversed(metrics.recorder.recent_requests(4))]
    assert growth == [0, 0, 600, 0]
    assert metrics.peak_memory.peak_kb == 2600


@pytest.mark.redis
@pytest.mark.django_db
def test_metrics_live_in_redis_and_move_to_memory_while_it_is_down(redis_server, settings):
    with override_settings(CACHES=cache_config(redis_server.url)):
        client = Client()
        for _ in range(3):
            client.get("/no/such/page/")
        metrics.recorder.flush()
        assert metrics.store_name() == "redis"
        minute = int(time.time() // 60)
        keys = redis_server.client().keys(f"*metrics:{minute}:*")
        assert len(keys) == 2  # the minute's index and one endpoint
        ttl = redis_server.client().ttl(keys[0])
        assert (
            settings.METRICS_RETENTION_MINUTES * 60
            <= ttl
            <= settings.METRICS_RETENTION_MINUTES * 60 + 120
        )
        assert metrics.totals(metrics.window(2)).count == 3

        redis_server.kill()
        started = time.monotonic()
        for _ in range(4):
            assert client.get("/no/such/page/").status_code == 404
        metrics.recorder.flush()  # fails over to the in-process store, does not raise
        assert time.monotonic() - started < 2
        assert metrics.store_name() == "memory"
        assert metrics.totals(metrics.window(2)).count == 4  # since the outage, this process
        caches["default"].clear()


WORKER = """
import sys, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
from monitoring import metrics
client = Client()
requests, ip = int(sys.argv[1]), sys.argv[2]
for i in range(requests):
    client.get("/api/monitoring/performance", REMOTE_ADDR=ip)
    if i % 3 == 0:
        client.get("/no/such/page/", REMOTE_ADDR=ip)
print(metrics.recorder.flush(), flush=True)
"""


@pytest.mark.redis
@pytest.mark.django_db
def test_two_processes_sharing_redis_merge_into_the_right_totals(redis_server, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "REDIS_URL": redis_server.url,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(count), ip],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for count, ip in ((30, "10.1.0.1"), (21, "10.1.0.2"))
    ]
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        assert int(out) >= 1
    with override_settings(CACHES=cache_config(redis_server.url)):
        rows = {f"{r['method']} {r['route']}": r for r in metrics.endpoint_rows(metrics.window(5))}
        caches["default"].clear()
    performance = rows["GET /api/monitoring/performance"]
    assert performance["count"] == 51
    assert performance["errors_4xx"] == 51  # anonymous: 401
    assert rows["GET <unmatched>"]["count"] == 10 + 7
    assert performance["p50_ms"] is not None
