"""Fiscal receipts in Chromium (issue 25): a sale with the VSDC up prints its SDC block and QR
code; with the VSDC down the receipt says "fiscal pending" and cannot be printed, and becomes
printable by itself once the VSDC is back and the worker has the signature. Screenshots in
test-output/screenshots/fiscal/."""

import time
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


def sell_one(page, barcode):
    field = page.get_by_label(SCAN)
    field.fill(barcode)
    field.press("Enter")
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()
    page.get_by_role("link", name="Pay").click()
    page.get_by_label("Cash received (RWF)").fill("12000")
    page.get_by_role("button", name="Complete sale").click()
    page.locator("main.receipt").wait_for()


def test_a_signed_receipt_then_fiscal_pending_while_the_vsdc_is_down(
    page,
    make_user,
    fiscal_device,
    vsdc,
    settings,
):
    from fiscal import sending
    from fiscal.models import ReceiptMessage
    from pos.barcodes import make_ean13
    from pos.models import Category, Register
    from pos.services.catalogue import create_product

    settings.FISCAL_RETRY_BASE_SECONDS = 1
    make_user("grace", "cashier", first_name="Grace")
    Register.objects.create(code="R1", name="Till 1")
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
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("20000")
    page.get_by_role("button", name="Open shift").click()

    # The VSDC up: the worker signs it and the receipt (refreshing itself) shows the SDC block.
    sell_one(page, charger.barcode)
    sending.drain()
    page.locator('[data-fiscal="signed"]').wait_for()
    receipt = page.locator("main.receipt")
    assert receipt.locator("[data-counters]").inner_text() == "1/1 NS"
    assert receipt.locator(".fiscal-qr svg").count() == 1
    assert receipt.locator("[data-mrc]").inner_text() == fiscal_device.mrc
    assert page.get_by_role("button", name="Print").is_visible()
    shot(page, "signed-390")

    # The VSDC down: the sale is taken, the receipt waits and has no print button.
    vsdc.down = True
    page.get_by_role("link", name="New sale").click()
    sell_one(page, charger.barcode)
    sending.drain()
    page.locator('[data-fiscal="pending"]').wait_for()
    assert page.get_by_text("FISCAL PENDING", exact=True).is_visible()
    assert page.get_by_role("button", name="Print").count() == 0
    shot(page, "pending-390")

    # Sent by email once signed: asked for now, on its own page (the receipt page refreshes).
    page.get_by_role("link", name="Send it by email once signed").click()
    page.get_by_label("Customer's email").fill("amina@example")
    page.get_by_role("button", name="Send when signed").click()
    assert page.get_by_role("alert").inner_text() == "Enter a valid email address."
    page.get_by_label("Customer's email").fill("amina@example.rw")
    shot(page, "send-later-390")
    page.get_by_role("button", name="Send when signed").click()
    page.locator('[data-fiscal="pending"]').wait_for()
    assert ReceiptMessage.objects.get().address == "amina@example.rw"

    # Back up: after the back-off the worker signs it; the page becomes printable by itself.
    vsdc.down = False
    time.sleep(1.2)
    assert sending.drain()["signed"] == 1
    page.locator('[data-fiscal="signed"]').wait_for(timeout=15_000)
    assert page.locator("[data-counters]").inner_text() == "2/2 NS"
    assert page.get_by_role("button", name="Print").is_visible()
    shot(page, "printed-after-return-390")


def test_a_proforma_prints_PS_with_its_sdc_block_at_phone_width(
    page, live_server, make_user, fiscal_device, vsdc
):
    from django.test import Client

    from fiscal import sending
    from fiscal.proformas import QuoteLine, create_proforma
    from pos.models import Category
    from pos.services.catalogue import create_product

    manager = make_user("ines", "manager", first_name="Ines")
    charger = create_product(
        name="Samsung 25W charger",
        sku="CHG-1",
        category=Category.objects.create(name="Chargers"),
        cost_price=Decimal(6000),
        retail_price=Decimal(12000),
        minimum_price=Decimal(9000),
        initial_stock=10,
    )
    quote = create_proforma(
        user=manager, lines=[QuoteLine(charger, Decimal(2))], customer_name="Kigali Hardware"
    )
    sending.drain()
    client = Client()
    client.force_login(manager)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/fiscal/proformas/{quote.pk}/")
    block = page.locator('[data-fiscal="signed"]')
    block.wait_for()
    assert block.get_attribute("data-label") == "PS"
    assert page.get_by_text("PROFORMA: NOT A RECEIPT").is_visible()
    assert page.locator(".fiscal-qr svg").count() == 1
    shot(page, "proforma-390")


def test_a_cashier_quotes_the_cart_at_the_till_and_keeps_selling_it(
    page, make_user, fiscal_device, vsdc
):
    from fiscal import sending
    from pos.barcodes import make_ean13
    from pos.models import Category, Register
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    Register.objects.create(code="R1", name="Till 1")
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
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("20000")
    page.get_by_role("button", name="Open shift").click()
    field = page.get_by_label(SCAN)
    field.fill(charger.barcode)
    field.press("Enter")
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()

    page.get_by_role("link", name="Proforma quote").click()
    page.get_by_label("Customer (optional)").fill("Kigali Hardware")
    page.get_by_label("Buyer's TIN (optional)").fill("1234")
    page.get_by_role("button", name="Make the proforma").click()
    assert page.get_by_text("A TIN is 9 digits.").is_visible()
    page.get_by_label("Buyer's TIN (optional)").fill("101234567")
    shot(page, "till-proforma-390")
    page.get_by_role("button", name="Make the proforma").click()
    page.locator('[data-fiscal="pending"]').wait_for()
    assert page.get_by_text("PROFORMA: NOT A RECEIPT").is_visible()
    sending.drain()
    block = page.locator('[data-fiscal="signed"]')
    block.wait_for(timeout=15_000)  # the page refreshes itself until signed
    assert block.get_attribute("data-label") == "PS"
    assert page.locator("[data-counters]").inner_text() == "1/1 PS"
    assert page.get_by_role("button", name="Print").is_visible()
    assert page.get_by_role("link", name="Send by message").is_visible()
    shot(page, "till-proforma-signed-390")

    # Back at the till: the cart is as it was, and sells.
    page.get_by_role("link", name="New sale").click()
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()
