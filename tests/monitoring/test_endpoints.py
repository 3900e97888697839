"""The monitoring endpoints: who may read them, what they say, and how they refuse bad input."""

import time

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from monitoring import metrics
from tests.monitoring.conftest import cache_config

pytestmark = pytest.mark.django_db

URLS = [
    "/api/monitoring/performance",
    "/api/monitoring/performance/recent",
    "/api/monitoring/endpoints",
    "/api/monitoring/redis",
    "/api/health/detailed",
]


@pytest.fixture(autouse=True)
def fresh_recorder():
    metrics.recorder.reset()
    yield
    metrics.recorder.reset()


@pytest.fixture
def staff(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def record(route, durations, status=200, method="GET"):
    for duration in durations:
        metrics.recorder.record(
            route=route,
            method=method,
            status=status,
            duration_ms=duration,
            mem_kb=0,
            request_id="r",
        )


@pytest.mark.parametrize("url", URLS)
def test_access_anonymous_401_cashier_403_staff_200(url, cashier, manager):
    anonymous = Client().get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    till = Client()
    till.force_login(cashier)
    refused = till.get(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    office = Client()
    office.force_login(manager)
    assert office.get(url).status_code == 200


def test_performance_totals_percentiles_and_error_rate(staff):
    record("/api/v1/sales/", [10] * 90 + [400] * 10)
    record("/api/v1/sales/<int:pk>/", [20] * 9, status=404)
    record("/api/v1/sales/<int:pk>/", [30], status=500)
    body = staff.get("/api/monitoring/performance?minutes=60").json()
    # The staff request itself is recorded after it answers: not in its own figures.
    assert body["count"] == 110
    assert (body["errors_4xx"], body["errors_5xx"]) == (9, 1)
    assert body["error_rate"] == pytest.approx(10 / 110, abs=1e-4)
    assert body["p50_ms"] == pytest.approx(10, rel=0.2)
    assert body["p95_ms"] == pytest.approx(400, rel=0.2)
    assert body["requests_per_minute"] == pytest.approx(110 / 60, abs=0.01)
    assert body["minutes"] == 60
    assert body["store"] in ("redis", "memory")
    assert body["process_memory"]["rss_bytes"] > 0


def test_endpoints_are_sorted_slowest_first(staff):
    record("/fast/", [2] * 50)
    record("/slow/", [900] * 5)
    record("/medium/", [40] * 20, method="POST")
    rows = staff.get("/api/monitoring/endpoints").json()["endpoints"]
    assert [(r["method"], r["route"]) for r in rows][:3] == [
        ("GET", "/slow/"),
        ("POST", "/medium/"),
        ("GET", "/fast/"),
    ]
    slow = rows[0]
    assert slow["count"] == 5
    assert slow["mean_ms"] == 900
    assert slow["p99_ms"] == pytest.approx(900, rel=0.2)


def test_recent_is_latest_first_and_bounded_by_limit(staff):
    for i in range(5):
        metrics.recorder.record(
            route="/r/", method="GET", status=200, duration_ms=1, mem_kb=0, request_id=f"id{i}"
        )
    body = staff.get("/api/monitoring/performance/recent?limit=2").json()
    assert [r["request_id"] for r in body["requests"]] == ["id4", "id3"]
    assert set(body["requests"][0]) == {
        "time",
        "method",
        "route",
        "status",
        "duration_ms",
        "memory_delta_kb",
        "request_id",
    }


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1001", "2.5"])
def test_a_bad_limit_is_a_400_naming_the_field(staff, value):
    response = staff.get(f"/api/monitoring/performance/recent?limit={value}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"limit": ["Must be a whole number from 1 to 1000."]}


@pytest.mark.parametrize("url", ["/api/monitoring/performance", "/api/monitoring/endpoints"])
def test_a_bad_window_is_a_400_naming_minutes(staff, url):
    response = staff.get(f"{url}?minutes=100000")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["minutes"]


def test_redis_without_redis_says_so(staff, settings):
    if settings.REDIS_URL:
        pytest.skip("this run has REDIS_URL")
    body = staff.get("/api/monitoring/redis").json()
    assert body["status"] == "not_configured"
    assert body["store"] == "memory"


@pytest.mark.redis
def test_redis_says_what_runs_on_the_fallback(redis_server, staff):
    with override_settings(CACHES=cache_config(redis_server.url, BACKOFF_MAX=0.5)):
        body = staff.get("/api/monitoring/redis").json()
        assert (body["status"], body["on_fallback"], body["store"]) == ("connected", [], "redis")
        redis_server.kill()
        staff.get("/no/such/page/")  # any request: the session, limits or metrics notice
        metrics.recorder.flush()
        body = staff.get("/api/monitoring/redis").json()
        assert body["status"] == "fallback"
        assert body["on_fallback"] == ["cache", "rate_limiting", "metrics"]
        assert staff.get("/api/monitoring/performance").json()["store"] == "memory"
        redis_server.start()
        time.sleep(0.6)
        staff.get("/no/such/page/")
        body = staff.get("/api/monitoring/redis").json()
        assert (body["status"], body["on_fallback"]) == ("connected", [])
        caches["default"].clear()


def test_the_admin_health_dashboard_is_for_staff_only(cashier, staff):
    anonymous = Client().get("/admin/health/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    till = Client()
    till.force_login(cashier)
    assert till.get("/admin/health/")["Location"].startswith("/admin/login/")
    index = staff.get("/admin/")
    assert b'href="/admin/health/"' in index.content
    record("/api/v1/sales/", [1500])
    page = staff.get("/admin/health/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "✓ Healthy" in text
    assert '<meta http-equiv="refresh" content="30">' in text
    assert "<polyline" in text  # server-side SVG charts
    assert 'src="http' not in text and 'href="http' not in text  # nothing from a CDN
    assert "GET /api/v1/sales/" in text


@pytest.mark.parametrize("url", URLS)
def test_the_monitoring_token_reads_but_a_wrong_one_does_not(url, settings):
    settings.MONITORING_API_TOKEN = "monitor-token-0123456789"
    good = Client(HTTP_AUTHORIZATION="Bearer monitor-token-0123456789")
    assert good.get(url).status_code == 200
    assert Client(HTTP_AUTHORIZATION="Bearer monitor-token-x").get(url).status_code == 401
    settings.MONITORING_API_TOKEN = ""
    assert Client(HTTP_AUTHORIZATION="Bearer ").get(url).status_code == 401
