"""A full sale in Kinyarwanda and a refund in French, in Chromium, with screenshots; the receipt
prints in the shop's receipt language whatever the till's."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.browser import full_page_shot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
NBSP = "\xa0"


@pytest.fixture
def shop(make_user):
    from pos.barcodes import make_ean13
    from pos.models import Category, Register, ShopSettings
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    make_user("eric", "manager", first_name="Eric")
    Register.objects.create(code="R1", name="Kesi 1")
    settings = ShopSettings.load()
    settings.name, settings.receipt_language = "Vevurn Phone Accessories", "fr"
    settings.save()
    chargers = Category.objects.create(name="Chargers")
    return {
        "charger": create_product(
            name="Samsung 25W charger",
            sku="CHG-0000001",
            barcode=make_ean13("600110000001"),
            category=chargers,
            cost_price=Decimal(6000),
            retail_price=Decimal(12000),
            minimum_price=Decimal(9000),
            initial_stock=10,
        ),
    }


def shot(page, name):
    full_page_shot(page, SHOTS / f"{name}.png")


@pytest.fixture
def kinyarwanda_page(browser, live_server):
    """A browser whose language is Kinyarwanda (Accept-Language: rw-RW), phone width."""
    context = browser.new_context(
        base_url=live_server.url, locale="rw-RW", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_sale_in_kinyarwanda_then_a_refund_in_french(kinyarwanda_page, shop):
    from pos.models import Refund, Sale

    page = kinyarwanda_page
    charger = shop["charger"]

    # The sign-in page follows the browser: Kinyarwanda.
    page.goto("/")
    page.get_by_role("heading", name="Injira").wait_for()
    assert page.locator("html").get_attribute("lang") == "rw"
    page.get_by_label("Izina ukoresha").fill("grace")
    page.get_by_label("Ijambobanga").fill(PASSWORD)
    shot(page, "rw-sign-in")
    page.get_by_role("button", name="Injira").click()

    page.get_by_role("heading", name="Murakaza neza, Grace").wait_for()
    page.get_by_label("Amafaranga ari mu isanduku (yo gutangiza)").fill("20000")
    page.get_by_role("button", name="Fungura igihe cy'akazi").click()

    scan = page.get_by_label("Soma cyangwa wandike kode y'imirongo, kode cyangwa izina")
    scan.fill(charger.barcode)
    scan.press("Enter")
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()
    page.get_by_role("button", name="Ongeraho Samsung 25W charger kimwe").click()
    page.locator("[data-total]").filter(has_text=f"24{NBSP}000 RWF").wait_for()
    shot(page, "rw-register")

    page.get_by_role("link", name="Ishyura").click()
    page.get_by_role("heading", name="Kwishyura").wait_for()
    page.get_by_label("Amafaranga yakiriwe mu ntoki (RWF)").fill("30000")
    # The change, worked out in the page as the cashier types, in the page's own format.
    page.locator("[data-change]").filter(has_text=f"6{NBSP}000 RWF").wait_for()
    shot(page, "rw-payment")
    page.get_by_role("button", name="Soza igurisha").click()

    # The receipt prints in the shop's receipt language (French); its buttons stay Kinyarwanda.
    page.get_by_text("R1-000001").wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    receipt = page.locator("main.receipt").inner_text()
    assert "Reçu" in receipt and "Monnaie" in receipt and "Caissier" in receipt
    assert f"24{NBSP}000" in receipt and f"6{NBSP}000" in receipt
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", receipt)  # day first
    page.get_by_role("link", name=re.compile("Igurisha rishya")).wait_for()
    shot(page, "receipt-in-the-shops-language")
    sale = Sale.objects.get()
    assert sale.total == Decimal(24000) and sale.change_given == Decimal(6000)

    # The cashier switches the till to French; the choice is kept on her user.
    page.goto("/register/history/")
    page.get_by_role("button", name="FR").click()
    page.get_by_role("heading", name="Ventes de cette session").wait_for()
    page.get_by_role("link", name="Remboursement R1-000001").click()
    page.get_by_role("heading", name="Remboursement de la vente R1-000001").wait_for()
    page.get_by_label("Retourner Samsung 25W charger").fill("1")
    page.locator("[data-refund-total]").filter(has_text=f"12{NBSP}000 RWF").wait_for()
    page.get_by_label("Pourquoi la marchandise est-elle retournée ?").fill("Ne charge pas")
    page.get_by_label("Nom d'utilisateur du gérant").fill("eric")
    page.get_by_label("Mot de passe du gérant").fill(PASSWORD)
    shot(page, "fr-refund")
    page.get_by_role("button", name="Rembourser").click()

    # The refund slip, in the shop's language, and the message in the till's.
    page.get_by_text("REMBOURSEMENT", exact=True).wait_for()
    page.get_by_text("Remboursement R1-RF-000001 effectué.").wait_for()
    slip = page.locator("main.receipt").inner_text()
    assert f"12{NBSP}000" in slip and "Rendu" in slip
    shot(page, "fr-refund-slip")
    refund = Refund.objects.get()
    assert refund.total == Decimal(12000)
    from accounts.models import User

    assert User.objects.get(username="grace").preferred_language == "fr"
