"""The admin shows money as the screens do, models under plain names, internal tables read-only
and off the index."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from pos.models import ProductDaySales, Sale, Sequence
from pos.services.sequences import next_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def sale(sell, make_product):
    product = make_product(stock=5, retail_price=Decimal("14500"))
    return sell((product, 1))


def test_sale_list_and_page_show_money_as_the_screens_do(admin_client, sale):
    listing = admin_client.get(reverse("admin:pos_sale_changelist")).content.decode()
    page = admin_client.get(reverse("admin:pos_sale_change", args=[sale.pk])).content.decode()

    for html in (listing, page):
        assert "14,500 RWF" in html
        assert "14500.00" not in html
        assert "14500,00" not in html
    assert "2,212 RWF" in page  # the VAT in 14,500 at 18%, on the line inline


def test_money_columns_still_sort_by_the_amount(admin_client, sale, sell, product):
    sell((product, 3))  # 36,000 RWF
    response = admin_client.get(reverse("admin:pos_sale_changelist"), {"o": "4"})  # total, up

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("14,500 RWF") < html.index("36,000 RWF")


def test_an_editable_price_stays_a_plain_number_input(admin_client, product):
    html = admin_client.get(reverse("admin:pos_product_change", args=[product.pk])).content.decode()

    assert 'name="retail_price" value="12000.00"' in html
    assert (
        "12,000 RWF" in admin_client.get(reverse("admin:pos_product_changelist")).content.decode()
    )


def test_every_model_has_a_plain_name_in_the_admin_index(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()

    assert "saless" not in html.lower()
    for model in (ProductDaySales, Sale, Sequence):
        assert not model._meta.verbose_name_plural.endswith("ss")
    assert ProductDaySales._meta.verbose_name_plural == "daily product sales"


@pytest.mark.parametrize("model", [ProductDaySales, Sequence])
def test_internal_tables_are_off_the_index_and_read_only(admin_client, sale, model):
    with transaction.atomic():
        next_number("refund")
    index = admin_client.get(reverse("admin:index")).content.decode()
    opts = model._meta
    listing = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    row = model.objects.first()
    page = admin_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
    )

    assert f'href="{listing}"' not in index
    assert admin_client.get(listing).status_code == 200  # still reachable, for support
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(page.wsgi_request.path, {}).status_code == 403
