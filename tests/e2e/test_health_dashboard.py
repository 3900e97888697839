import pytest

from monitoring import metrics
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in_to_admin

pytestmark = pytest.mark.django_db(transaction=True)

# Looked at by a person after the run (the brief asks for a path under /tmp).
SCREENSHOT = "/tmp/vevurn-health-dashboard.png"  # noqa: S108


def test_staff_sees_the_health_dashboard(page, admin_user):
    metrics.recorder.reset()
    for duration in (12, 15, 40, 1500):  # one slow request among quick ones
        metrics.recorder.record(
            route="/api/v1/sales/",
            method="POST",
            status=201,
            duration_ms=duration,
            mem_kb=0,
            request_id=f"req-{duration}",
        )
    metrics.recorder.record(
        route="/api/v1/sales/<int:pk>/",
        method="GET",
        status=500,
        duration_ms=30,
        mem_kb=0,
        request_id="req-boom",
    )

    sign_in_to_admin(page, "boss")
    page.get_by_role("link", name="System health dashboard").click()

    page.get_by_role("heading", name="System health").wait_for()
    overall = page.locator(".overall").inner_text()
    assert "Healthy" in overall
    database = page.get_by_role("region", name="Database: OK")
    assert "critical" in database.inner_text()
    assert page.get_by_role("img", name="Requests per minute over the last hour").is_visible()
    assert page.get_by_role("img", name="P95 latency per minute over the last hour").is_visible()
    slowest = page.locator(".health-dashboard table").first.inner_text()
    assert "POST /api/v1/sales/" in slowest
    errors = page.locator(".health-dashboard table").nth(1).inner_text()
    assert "GET /api/v1/sales/<int:pk>/" in errors and "100 %" in errors
    assert "req-1500" in page.locator(".health-dashboard table").nth(2).inner_text()
    assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "30"
    page.set_viewport_size({"width": 1280, "height": 1800})
    page.screenshot(path=SCREENSHOT, full_page=True)
    metrics.recorder.reset()


def test_a_cashier_cannot_open_it(page, cashier):
    page.goto("/")
    page.get_by_label("Username").fill("cashier")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Welcome, Grace").wait_for()
    page.goto("/admin/health/")
    assert page.get_by_role("heading", name="System health").count() == 0
    assert "/admin/login/" in page.url
