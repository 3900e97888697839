"""GET /api/monitoring/metrics: who may scrape it, and what a Prometheus-compatible scraper
reads there (parsed with prometheus_client's own parsers, as a scraper would)."""

from decimal import Decimal

import pytest
from django.test import Client, override_settings
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from monitoring import metrics, openmetrics

pytestmark = pytest.mark.django_db

URL = "/api/monitoring/metrics"
TOKEN = "scrape-token-for-tests"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@pytest.fixture(autouse=True)
def fresh_recorder():
    metrics.recorder.reset()
    yield
    metrics.recorder.reset()


def record(route, durations, status=200, method="GET"):
    for duration in durations:
        metrics.recorder.record(
            route=route, method=method, status=status, duration_ms=duration, mem_kb=0,
            request_id="r",
        )  # fmt: skip


def scrape(accept="") -> str:
    with override_settings(MONITORING_API_TOKEN=TOKEN):
        response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    return response


def samples(text: str, parser=parse_text) -> dict:
    """{(sample name, frozenset(labels)): value} for every sample in the exposition."""
    found = {}
    for family in parser(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def test_anonymous_401_cashier_403_staff_and_token_200(cashier, manager):
    assert Client().get(URL).status_code == 401
    till = Client()
    till.force_login(cashier)
    assert till.get(URL).status_code == 403
    office = Client()
    office.force_login(manager)
    assert office.get(URL).status_code == 200
    assert scrape().status_code == 200


def test_a_configured_scraper_ip_needs_no_token():
    with override_settings(METRICS_SCRAPER_IPS=["10.0.0.0/8"]):
        assert Client(REMOTE_ADDR="10.1.2.3").get(URL).status_code == 200
        assert Client(REMOTE_ADDR="192.168.1.9").get(URL).status_code == 401
    # Behind a trusted proxy the scraper is the forwarded client, not the proxy.
    with override_settings(METRICS_SCRAPER_IPS=["10.1.2.3"], TRUSTED_PROXIES=["172.16.0.1"]):
        proxied = Client(REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
        assert proxied.get(URL).status_code == 200
        spoofed = Client(REMOTE_ADDR="172.16.0.9", HTTP_X_FORWARDED_FOR="10.1.2.3")
        assert spoofed.get(URL).status_code == 401


def test_request_counts_by_status_class_and_latency_histogram():
    record("/api/v1/sales/", [10] * 90 + [3000] * 10)
    record("/api/v1/sales/", [20] * 4, status=302)
    record("/api/v1/sales/", [20] * 3, status=404)
    record("/api/v1/sales/", [30] * 2, status=500)
    response = scrape()
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(response.content.decode())

    def requests(status_class):
        labels = {"method": "GET", "route": "/api/v1/sales/", "status_class": status_class}
        return found[("vevurn_http_requests_total", frozenset(labels.items()))]

    assert [requests(c) for c in ("2xx", "3xx", "4xx", "5xx")] == [100, 4, 3, 2]
    endpoint = {"method": "GET", "route": "/api/v1/sales/"}

    def bucket(le):
        labels = frozenset({**endpoint, "le": le}.items())
        return found[("vevurn_http_request_duration_seconds_bucket", labels)]

    assert openmetrics.le(16) == "0.0184884"  # 1.2^16 ms
    # Cumulative: 90 at 10 ms (bucket bound 1.2^16 ms = 18.5 ms), 99 at 1.2^20 ms = 38 ms
    # (4 x 20 ms 302s, 3 x 20 ms 404s, 2 x 30 ms 500s), all 109 by 1.2^44 ms = 3.0 s.
    assert bucket(openmetrics.le(16)) == 90
    assert bucket(openmetrics.le(20)) == 99
    assert bucket(openmetrics.le(40)) == 99  # 1.47 s: the 3 s requests are not in yet
    assert bucket(openmetrics.le(44)) == 109
    assert bucket("+Inf") == 109
    total = found[("vevurn_http_request_duration_seconds_count", frozenset(endpoint.items()))]
    assert total == 109
    seconds = found[("vevurn_http_request_duration_seconds_sum", frozenset(endpoint.items()))]
    assert seconds == pytest.approx((900 + 30000 + 80 + 60 + 60) / 1000)


def test_the_export_is_the_cluster_wide_merge():
    """Another instance's flush lands in the same counters; every instance exports the sum."""
    record("/pos/", [10] * 5)
    metrics.recorder.flush()
    other_instance = metrics.Aggregate()
    for _ in range(7):
        other_instance.add(500, 50.0, 0)
    metrics.merge_counters(
        {
            metrics.total_key("GET /pos/"): other_instance.as_fields(),
            metrics.TOTAL_INDEX_KEY: {"GET /pos/": 7},
        },
        timeout=600,
    )
    found = samples(scrape().content.decode())
    labels = {"method": "GET", "route": "/pos/"}
    count = found[("vevurn_http_request_duration_seconds_count", frozenset(labels.items()))]
    assert count == 12
    five = frozenset({**labels, "status_class": "5xx"}.items())
    assert found[("vevurn_http_requests_total", five)] == 7


def test_window_figures_health_redis_and_process_memory():
    record("/api/v1/products/", [100] * 19 + [2500], status=200)
    record("/api/v1/products/", [100] * 5, status=500)
    found = samples(scrape().content.decode())
    window = frozenset({"window": "5m"}.items())
    assert found[("vevurn_http_window_requests", window)] == 25
    assert found[("vevurn_http_server_error_ratio", window)] == pytest.approx(0.2)
    assert found[("vevurn_http_request_duration_p95_seconds", window)] == pytest.approx(
        0.1, rel=0.2
    )
    database_ok = frozenset({"check": "database", "vevurn_health_check": "ok"}.items())
    assert found[("vevurn_health_check", database_ok)] == 1
    database_failed = frozenset({"check": "database", "vevurn_health_check": "failed"}.items())
    assert found[("vevurn_health_check", database_failed)] == 0
    assert (
        found[("vevurn_health_check_duration_seconds", frozenset({"check": "database"}.items()))]
        >= 0
    )
    assert found[("vevurn_healthy", frozenset())] == 1
    assert found[("vevurn_redis_fallback", frozenset())] == 0
    assert found[("vevurn_redis_fallback_seconds", frozenset())] == 0
    assert found[("process_resident_memory_bytes", frozenset())] > 10_000_000


def test_sales_today_count_and_value(sell, make_product):
    product = make_product(stock=10, reorder_level=8)
    sell((product, 1))
    sell((product, 2))
    found = samples(scrape().content.decode())
    assert found[("vevurn_sales_today", frozenset())] == 2
    value = found[("vevurn_sales_today_value", frozenset({"currency": "RWF"}.items()))]
    assert Decimal(str(value)) == 3 * product.retail_price
    assert found[("vevurn_low_stock_products", frozenset())] == 1  # 7 left, reorder at 8


def test_openmetrics_on_request():
    record("/pos/", [10, 20, 30])
    response = scrape(accept=OPENMETRICS)
    assert response["Content-Type"].startswith("application/openmetrics-text")
    text = response.content.decode()
    assert text.endswith("# EOF\n")
    found = samples(text, parse_openmetrics)
    labels = frozenset({"method": "GET", "route": "/pos/", "status_class": "2xx"}.items())
    assert found[("vevurn_http_requests_total", labels)] == 3
