"""Goods as shops sell them, through the API: a scale label, a carton and pieces of one product,
a red and a blue variant and a wholesale quantity break in one sale, with cash rounding; then
refunds in the unit sold. Stock, receipt, Z-report and reports agree."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from pos.barcodes import make_ean13
from pos.models import (
    Customer,
    PriceList,
    PriceRule,
    Product,
    Register,
    Sale,
    ScaleLabelTemplate,
    SellingUnit,
    ShopSettings,
)
from pos.services.catalogue import create_product
from pos.services.shifts import open_shift
from tests.pos.ledger_checks import assert_ledgers_hold

pytestmark = pytest.mark.django_db
D = Decimal
LABEL = make_ean13("21" + "00123" + "00750")  # prefix 21: item 123, 750 g


@pytest.fixture
def goods(category, scale_layouts):
    shop = ShopSettings.load()
    shop.cash_rounding = D(10)
    shop.save()

    def product(**fields):
        values = {"category": category, "cost_price": D(0), "minimum_price": D(0), **fields}
        return create_product(**values)

    sugar = product(
        name="Sugar", sku="SUGAR", unit="kg", quantity_places=3, retail_price=D(1450),
        minimum_price=D(1300), scale_code=123, initial_stock=D(5),
    )  # fmt: skip
    soap = product(name="Soap", sku="SOAP", retail_price=D(1000), initial_stock=100)
    carton = SellingUnit.objects.create(
        product=soap, name="Carton", factor=24, barcode=make_ean13("699000000024"), price=D(22000)
    )
    case = product(name="Phone case", sku="CASE", retail_price=D(5000))
    red = product(
        name="Phone case red", sku="CASE-R", retail_price=D(5000), variant_of=case,
        attributes={"colour": "red"}, initial_stock=5,
    )  # fmt: skip
    blue = product(
        name="Phone case blue", sku="CASE-B", retail_price=D(5500), variant_of=case,
        attributes={"colour": "blue"}, initial_stock=5,
    )  # fmt: skip
    pen = product(
        name="Pen", sku="PEN", retail_price=D(200), minimum_price=D(100), initial_stock=50
    )
    wholesale = PriceList.objects.create(name="Wholesale")
    PriceRule.objects.create(price_list=wholesale, product=pen, min_quantity=10, price=D(150))
    reseller = Customer.objects.create(name="Duka Reseller", phone="+250788000111")
    reseller.price_list = wholesale
    reseller.save(update_fields=["price_list"])
    return {
        "sugar": sugar, "soap": soap, "carton": carton, "case": case, "red": red,
        "blue": blue, "pen": pen, "reseller": reseller,
    }  # fmt: skip


def sell(client, lines, cash="40000", customer=None):
    body = {"lines": lines, "tenders": [{"tender": "cash", "amount": cash}]}
    if customer is not None:
        body["customer"] = customer.pk
    return client.post(
        "/api/v1/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )


def test_a_mixed_sale_through_the_api_agrees_everywhere(
    as_cashier, as_manager, shift, goods, cashier
):
    g = goods
    response = sell(
        as_cashier,
        [
            {"scale_label": LABEL},
            {"product": g["soap"].pk, "selling_unit": g["carton"].pk, "quantity": 1},
            {"product": g["soap"].pk, "quantity": 3},
            {"product": g["red"].pk, "quantity": 1},
            {"product": g["blue"].pk, "quantity": 1},
            {"product": g["pen"].pk, "quantity": 12},
        ],
        customer=g["reseller"],
    )
    assert response.status_code == 201, response.json()
    sale = response.json()
    lines = sale["lines"]
    assert [line["sold_as"] for line in lines] == [
        "0.75 kg", "1 x Carton (24)", "3", "1", "1", "12",
    ]  # fmt: skip
    assert [line["total"] for line in lines] == ["1088", "22000", "3000", "5000", "5500", "1800"]
    assert lines[5]["price_source"] == "Wholesale, from 10"
    assert (lines[1]["quantity"], lines[1]["unit_factor"]) == ("24", "24")
    assert sale["total"] == "38388"
    assert sale["cash_rounding"] == "2"  # 38,388 due in cash: 38,390
    assert sale["change_given"] == "1610"

    stock = dict(Product.objects.values_list("sku", "stock_on_hand"))
    assert stock["SUGAR"] == D("4.250")
    assert stock["SOAP"] == D(100 - 24 - 3)
    assert (stock["CASE-R"], stock["CASE-B"], stock["PEN"]) == (4, 4, 38)
    assert_ledgers_hold()

    browser = Client()
    browser.force_login(cashier)
    receipt = browser.get(reverse("pos:receipt", args=[sale["id"]])).content.decode()
    for text in ("1 x Carton (24)", "0.75 kg", "Wholesale, from 10", "Cash rounding", "+2"):
        assert text in receipt, text

    z = as_cashier.get(f"/api/v1/shifts/{shift.pk}/z-report/").json()
    assert z["sales"]["total"] == "38388" and z["sales"]["cash_rounding"] == "2"
    assert z["by_tender"]["cash"]["net"] == "38390"

    day = Sale.objects.get().business_day.isoformat()
    period = {"start": day, "end": day}
    apart = as_manager.get("/api/v1/reports/sales/", {**period, "by": "product"}).json()
    together = as_manager.get("/api/v1/reports/sales/", {**period, "by": "model"}).json()
    assert _units(apart, "Phone case red") == 1 and _units(apart, "Phone case blue") == 1
    assert _units(together, "Phone case (CASE)") == 2  # the variants rolled up
    assert _units(apart, "Soap") == 27  # pieces: a carton of 24 and 3


def _units(report, name) -> Decimal:
    table = next(t for t in report["tables"] if t["name"] == "breakdown")
    row = next(r for r in table["rows"] if str(r[0]).startswith(name))
    return D(str(row[1]))


def test_refunds_are_in_the_unit_sold_and_capped_in_stock_units(
    as_cashier, as_manager, shift, goods, manager
):
    g = goods
    sold = sell(
        as_cashier,
        [
            {"product": g["soap"].pk, "selling_unit": g["carton"].pk, "quantity": 2},
            {"scale_label": LABEL},
        ],
        cash="50000",
    ).json()
    cartons, sugar = sold["lines"]
    refund_url = f"/api/v1/sales/{sold['id']}/refund/"
    till_two = Register.objects.create(code="R2", name="Till 2")
    open_shift(register=till_two, cashier=manager, opening_float=D(50000))

    def refund(line, quantity):
        return as_manager.post(
            refund_url,
            {"lines": [{"sale_line": line["id"], "quantity": quantity}], "reason": "Returned"},
            format="json",
        )

    one_carton = refund(cartons, 1)
    assert one_carton.status_code in (200, 201), one_carton.json()
    assert one_carton.json()["lines"][0]["quantity"] == "24"
    assert one_carton.json()["total"] == "22000"
    quarter = refund(sugar, "0.250")
    assert quarter.status_code in (200, 201), quarter.json()
    assert quarter.json()["total"] == "363"

    too_many = refund(cartons, 2)  # 1 carton (24 pieces) is left
    assert too_many.status_code == 422
    assert "Only 24 of Soap" in too_many.json()["error"]["message"]
    half_carton = refund(cartons, "0.5")
    assert half_carton.status_code == 400
    too_much_sugar = refund(sugar, "0.501")
    assert too_much_sugar.status_code == 422
    stock = dict(Product.objects.values_list("sku", "stock_on_hand"))
    assert stock["SOAP"] == D(100 - 48 + 24)
    assert stock["SUGAR"] == D("4.500")
    assert_ledgers_hold()


def test_bad_units_labels_and_templates_get_clear_errors_and_write_nothing(
    as_manager, as_cashier, shift, goods
):
    g = goods
    negative = as_manager.post(
        "/api/v1/selling-units/",
        {"product": g["pen"].pk, "name": "Box", "factor": "-10"},
        format="json",
    )
    assert negative.status_code == 400 and "factor" in negative.json()["error"]["fields"]
    uneven = as_manager.post(
        "/api/v1/scale-label-templates/",
        {"name": "Odd", "prefix": "25", "item_digits": 5, "value_digits": 6,
         "value_kind": "weight", "value_decimals": 3},
        format="json",
    )  # fmt: skip
    assert uneven.status_code == 400
    assert "12 digits" in str(uneven.json()["error"]["fields"])
    too_fine = sell(as_cashier, [{"product": g["sugar"].pk, "quantity": "0.0004"}])
    assert too_fine.status_code == 400
    unknown = sell(as_cashier, [{"scale_label": make_ean13("21" + "99999" + "00500")}])
    assert unknown.status_code == 404
    assert "99999" in unknown.json()["error"]["message"]
    other_unit = sell(
        as_cashier, [{"product": g["pen"].pk, "selling_unit": g["carton"].pk, "quantity": 1}]
    )
    assert other_unit.status_code == 404
    assert not SellingUnit.objects.filter(name="Box").exists()
    assert not ScaleLabelTemplate.objects.filter(name="Odd").exists()
    assert not Sale.objects.exists()


def test_the_test_a_barcode_box_reads_a_label(as_manager, goods):
    read = as_manager.post("/api/v1/scale-label-templates/test/", {"code": LABEL}, format="json")
    assert read.status_code == 200, read.json()
    assert read.json() == {
        "code": LABEL, "problem": "", "template": "Weight in grams, 5-digit item code",
        "item_code": 123, "product": goods["sugar"].pk, "product_name": "Sugar",
        "weight": "0.75", "price": "1450", "total": "1088",
    }  # fmt: skip
    priced = make_ean13("22" + "00123" + "01450")  # a price label: 1,450 RWF of sugar
    read = as_manager.post("/api/v1/scale-label-templates/test/", {"code": priced}, format="json")
    assert (read.json()["weight"], read.json()["total"]) == ("1", "1450")
    wrong = LABEL[:-1] + str((int(LABEL[-1]) + 1) % 10)
    read = as_manager.post("/api/v1/scale-label-templates/test/", {"code": wrong}, format="json")
    assert "check digit" in read.json()["problem"]
    assert ScaleLabelTemplate.objects.count() == 5  # the common layouts come installed


def test_a_carton_is_refunded_in_cartons_on_the_screen_the_slip_and_the_api(
    as_cashier, as_manager, shift, goods, manager
):
    """2 cartons sold; one refunded at the till, then the other through the API: the screen
    asks and caps in cartons, the slip and the API say "1 x Carton (24)" as the receipt did,
    and stock moves by 24 pieces each time."""
    g = goods
    sold = sell(
        as_cashier,
        [{"product": g["soap"].pk, "selling_unit": g["carton"].pk, "quantity": 2}],
        cash="50000",
    ).json()
    line = sold["lines"][0]
    assert line["sold_as"] == "2 x Carton (24)"
    till_two = Register.objects.create(code="R2", name="Till 2")
    open_shift(register=till_two, cashier=manager, opening_float=D(50000))
    screen = Client()
    screen.force_login(manager)
    url = reverse("register:refund", args=[sold["id"]])
    field = f"qty_{line['id']}"

    page = screen.get(url).content.decode()
    assert "2 x Carton (24)" in page
    assert f'name="{field}" type="number" min="0" max="2"' in page
    assert 'data-sold="2"' in page and 'step="1"' in page
    preview = screen.post(url, {field: "1", "reason": "", "tender": "cash", "preview": "1"})
    assert "22,000 RWF" in preview.content.decode()
    too_many = screen.post(url, {field: "3", "reason": "Returned", "tender": "cash"})
    assert too_many.status_code == 400  # 3 cartons of a 2-carton line
    done = screen.post(url, {field: "1", "reason": "Returned", "tender": "cash"})
    assert done.status_code == 302, done.content.decode()[:2000]
    slip = screen.get(done["Location"]).content.decode()
    assert '<td class="num">1 x Carton (24)</td>' in slip
    assert '<td class="num">24</td>' not in slip
    assert Product.objects.get(sku="SOAP").stock_on_hand == D(100 - 48 + 24)

    again = screen.get(url).content.decode()
    assert "1 x Carton (24) already returned" in again
    assert f'name="{field}" type="number" min="0" max="1"' in again

    api = as_manager.post(
        f"/api/v1/sales/{sold['id']}/refund/",
        {"lines": [{"sale_line": line["id"], "quantity": 1}], "reason": "Returned"},
        format="json",
    )
    assert api.status_code == 201, api.json()
    returned = api.json()["lines"][0]
    assert returned["returned_as"] == "1 x Carton (24)"
    assert returned["quantity"] == "24"
    assert Product.objects.get(sku="SOAP").stock_on_hand == D(100)
    assert_ledgers_hold()


def test_quantities_are_decimal_strings_out_and_strings_or_numbers_in(
    as_cashier, as_manager, shift, goods, manager
):
    """Answers carry quantities as decimal strings; requests may send strings or numbers; the
    OpenAPI schema says both (answers: string, format decimal; requests: string or number)."""
    g = goods
    as_number = sell(as_cashier, [{"product": g["sugar"].pk, "quantity": 0.25}], cash=1000)
    as_string = sell(as_cashier, [{"product": g["sugar"].pk, "quantity": "0.250"}], cash="1000")
    whole = sell(as_cashier, [{"product": g["pen"].pk, "quantity": 3}], cash=1000)
    for response in (as_number, as_string, whole):
        assert response.status_code == 201, response.json()
    assert as_number.json()["lines"][0]["quantity"] == "0.25"
    assert as_string.json()["lines"][0]["quantity"] == "0.25"
    assert whole.json()["lines"][0]["quantity"] == "3"
    assert as_number.json()["total"] == as_string.json()["total"] == "363"
    till_two = Register.objects.create(code="R2", name="Till 2")
    open_shift(register=till_two, cashier=manager, opening_float=D(50000))
    refund = as_manager.post(
        f"/api/v1/sales/{as_number.json()['id']}/refund/",
        {"lines": [{"sale_line": as_number.json()["lines"][0]["id"], "quantity": 0.1}],
         "reason": "Spilt"},
        format="json",
    )  # fmt: skip
    assert refund.status_code == 201, refund.json()
    assert refund.json()["lines"][0]["quantity"] == "0.1"
    too_fine = sell(as_cashier, [{"product": g["sugar"].pk, "quantity": 0.0004}], cash=1000)
    assert too_fine.status_code == 400
    assert "lines.0.quantity" in too_fine.json()["error"]["fields"]

    schemas = as_cashier.get("/api/schema/?format=json").json()["components"]["schemas"]
    answered = schemas["SaleLine"]["properties"]["quantity"]
    assert (answered["type"], answered["format"]) == ("string", "decimal")
    asked = schemas["CartLineRequest"]["properties"]["quantity"]
    assert [option["type"] for option in asked["oneOf"]] == ["string", "number"]
    assert asked["oneOf"][0]["format"] == "decimal"
    refunded = schemas["RefundLineInputRequest"]["properties"]["quantity"]
    assert {option["type"] for option in refunded["oneOf"]} == {"string", "number"}
    assert schemas["RefundLine"]["properties"]["returned_as"]["type"] == "string"
    assert schemas["SellingUnit"]["properties"]["factor"]["format"] == "decimal"
