"""The counter in Chromium: the customer display follows the till in another page (a sale, and
a Mobile Money request with its countdown), at phone width; the reviewed close in the browser."""

import re
from decimal import Decimal

import pytest

from tests.conftest import PASSWORD
from tests.e2e.test_register import SCAN, scan, shot
from tests.e2e.test_register import shop as shop  # noqa: PLC0414 - the same shop fixture

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in_and_open(page, *, float_pieces: dict[str, str]):
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for note, pieces in float_pieces.items():
        page.get_by_label(f"{note} ×", exact=True).fill(pieces)
    page.locator("[data-count-total]").filter(has_text="12,500").wait_for()
    page.get_by_role("button", name="Open shift").click()
    page.get_by_label(SCAN).wait_for()


def test_the_customer_display_follows_a_sale_and_a_mobile_money_request(page, shop, momo_simulator):
    from pos.models import Sale, Shift

    momo_simulator.on_payer("250788123456", outcome="SUCCESSFUL", pending_polls=3)
    sign_in_and_open(page, float_pieces={"5,000": "2", "500": "5"})
    assert Shift.objects.get().opening_count == {"5000": 2, "500": 5}

    display = page.context.new_page()
    display.set_viewport_size({"width": 390, "height": 844})
    display.goto("/register/display/")
    display.locator("[data-idle]").get_by_text("Welcome").wait_for()
    shot(display, "display-idle")

    scan(page, shop["cable"].barcode)
    page.locator(".line-name").filter(has_text="USB-C cable 1m").wait_for()
    display.locator("[data-lines]").get_by_text("USB-C cable 1m").wait_for()
    display.locator("[data-total]").filter(has_text="3,500 RWF").wait_for()
    assert "VAT 18% included" in display.locator("[data-cart]").inner_text()
    scan(page, shop["cable"].barcode)
    display.locator("[data-total]").filter(has_text="7,000 RWF").wait_for()
    shot(display, "display-cart")

    page.get_by_role("link", name="Pay").click()
    page.get_by_label("Cash received (RWF)").fill("")
    page.get_by_label("Mobile Money amount (RWF)").fill("7000")
    page.get_by_text("…or ask the customer's phone to pay").click()
    page.get_by_label("Customer's phone").fill("0788123456")
    page.get_by_role("button", name="Send request").click()
    prompt = display.locator("[data-momo]")
    prompt.get_by_text("Approve the payment on your phone").wait_for()
    first = int(display.locator("[data-momo-seconds]").inner_text())
    assert 100 < first <= 120
    display.wait_for_timeout(1500)
    assert int(display.locator("[data-momo-seconds]").inner_text()) < first
    assert "7,000 RWF" in prompt.inner_text()
    shot(display, "display-momo")

    page.get_by_role("status").filter(has_text="Paid.").wait_for()
    prompt.wait_for(state="hidden")
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_text("R1-000001").wait_for()
    display.get_by_text("Thank you!").wait_for()
    assert "7,000 RWF" in display.locator("[data-paid]").inner_text()
    shot(display, "display-paid")
    # Nothing of the staff's on the customer's screen.
    assert "Grace" not in display.locator("body").inner_text()
    assert Sale.objects.get().total == Decimal(7000)


def test_a_cashier_ends_blind_and_a_manager_reviews_in_the_browser(page, shop):
    from pos.models import Shift

    sign_in_and_open(page, float_pieces={"5,000": "2", "500": "5"})
    page.goto("/register/shift/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("5,000 ×", exact=True).fill("2")
    page.get_by_label("500 ×", exact=True).fill("4")
    page.locator("[data-count-total]").filter(has_text="12,000").wait_for()
    shot(page, "end-shift-count")
    page.get_by_role("button", name="End shift").click()
    page.get_by_text("A manager reviews it").wait_for()
    assert "12,500" not in page.locator("main").inner_text()  # blind

    page.context.clear_cookies()
    page.goto("/")
    page.get_by_label("Username").fill("eric")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Shifts to review").click()
    page.get_by_role("link", name="Review").click()
    review = page.locator("[data-review]").inner_text()
    assert re.search(r"Cash\s+12,500 RWF\s+12,000 RWF\s+-500 RWF", review)
    shot(page, "review-close")
    page.get_by_role("button", name="Confirm the count and close").click()
    page.get_by_role("heading", name=re.compile("Z-report")).wait_for()
    assert Shift.objects.get().over_short == Decimal(-500)
