"""Fiscal receipts as the till prints them: pending until signed, then the original (NS/NR) with
the SDC block and QR code, then copies (CS/CR) from the stored signature."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fiscal import sending
from fiscal.models import OutboxItem
from tests.support.vsdc_simulator import MRC, SDC_ID

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(client, cashier):
    client.force_login(cashier)
    return client


def receipt(till, sale, paper="80"):
    response = till.get(reverse("pos:receipt", args=[sale.pk]) + f"?paper={paper}")
    assert response.status_code == 200
    return response.content.decode()


def test_an_unsigned_sale_shows_fiscal_pending_and_prints_nothing(till, goods, sell, vsdc):
    vsdc.down = True
    sale = sell((goods, 1))
    sending.drain()
    page = receipt(till, sale)
    assert 'data-fiscal="pending"' in page and "FISCAL PENDING" in page
    assert "data-print" not in page  # no print button
    assert '<meta http-equiv="refresh" content="3">' in page  # shown again until signed
    assert 'class="paper-80 held"' in page  # and @media print hides a held slip
    sale.refresh_from_db()
    assert sale.receipt_prints == 0
    assert OutboxItem.objects.get(sale=sale).prints == 0


def test_the_first_print_after_signing_is_the_original_with_the_sdc_block(till, goods, sell, vsdc):
    sale = sell((goods, 2))
    sending.drain()
    page = receipt(till, sale)
    assert "data-print" in page and 'data-fiscal="signed"' in page
    assert 'data-label="NS"' in page
    signed = vsdc.signed[1]
    assert "<dd data-counters>1/1 NS</dd>" in page
    assert f"<dd data-sdc-id>{SDC_ID}</dd>" in page and f"<dd data-mrc>{MRC}</dd>" in page
    internal = re.search(r"<dd data-internal-data>([^<]+)</dd>", page).group(1)
    signature = re.search(r"<dd data-signature>([^<]+)</dd>", page).group(1)
    assert internal.replace("-", "") == signed["intrlData"]
    assert re.fullmatch(r"(\w{4}-){6}\w{2}", internal)  # 26 characters in groups of 4
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}-\w{4}", signature)
    at = timezone.datetime.strptime(signed["vsdcRcptPbctDate"], "%Y%m%d%H%M%S")
    qr = re.search(r'data-qr="([^"]+)"', page).group(1)
    assert qr == (
        f"{at:%d%m%Y}#{at:%H%M%S}#{SDC_ID}#1/1#{signed['intrlData']}#{signed['rcptSign']}"
    )
    assert "<svg" in page.split("data-qr=")[1][:2000]  # the QR drawn inline
    # totals per tax rate: 24,000 at B-18% (tax 3,661.02) and A-EX at 0
    assert "Total B-18%" in page and "Total A-EX" in page
    assert "3,661.02" in page or "3,661" in page
    assert "<dd data-invoice>1</dd>" in page
    assert "CIS: Vevurn POS" in page


def test_a_reprint_is_a_copy_from_the_stored_signature_and_is_counted(till, goods, sell, vsdc):
    sale = sell((goods, 1))
    sending.drain()
    receipt(till, sale)
    vsdc.down = True  # a copy never calls the VSDC
    copy = receipt(till, sale, paper="58")
    assert 'data-label="CS"' in copy and "<dd data-counters>1/1 CS</dd>" in copy
    assert "COPY" in copy
    assert len(vsdc.received_for("sales")) == 1
    assert OutboxItem.objects.get(sale=sale).prints == 2
    sale.refresh_from_db()
    assert sale.receipt_prints == 2


def test_a_refund_slip_is_NR_then_CR_with_amounts_shown_negative(
    till, goods, sell, vsdc, manager, refund_one
):
    sale = sell((goods, 1))
    refund = refund_one(sale, reason="Broken", reason_code="10")
    till.force_login(manager)
    url = reverse("pos:refund_slip", args=[refund.pk])
    assert 'data-fiscal="pending"' in till.get(url).content.decode()
    sending.drain()
    original = till.get(url).content.decode()
    assert 'data-label="NR"' in original and "<dd data-counters>1/2 NR</dd>" in original
    assert "Refund of invoice 1, reason 10" in original
    assert "−12,000" in original  # a refund prints a minus before its amounts
    assert 'data-label="CR"' in till.get(url).content.decode()


def test_a_refused_sale_shows_the_error_until_resent(till, goods, sell, vsdc):
    sale = sell((goods, 1))
    vsdc.queue_result("sales", "910", "Invalid customer TIN")
    sending.drain()
    page = receipt(till, sale)
    assert 'data-fiscal="attention"' in page and "Invalid customer TIN" in page
    assert "data-print" not in page


def test_without_the_backend_the_receipt_is_as_before(settings, till, product, sell):
    settings.FISCAL_BACKEND = "none"
    sale = sell((product, 1))
    page = receipt(till, sale)
    assert "data-fiscal" not in page and "data-print" in page


def test_the_till_offers_rras_refund_reasons_translated(goods, sell):
    from django.utils import translation

    from pos.register.forms import RefundForm

    sale = sell((goods, 1))
    with translation.override("fr"):
        choices = dict(RefundForm(sale=sale).fields["reason_code"].choices)
    assert len(choices) == 13  # RRA's code table, as synced
    assert choices["10"] == "Marchandises endommagées" and choices["13"] == "Autre"


def test_without_the_backend_the_till_asks_no_coded_reason(settings, product, sell):
    from pos.register.forms import RefundForm

    settings.FISCAL_BACKEND = "none"
    assert "reason_code" not in RefundForm(sale=sell((product, 1))).fields
