"""Proforma quotes (sales type P, printed PS): their own counter per device, signed by the
VSDC, printed with the SDC block; no stock, no money, no sale, nothing in the X/Z report."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fiscal import sending
from fiscal.models import Device, OutboxItem
from fiscal.proformas import ProformaRefused, QuoteLine, create_proforma
from fiscal.reports import day_report
from pos.models import Sale

pytestmark = pytest.mark.django_db


def _sales_bodies(vsdc, sales_type):
    return [r.body for r in vsdc.received_for("sales") if r.body["salesTyCd"] == sales_type]


def test_a_proforma_is_signed_with_its_own_counter_and_moves_nothing(
    fiscal_device, vsdc, sell, goods, manager
):
    sell((goods, 1))
    quote = create_proforma(
        user=manager,
        lines=[QuoteLine(goods, Decimal(3))],
        customer_name="Kigali Hardware Ltd",
        buyer_tin="101234567",
    )
    item = OutboxItem.objects.get(proforma=quote)
    device = Device.objects.get()
    assert (item.kind, item.invoice_number) == ("proforma", 1)
    assert (device.last_invoice_number, device.last_proforma_number) == (1, 1)
    sending.drain()
    (body,) = _sales_bodies(vsdc, "P")
    assert {k: body[k] for k in ("invcNo", "rcptTyCd", "custTin", "custNm", "totItemCnt")} == {
        "invcNo": 1,
        "rcptTyCd": "S",
        "custTin": "101234567",
        "custNm": "Kigali Hardware Ltd",
        "totItemCnt": 1,
    }
    assert body["totAmt"] == 3 * int(goods.retail_price)
    assert vsdc.counters == {"S": 1, "R": 0, "P": 1}
    goods.refresh_from_db()
    assert goods.stock_on_hand == 9  # the sale's one; the quote moved nothing
    assert Sale.objects.count() == 1
    stock = OutboxItem.objects.filter(kind="stock").order_by("pk")
    assert list(stock.values_list("stock_type_code", flat=True)) == ["06", "11"]  # no quote
    report = day_report(timezone.localdate())
    assert report.counts == {"NS": 1, "NR": 0} and report.unsigned == []


def test_the_proforma_page_prints_PS_with_its_sdc_block_then_copies(
    fiscal_device, vsdc, goods, manager, client
):
    quote = create_proforma(user=manager, lines=[QuoteLine(goods, Decimal(2))])
    client.force_login(manager)
    url = reverse("fiscal:proforma", args=[quote.pk])
    pending = client.get(url).content.decode()
    assert "FISCAL PENDING" in pending and "data-print" not in pending
    sending.drain()
    page = client.get(url).content.decode()
    assert 'data-label="PS"' in page and "PROFORMA: NOT A RECEIPT" in page
    assert "data-counters>1/1 PS<" in page
    again = client.get(url).content.decode()
    assert "COPY" in again and 'data-label="PS"' in again


@pytest.mark.parametrize(
    ("lines", "tin", "field"),
    [([], "", "lines"), ([Decimal(0)], "", "lines"), ([Decimal(1)], "12345", "buyer_tin")],
)
def test_a_bad_proforma_is_refused_and_takes_no_number(
    fiscal_device, goods, manager, lines, tin, field
):
    with pytest.raises(ProformaRefused) as refused:
        create_proforma(user=manager, lines=[QuoteLine(goods, q) for q in lines], buyer_tin=tin)
    assert field in refused.value.fields
    assert Device.objects.get().last_proforma_number == 0
    assert not OutboxItem.objects.filter(kind="proforma").exists()


def test_a_proforma_is_made_in_the_admin_and_opens_its_print_page(
    fiscal_device, goods, admin_client
):
    response = admin_client.post(
        reverse("admin:fiscal_proforma_add"),
        {
            "customer_name": "Amina",
            "buyer_tin": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-product": str(goods.pk),
            "lines-0-quantity": "2",
        },
    )
    item = OutboxItem.objects.get(kind="proforma")
    assert response.status_code == 302
    assert response["Location"] == reverse("fiscal:proforma", args=[item.proforma_id])
    assert item.proforma.lines.get().unit_price == goods.retail_price
