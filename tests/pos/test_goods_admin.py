"""The back office for goods as shops sell them: the scale layouts' "test a barcode" box, a
layout whose digits do not add up, selling units on the product page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pos.barcodes import make_ean13
from pos.models import ScaleLabelTemplate, SellingUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_the_test_a_barcode_box_shows_product_weight_and_total(
    manager_client, make_product, scale_layouts
):
    make_product(
        name="Rice", unit="kg", quantity_places=3, retail_price=Decimal(1200),
        minimum_price=Decimal(1000), scale_code=4321,
    )  # fmt: skip
    listing = manager_client.get(reverse("admin:pos_scalelabeltemplate_changelist"))
    assert "data-label-test" in listing.content.decode()
    assert listing.context["cl"].result_count == 5  # the common layouts, installed

    code = make_ean13("21" + "04321" + "01250")  # 1.250 kg of rice
    page = manager_client.get(reverse("admin:pos_scalelabeltemplate_test"), {"code": code})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Rice" in html and "1.25 kg" in html and "1,500 RWF" in html
    bad = manager_client.get(reverse("admin:pos_scalelabeltemplate_test"), {"code": "2100000"})
    assert "13 digits" in bad.content.decode()


def test_a_layout_whose_digits_do_not_add_up_is_refused(manager_client):
    response = manager_client.post(
        reverse("admin:pos_scalelabeltemplate_add"),
        {"name": "Odd", "prefix": "27", "item_digits": "5", "value_digits": "4",
         "value_kind": "weight", "value_decimals": "3", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "add up to 12 digits" in response.content.decode()
    assert not ScaleLabelTemplate.objects.filter(name="Odd").exists()


def test_a_selling_unit_with_a_product_barcode_or_a_bad_factor_is_refused(make_product):
    from django.core.exceptions import ValidationError

    product = make_product()
    unit = SellingUnit(product=product, name="Carton", factor=Decimal(-24))
    with pytest.raises(ValidationError) as caught:
        unit.full_clean()
    assert "factor" in caught.value.message_dict
    unit = SellingUnit(product=product, name="Carton", factor=24, barcode=product.barcode)
    with pytest.raises(ValidationError, match="already has this barcode"):
        unit.full_clean()
    unit.barcode = make_ean13("600000000048")
    unit.full_clean()
    assert unit.label == "Carton (24)"
    assert unit.shelf_price(product.retail_price) == Decimal(24 * 12000)
