"""A stock transfer received on a phone (390 px) in the admin, one line short, then its delivery
note. Screenshots land in test-output/screenshots/transfers/."""

from decimal import Decimal

import pytest

from tests.e2e.conftest import sign_in_to_admin
from tests.e2e.test_till_screens import SHOTS as TILL_SHOTS
from tests.support.browser import full_page_shot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = TILL_SHOTS.parent / "transfers"
PHONE = {"width": 390, "height": 844}


def shot(page, name):
    full_page_shot(page, SHOTS / f"{name}.png")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def product(name, sku, stock, category):
    from pos.services.catalogue import create_product

    return create_product(
        name=name,
        sku=sku,
        barcode=sku,
        category=category,
        cost_price=Decimal(1500),
        retail_price=Decimal(3500),
        minimum_price=Decimal(2000),
        reorder_level=2,
        initial_stock=stock,
    )


def test_a_transfer_received_one_short_and_its_delivery_note_on_a_phone(page, make_user):
    from pos.models import Category, Store, StoreMembership, Transfer
    from pos.models.stores import default_store_pk
    from pos.services.stores import create_store
    from pos.services.transfers import create_transfer, send_transfer

    owner = make_user("owner", "admin")
    store_a = Store.objects.get(pk=default_store_pk())
    store_b = create_store(
        user=owner,
        store=Store(name="Musanze", code="MSZ", branch_id="01", address="Main road, Musanze"),
    )
    bosco = make_user("bosco", "manager", first_name="Bosco")
    StoreMembership.objects.create(user=bosco, store=store_b)
    category = Category.objects.create(name="Cables")
    cable = product("USB-C cable 1m", "CAB-1", 10, category)
    charger = product("Samsung 25W charger", "CHG-25", 20, category)
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 4), (charger, 6)], user=owner
    )
    send_transfer(transfer=transfer, user=owner)
    lines = {line.product_id: line for line in transfer.lines.all()}

    page.set_viewport_size(PHONE)
    sign_in_to_admin(page, "bosco")
    page.goto(f"/admin/pos/transfer/{transfer.pk}/change/")
    page.get_by_role("link", name="Receive").click()
    page.get_by_label("Samsung 25W charger").fill("5")
    shot(page, "1-receive")
    page.get_by_role("button", name="Receive").click()
    page.get_by_text("give the reason for the shrinkage").first.wait_for()  # none given
    page.get_by_label("Reason for the shrinkage").fill("One box crushed")
    page.get_by_role("button", name="Receive").click()
    page.get_by_text(f"{transfer} is now received.").wait_for()
    assert Transfer.objects.get(pk=transfer.pk).status == "received"
    lines[charger.pk].refresh_from_db()
    assert lines[charger.pk].quantity_shrinkage == Decimal(1)

    page.get_by_role("link", name="Delivery note").click()
    page.get_by_role("heading", name="DELIVERY NOTE").wait_for()
    note = page.locator("main").inner_text()
    assert "Musanze" in note and "Main road, Musanze" in note
    assert "Shrinkage: One box crushed" in note
    assert fits(page)
    shot(page, "2-delivery-note-phone")
    page.set_viewport_size({"width": 1000, "height": 1200})
    shot(page, "3-delivery-note-wide")
