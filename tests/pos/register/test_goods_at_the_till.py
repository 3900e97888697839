"""The till with goods as shops sell them: scale labels, cartons, variants, price lists."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pos.barcodes import make_ean13
from pos.models import SellingUnit

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def goods(make_product, scale_layouts):
    sugar = make_product(
        name="Sugar", unit="kg", quantity_places=3, retail_price=D(1450), minimum_price=D(0),
        cost_price=D(0), scale_code=123, stock=D(5),
    )  # fmt: skip
    soap = make_product(
        name="Soap", retail_price=D(1000), minimum_price=D(0), cost_price=D(0), stock=100
    )
    carton = SellingUnit.objects.create(
        product=soap, name="Carton", factor=24, barcode=make_ean13("699000000024"), price=D(22000)
    )
    return {"sugar": sugar, "soap": soap, "carton": carton}


def test_a_label_a_carton_and_pieces_price_as_checkout_will(till, scan, goods):
    scan(make_ean13("21" + "00123" + "00750"))
    scan(goods["carton"].barcode)
    scan(goods["soap"].barcode)
    page = till.get("/register/")
    lines = page.context["lines"]
    assert [(line.unit_label, line.quantity, line.total) for line in lines] == [
        ("kg", D("0.75"), D(1088)),
        ("Carton (24)", 1, D(22000)),
        ("", 1, D(1000)),
    ]
    response = till.post(
        reverse("register:update_line", args=[2]),
        {"quantity": "3", "unit_price": "", "discount": ""},
    )
    assert response.status_code in (200, 302)
    page = till.get("/register/")
    assert [line.total for line in page.context["lines"]] == [D(1088), D(22000), D(3000)]
    assert page.context["priced"].total == D(26088)
    # A carton counts whole cartons; a label's weight is the scale's.
    half = till.post(
        reverse("register:update_line", args=[1]), {"quantity": "1.5", "unit_price": ""}
    )
    assert half.status_code == 400
    till.post(reverse("register:update_line", args=[0]), {"quantity": "2", "unit_price": ""})
    assert till.get("/register/").context["lines"][0].quantity == D("0.75")


@pytest.mark.django_db
def test_a_product_or_a_selling_unit_barcode_is_found_in_one_query(
    goods, django_assert_num_queries
):
    from decimal import Decimal

    from pos.selectors import code_lookup

    carton, soap = goods["carton"], goods["soap"]
    with django_assert_num_queries(1):
        by_unit = code_lookup(carton.barcode)
    with django_assert_num_queries(1):
        by_product = code_lookup(soap.barcode)
    with django_assert_num_queries(1):
        by_sku = code_lookup(soap.sku)

    assert (by_unit.product, by_unit.selling_unit, by_unit.label) == (soap, carton, None)
    unit = by_unit.selling_unit
    assert (unit.name, unit.factor, unit.price, unit.is_active) == (
        carton.name,
        Decimal(carton.factor),
        carton.price,
        True,
    )
    assert (by_product.product, by_product.selling_unit) == (soap, None)
    assert by_sku.product == soap
    assert code_lookup("no such code") is None


@pytest.mark.django_db
def test_a_scale_label_is_read_in_two_queries_and_a_misread_one_is_not(
    goods, django_assert_num_queries
):
    from pos.models import ScaleLabelTemplate
    from pos.selectors import code_lookup

    label = make_ean13("21" + "00123" + "00750")
    with django_assert_num_queries(2):  # barcodes and SKUs, then template and product at once
        found = code_lookup(label)

    assert (found.product, found.selling_unit) == (goods["sugar"], None)
    assert (found.label.template.prefix, found.label.item_code) == ("21", 123)
    assert found.label.weight == D("0.750")
    misread = label[:12] + str((int(label[12]) + 1) % 10)
    assert code_lookup(misread) is None
    assert code_lookup(make_ean13("21" + "00999" + "00750")) is None  # no product of that code
    ScaleLabelTemplate.objects.filter(prefix="21").update(is_active=False)
    assert code_lookup(label) is None
