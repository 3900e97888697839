"""Fiscal per branch (issues 25 and 29): each store's tills sign through the store's own device
with its branch id (bhfId) and counters, items are registered with every branch's device
through its own outbox, stock is reported by the store whose stock moved; and a refund's
ESC/POS slip prints a minus before every amount."""

import re

import pytest

from fiscal import sending
from pos.models import ReceiptPrinter
from pos.services import printing
from tests.support.fake_printer import fake_printer  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_signed_refunds_escpos_slip_prints_a_minus_before_every_amount(
    goods,
    sell,
    refund_one,
    register,
    fake_printer,  # noqa: F811
):
    printer = ReceiptPrinter.objects.create(
        name="Counter", host="127.0.0.1", port=fake_printer.port, width="80", timeout_seconds=2
    )
    refund = refund_one(sell((goods, 1)), reason="Broken", reason_code="10")
    assert sending.drain()["signed"] == 2
    printing.print_refund_slip(refund=refund, printer=printer)
    job = fake_printer.next_job()
    assert b"NR" in job and b"1/2 NR" in job
    assert re.search(rb"  1 x -12,000 +-12,000\n", job)  # the line
    assert re.search(rb"Refunded \(Cash\) +-12,000\n", job)  # the total
    assert re.search(rb"Total B-18% +-12,000\n", job)  # the SDC block's tax totals
    assert re.search(rb"Total tax B-18% +-1,83[01]", job)
    assert not re.search(rb" 12,000\n", job)  # no amount without its minus
