"""The fiscal day reports: X (the day so far), Z (a day that ended) and PLU, from the signed
documents."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fiscal import sending
from fiscal.receipts import receipt_block

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(goods, sell, vsdc, refund_one):
    """Two chargers sold, one returned, one copy printed, one sale left unsigned."""
    sale = sell((goods, 2))
    refund_one(sale, reason="Broken", reason_code="10")
    sending.drain()
    receipt_block(sale)
    receipt_block(sale)  # the original, then a copy
    vsdc.down = True
    unsigned = sell((goods, 1))
    sending.drain()
    return unsigned


def test_the_x_report_counts_signed_receipts_and_totals_per_tax_rate(client, manager, day):
    client.force_login(manager)
    page = client.get(reverse("fiscal:x_report")).content.decode()
    assert "<dd data-count-ns>1</dd>" in page and "<dd data-count-nr>1</dd>" in page
    assert "<dd data-copies>1</dd>" in page
    # 24,000 sold, 12,000 back: 12,000 at B-18%
    assert '<td class="num" data-total>12,000 RWF</td>' in page
    assert 'data-unsigned="1"' in page and day.number in page


def test_the_plu_report_nets_refunds_per_item(client, manager, day):
    client.force_login(manager)
    page = client.get(reverse("fiscal:plu_report")).content.decode()
    assert 'data-plu="RW2NTXU0000001"' in page
    row = page.split('data-plu="RW2NTXU0000001"')[1].split("</tr>")[0]
    assert ">1<" in row and "12,000 RWF" in row


def test_a_z_report_is_only_of_a_day_that_ended(client, manager, day):
    client.force_login(manager)
    today = timezone.localdate().isoformat()
    assert client.get(reverse("fiscal:z_report") + f"?day={today}").status_code == 400
    page = client.get(reverse("fiscal:z_report"))  # yesterday's
    yesterday = timezone.localdate() - timedelta(days=1)
    assert page.status_code == 200 and page.context["day"] == yesterday
    assert "<dd data-count-ns>0</dd>" in page.content.decode()


def test_a_cashier_cannot_see_the_fiscal_reports(client, cashier):
    client.force_login(cashier)
    assert client.get(reverse("fiscal:x_report")).status_code == 403
