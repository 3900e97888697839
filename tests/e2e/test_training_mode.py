"""Training mode in Chromium (issue 25): a manager puts the till in training; the cashier's till
shows "TRAINING - not a sale" at phone width, a sale rung up there prints a TS receipt signed
by the VSDC and labelled not official, and it is refunded as TR. Nothing is sold. Screenshots in
test-output/screenshots/fiscal/."""

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.browser import full_page_shot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots" / "fiscal"
SCAN = "Scan or type a barcode, SKU or name"


def shot(page, name):
    full_page_shot(page, SHOTS / f"{name}.png")


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_training_sale_at_the_till_shows_the_banner_and_prints_a_TS_receipt(
    page, make_user, fiscal_device, vsdc
):
    from fiscal import sending, training
    from fiscal.models import TrainingReceipt
    from pos.barcodes import make_ean13
    from pos.models import Category, Payment, Register, Sale
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    manager = make_user("ines", "manager", first_name="Ines")
    till = Register.objects.create(code="R1", name="Till 1")
    charger = create_product(
        name="Samsung 25W charger",
        sku="CHG-1",
        barcode=make_ean13("600000000001"),
        category=Category.objects.create(name="Chargers"),
        cost_price=Decimal(6000),
        retail_price=Decimal(12000),
        minimum_price=Decimal(9000),
        initial_stock=10,
    )
    sending.drain()  # the opening stock
    training.start_training(register=till, user=manager)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("20000")
    page.get_by_role("button", name="Open shift").click()

    banner = page.locator("[data-training-banner]")
    banner.wait_for()
    assert "TRAINING - NOT A SALE" in banner.inner_text()  # as shown: in capitals
    box = banner.bounding_box()
    assert box["width"] <= 390 and banner.is_visible() and no_sideways_scroll(page)
    shot(page, "training-till-390")

    field = page.get_by_label(SCAN)
    field.fill(charger.barcode)
    field.press("Enter")
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()
    page.get_by_role("link", name="Pay").click()
    assert page.locator("[data-training-banner]").is_visible()
    page.get_by_label("Cash received (RWF)").fill("15000")
    page.get_by_role("button", name="Complete sale").click()
    page.locator("main.receipt").wait_for()
    assert page.get_by_text("TRAINING: NOT AN OFFICIAL RECEIPT").first.is_visible()

    sending.drain()
    block = page.locator('[data-fiscal="signed"]')
    block.wait_for(timeout=15_000)  # the pending page refreshes itself until signed
    assert block.get_attribute("data-label") == "TS"
    assert page.locator("[data-counters]").inner_text() == "1/1 TS"
    assert page.locator(".fiscal-qr svg").count() == 1
    assert page.get_by_role("button", name="Print").is_visible() and no_sideways_scroll(page)
    shot(page, "training-receipt-TS-390")

    page.get_by_role("link", name="Refund (training)").click()
    page.get_by_role("button", name="Refund (training)").click()
    page.locator("main.receipt").wait_for()
    sending.drain()
    page.locator('[data-fiscal="signed"][data-label="TR"]').wait_for(timeout=15_000)
    shot(page, "training-refund-TR-390")

    assert Sale.objects.count() == 0 and Payment.objects.count() == 0
    assert TrainingReceipt.objects.count() == 2
    charger.refresh_from_db()
    assert charger.stock_on_hand == 10
