"""A manager signs in, opens the reports dashboard, the sales report and the profit report."""

from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.browser import full_page_shot

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture
def shop_with_sales(cashier, manager):
    """Three sales rung up through the checkout service on an open shift."""
    import uuid
    from decimal import Decimal as D

    from pos.models import Category, Register
    from pos.services.catalogue import create_product
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.shifts import open_shift

    def product(name, sku, category, cost, retail):
        return create_product(
            initial_stock=40, name=name, sku=sku, category=category, cost_price=D(cost),
            retail_price=D(retail), minimum_price=D(retail) - 1000, reorder_level=2,
        )  # fmt: skip

    charger = product("Oraimo 20W charger", "OR-20W", Category.objects.create(name="Chargers"),
                      6000, 12000)  # fmt: skip
    case = product("iPhone 15 clear case", "IP15-CC", Category.objects.create(name="Cases"),
                   2000, 5900)  # fmt: skip
    register = Register.objects.create(code="R1", name="Till 1")
    shift = open_shift(register=register, cashier=cashier, opening_float=D(20000))
    for lines in ([(charger, 2)], [(charger, 1), (case, 3)], [(case, 1)]):
        checkout(
            shift=shift,
            cashier=cashier,
            cart=Cart([CartLine(p.pk, n) for p, n in lines]),
            tenders=[TenderLine("cash", D(100000))],
            idempotency_key=uuid.uuid4(),
        )
    return charger, case


def shot(page, name: str) -> None:
    full_page_shot(page, SCREENSHOTS / f"reports-{name}.png")


def test_manager_reads_the_dashboard_and_two_reports(page, shop_with_sales):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Reports").click()

    page.get_by_role("heading", level=1, name="Today").wait_for()
    # 2 × 12,000 + 12,000 + 3 × 5,900 + 5,900 = 59,600
    assert "59,600 RWF" in page.locator(".cards").inner_text()
    assert page.locator("svg.chart").count() == 2
    shot(page, "dashboard")

    page.get_by_role("link", name="Sales", exact=True).click()
    page.get_by_label("Break down by").select_option("category")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name="By category").wait_for()
    breakdown = page.locator("#breakdown").inner_text()
    assert "Chargers" in breakdown and "Cases" in breakdown
    shot(page, "sales")

    page.get_by_role("link", name="Profit", exact=True).click()
    page.get_by_role("heading", name="Profit by product").wait_for()
    with page.expect_download() as download:
        page.locator("#profit").get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "profit-profit.csv"
    shot(page, "profit")
