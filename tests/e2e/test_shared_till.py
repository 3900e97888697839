"""A shared till in headless Chromium: two cashiers take turns on one shift by PIN, on a phone,
a tablet and a desktop. Screenshots go to test-output/screenshots/ (kept by CI as artifacts)."""

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.browser import full_page_shot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
SCAN = "Scan or type a barcode, SKU or name"
SIZES = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1366, 768)}


@pytest.fixture
def shop(make_user):
    from accounts import pins
    from pos.models import Category, Register
    from pos.services.catalogue import create_product

    pins.set_pin(user=make_user("grace", "cashier", first_name="Grace"), pin="4071")
    pins.set_pin(user=make_user("bob", "cashier", first_name="Bob"), pin="2580")
    Register.objects.create(code="R1", name="Till 1")
    return create_product(
        name="USB-C cable 1m",
        sku="CAB-1",
        barcode="CAB-1",
        category=Category.objects.create(name="Cables"),
        cost_price=Decimal(1500),
        retail_price=Decimal(3500),
        minimum_price=Decimal(2000),
        initial_stock=10,
    )


def shot(page, name):
    full_page_shot(page, SHOTS / f"{name}.png")


def sell_one(page, code):
    field = page.get_by_label(SCAN)
    field.fill(code)
    field.press("Enter")
    page.locator(".line-name").filter(has_text="USB-C cable 1m").first.wait_for()
    page.get_by_role("link", name="Pay").first.click()
    page.get_by_role("button", name="Complete sale").click()
    page.locator("main.receipt").wait_for()


def switch_to(page, name, pin):
    page.goto("/register/")
    page.get_by_role("button", name="Lock / switch cashier").click()
    page.get_by_role("heading", name="Till locked").wait_for()
    page.get_by_label(name).check()
    page.get_by_label("PIN", exact=True).fill(pin)


@pytest.mark.parametrize("size", list(SIZES))
def test_two_cashiers_switch_by_pin_within_one_shift(page, shop, size):
    from pos.models import Sale, Shift

    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("10000")
    page.get_by_role("button", name="Open shift").click()
    sell_one(page, shop.barcode)

    # Bob takes over the till with his PIN; a wrong PIN first.
    switch_to(page, "Bob", "1111")
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("alert").filter(has_text="Wrong PIN. 4 tries left").wait_for()
    shot(page, f"shared-till-locked-{size}")
    page.get_by_label("Bob").check()
    page.get_by_label("PIN", exact=True).fill("2580")
    page.get_by_role("button", name="Unlock").click()
    page.locator(".tillnav-who").filter(has_text="Bob").wait_for()
    shot(page, f"shared-till-bob-{size}")
    sell_one(page, shop.barcode)

    # Grace comes back.
    switch_to(page, "Grace", "4071")
    page.get_by_role("button", name="Unlock").click()
    page.locator(".tillnav-who").filter(has_text="Grace").wait_for()
    shot(page, f"shared-till-grace-{size}")

    (shift,) = Shift.objects.all()
    sellers = list(Sale.objects.order_by("pk").values_list("cashier__username", "shift_id"))
    assert sellers == [("grace", shift.pk), ("bob", shift.pk)]
    assert page.locator(".tillnav-shift").inner_text().startswith("Till 1")
