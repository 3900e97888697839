"""Gift cards at the till on a phone (390 px): sold, checked, then paying part of a sale from the
payment screen. Screenshots land in test-output/screenshots/customer-accounts/."""

import re

import pytest

from tests.e2e.test_till_screens import SHOTS as TILL_SHOTS
from tests.e2e.test_till_screens import shop as till_shop
from tests.e2e.test_till_screens import sign_in_and_open_shift, small_touch_targets
from tests.support.browser import full_page_shot

shop = till_shop  # the till's products and users, as a fixture of this module

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = TILL_SHOTS.parent / "customer-accounts"
PHONE = {"width": 390, "height": 844}


def shot(page, name):
    full_page_shot(page, SHOTS / f"{name}.png")


def test_a_card_sold_checked_and_spent_on_a_phone(page, shop):
    from pos.models import GiftCard, Sale

    page.set_viewport_size(PHONE)
    sign_in_and_open_shift(page)
    page.get_by_role("link", name="Gift cards").click()
    page.get_by_label("Value of the card").fill("5000")
    page.get_by_role("button", name="Sell the card for cash").click()
    page.get_by_text("Card sold: hand the code to the customer.").wait_for()
    code = GiftCard.objects.get().code
    assert page.locator("[data-card-code]").inner_text() == code
    assert page.locator("[data-card-balance]").inner_text() == "5,000 RWF"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert small_touch_targets(page) == []
    shot(page, "1-card-sold")

    page.get_by_role("link", name="Register").click()
    page.get_by_role("link", name="Loose goods").click()
    page.get_by_role("button", name=re.compile("Screen protector")).click()
    page.locator(".line-name").filter(has_text="Screen protector").wait_for()
    page.get_by_role("link", name="Pay").click()
    page.get_by_text("Gift card, store credit, points").click()
    page.get_by_label("Gift card code").fill(code)
    page.get_by_label("Paid with the gift card").fill("2000")
    page.get_by_label("Cash received").fill("0")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "2-payment-with-card")
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_text("R1-000001").first.wait_for()
    page.get_by_label("Phone or email").fill("amina@example.rw")
    page.get_by_label("Send by").select_option("email")
    page.get_by_role("button", name="Send the receipt").click()
    page.get_by_text("The receipt goes by Email to amina@example.rw.").wait_for()
    assert not page.get_by_text("COPY").is_visible()  # sending is not a reprint
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "3-receipt-sent")
    assert Sale.objects.get().payments.get().tender == "gift_card"
    page.goto(f"/register/gift-cards/?code={code}")
    assert page.locator("[data-card-balance]").inner_text() == "3,000 RWF"
