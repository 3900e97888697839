from decimal import Decimal

import pytest
from django.urls import reverse

from pos.services.checkout import TenderLine

pytestmark = pytest.mark.django_db


def test_receipt_shows_what_the_customer_paid(client, cashier, sell, product):
    from pos.models import ShopSettings

    shop = ShopSettings.load()
    shop.name, shop.tin, shop.receipt_footer = "Vevurn Phone Accessories", "102345678", "Murakoze!"
    shop.save()
    sale = sell((product, 2), tenders=[TenderLine("cash", Decimal(30000))])
    client.force_login(cashier)

    page = client.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    for text in [
        "Vevurn Phone Accessories",
        "TIN 102345678",
        "R1-000001",
        product.name,
        "24,000",  # total
        "3,661",  # VAT included
        "30,000",  # cash given
        "6,000",  # change
        "Murakoze!",
        "Grace",
    ]:
        assert text in page, text
    assert "COPY" not in page

    again = client.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    assert "COPY — reprint" in again


def test_receipt_needs_permission(client, sell, product, make_user):
    sale = sell((product, 1))
    stranger = make_user("nobody", "cashier")
    stranger.groups.clear()
    client.force_login(stranger)
    assert client.get(reverse("pos:receipt", args=[sale.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("pos:receipt", args=[sale.pk])).status_code == 302
