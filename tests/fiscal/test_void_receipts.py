"""A void of a signed sale goes to the VSDC as an R receipt; its printable slip: NR with a minus
before every amount (80/58 mm page, ESC/POS on the till's printer), CR copies later from the
stored signature; reachable from the sale's page and the admin's fiscal outbox."""

import pytest
from django.urls import reverse

from fiscal import sending
from fiscal.models import OutboxItem
from pos.models import ReceiptPrinter
from pos.money import format_money
from pos.services.voids import void_sale
from tests.support.fake_printer import fake_printer  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def voided(fiscal_device, vsdc, sell, goods, manager):
    sale = sell((goods, 2))
    sending.drain()
    void_sale(sale=sale, user=manager, reason="Rang up twice")
    return sale


def _page(client, sale, **query):
    return client.get(reverse("fiscal:void_receipt", args=[sale.pk]), query).content.decode()


def test_the_void_prints_NR_with_minus_amounts_then_copies(voided, goods, client, cashier):
    client.force_login(cashier)
    receipt = client.get(reverse("pos:receipt", args=[voided.pk])).content.decode()
    url = reverse("fiscal:void_receipt", args=[voided.pk])
    assert f'href="{url}"' in receipt and "Void receipt (NR)" in receipt
    pending = _page(client, voided)
    assert "FISCAL PENDING" in pending and "data-print" not in pending
    assert sending.drain()["signed"] == 1
    page = _page(client, voided)
    assert 'data-label="NR"' in page and "data-counters>1/2 NR<" in page
    assert f"data-total>−{format_money(voided.total, code=False)}<" in page
    assert "Rang up twice" in page and "Refund of invoice 1, reason 12" in page
    assert "data-print" in page
    copy = _page(client, voided, paper="58")
    assert 'data-label="CR"' in copy and "COPY" in copy
    assert OutboxItem.objects.get(kind="void").prints == 2


def test_the_void_prints_on_the_tills_printer_as_NR_then_CR(
    voided,
    client,
    cashier,
    register,
    fake_printer,  # noqa: F811
):
    register.receipt_printer = ReceiptPrinter.objects.create(
        name="Counter", host="127.0.0.1", port=fake_printer.port, width="80", timeout_seconds=2
    )
    register.save(update_fields=["receipt_printer"])
    client.force_login(cashier)
    url = reverse("fiscal:print_void_receipt", args=[voided.pk])
    held = client.post(url, follow=True).content.decode()
    assert "FISCAL PENDING" in held and not fake_printer.jobs
    sending.drain()
    page = client.post(url, follow=True).content.decode()
    job = fake_printer.next_job()
    total = format_money(voided.total, code=False)
    assert b"NR" in job and b"1/2 NR" in job and b"Rang up twice" in job
    assert f"-{total}".encode() in job  # the total, with a minus
    assert b"Total B-18%" in job and b"\x1d(k" in job  # tax totals and the printer's QR
    assert b"COPY" not in job and b"\x1bp" not in job  # no drawer kick
    assert "Printed on Counter." in page and 'data-label="NR"' in page
    client.post(url)
    again = fake_printer.next_job()
    assert b"CR" in again and b"COPY" in again


def test_a_sale_not_voided_or_never_sent_has_no_void_receipt(
    vsdc, sell, product, manager, client, fiscal_device
):
    client.force_login(manager)
    never_sent = sell((product, 1))  # before the device: nothing was queued
    OutboxItem.objects.filter(sale=never_sent).delete()
    void_sale(sale=never_sent, user=manager, reason="Mistake")
    assert client.get(reverse("fiscal:void_receipt", args=[never_sent.pk])).status_code == 404
    receipt = client.get(reverse("pos:receipt", args=[never_sent.pk])).content.decode()
    assert "Void receipt (NR)" not in receipt
    kept = sell((product, 1))
    assert client.get(reverse("fiscal:void_receipt", args=[kept.pk])).status_code == 404


def test_another_cashiers_void_is_refused(voided, client, make_user):
    client.force_login(make_user("other", "cashier"))
    assert client.get(reverse("fiscal:void_receipt", args=[voided.pk])).status_code == 403


def test_the_admins_fiscal_outbox_links_the_void_receipt(voided, admin_client):
    sending.drain()
    listed = admin_client.get(reverse("admin:fiscal_outboxitem_changelist")).content.decode()
    assert reverse("fiscal:void_receipt", args=[voided.pk]) in listed
