"""Goods as shops sell them, at the till in headless Chromium: a scale label (0.750 kg), a carton
and 3 pieces of soap, a red and a blue phone case picked from the variant picker, and a
wholesale quantity break for a reseller, in one sale with cash rounding; the receipt, the stock
and the Z-report agree."""

import re
from decimal import Decimal

import pytest

from pos.barcodes import make_ean13
from tests.conftest import PASSWORD
from tests.e2e.test_register import SCAN, scan, shot
from tests.pos.conftest import scale_layouts  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
LABEL = make_ean13("21" + "00123" + "00750")


@pytest.fixture
def goods(make_user, scale_layouts):  # noqa: F811 - the fixture imported above
    from pos.models import (
        Category,
        Customer,
        PriceList,
        PriceRule,
        Register,
        SellingUnit,
        ShopSettings,
    )
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    Register.objects.create(code="R1", name="Till 1")
    shop = ShopSettings.load()
    shop.cash_rounding = D(10)
    shop.save()
    category = Category.objects.create(name="Groceries")

    def product(**fields):
        return create_product(category=category, cost_price=D(0), minimum_price=D(0), **fields)

    sugar = product(
        name="Sugar", sku="SUGAR", unit="kg", quantity_places=3, retail_price=D(1450),
        scale_code=123, initial_stock=D(5),
    )  # fmt: skip
    soap = product(
        name="Soap", sku="SOAP", barcode=make_ean13("600000000011"), retail_price=D(1000),
        initial_stock=100,
    )  # fmt: skip
    SellingUnit.objects.create(
        product=soap, name="Carton", factor=24, barcode=make_ean13("600000000024"), price=D(22000)
    )
    case = product(name="Phone case", sku="CASE", retail_price=D(5000))
    for colour, price in (("red", 5000), ("blue", 5500)):
        product(
            name=f"Phone case {colour}", sku=f"CASE-{colour}", retail_price=D(price),
            variant_of=case, attributes={"colour": colour}, initial_stock=5,
        )  # fmt: skip
    pen = product(name="Pen", sku="PEN", retail_price=D(200), initial_stock=50)
    wholesale = PriceList.objects.create(name="Wholesale")
    PriceRule.objects.create(price_list=wholesale, product=pen, min_quantity=10, price=D(150))
    reseller = Customer.objects.create(name="Duka Reseller", phone="+250788000111")
    reseller.price_list = wholesale
    reseller.save(update_fields=["price_list"])
    return {"sugar": sugar, "soap": soap}


def test_a_mixed_sale_at_the_till(page, goods):
    from pos.models import Product, Sale

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("20000")
    page.get_by_role("button", name="Open shift").click()

    scan(page, LABEL)  # the scale's label: 0.750 kg of sugar
    page.locator(".cart-line").filter(has_text="Sugar").filter(has_text="kg").wait_for()
    scan(page, make_ean13("600000000024"))  # a carton of soap
    page.locator("span[data-unit]").filter(has_text="Carton (24)").wait_for()
    scan(page, goods["soap"].barcode)
    page.locator("[data-total]").filter(has_text="24,088 RWF").wait_for()  # 1,088 + 22,000 + 1,000
    page.get_by_label("Quantity of Soap").last.fill("3")
    page.locator(".cart-line").last.get_by_role("button", name="Update").click()
    page.locator("[data-total]").filter(has_text="26,088 RWF").wait_for()  # 1,088 + 22,000 + 3,000

    scan(page, "CASE")  # the parent: the till asks which one
    page.locator("[data-variant-picker]").wait_for()
    shot(page, "variant-picker")
    page.get_by_role("button", name=re.compile("Phone case red")).click()
    page.locator(".line-name").filter(has_text="Phone case red").wait_for()
    scan(page, "CASE")
    page.get_by_role("button", name=re.compile("Phone case blue")).click()
    page.locator(".line-name").filter(has_text="Phone case blue").wait_for()

    page.get_by_label("Find a customer by phone or name").fill("Duka")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("button", name=re.compile("Duka Reseller")).click()
    page.get_by_role("button", name="Remove customer").wait_for()
    scan(page, "PEN")
    page.locator(".line-name").filter(has_text="Pen").wait_for()
    page.get_by_label("Quantity of Pen").fill("12")
    page.locator(".cart-line").filter(has_text="Pen").get_by_role("button", name="Update").click()
    page.locator("[data-total]").filter(has_text="38,388 RWF").wait_for()
    assert "Wholesale, from 10" in page.locator("[data-price-source]").inner_text()
    shot(page, "goods-cart")

    page.get_by_role("link", name="Pay").click()
    page.get_by_label("Cash received (RWF)").fill("40000")
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_text("R1-000001").wait_for()
    receipt = page.locator("main.receipt").inner_text()
    shot(page, "goods-receipt")
    for text in ("0.75 kg", "1 x Carton (24)", "Wholesale, from 10", "Cash rounding", "+2"):
        assert text in receipt, text

    sale = Sale.objects.get()
    assert (sale.total, sale.cash_rounding, sale.change_given) == (D(38388), D(2), D(1610))
    stock = dict(Product.objects.values_list("sku", "stock_on_hand"))
    assert stock["SUGAR"] == D("4.250") and stock["SOAP"] == D(73)
    assert (stock["CASE-red"], stock["CASE-blue"], stock["PEN"]) == (4, 4, 38)

    from pos.models import ShopSettings

    shop_settings = ShopSettings.load()  # closed on the cashier's count (no manager's review)
    shop_settings.review_shift_close = False
    shop_settings.save()
    page.goto("/register/shift/")
    page.get_by_label("Cash counted (RWF)").fill("58390")  # 20,000 + 38,390
    page.get_by_role("button", name="Close shift").click()
    page.get_by_role("heading", name=re.compile("Z-report")).wait_for()
    figures = page.locator(".figures").inner_text()
    assert re.search(r"Net sales\s+38,388 RWF", figures)
    assert re.search(r"Cash rounding\s+2 RWF", figures)
    shot(page, "goods-z-report")
    assert SCAN  # the scan box's label, shared with the register's tests
