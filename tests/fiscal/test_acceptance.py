"""Acceptance: the VSDC down for ten minutes under four tills selling (PostgreSQL, real threads,
time moved rather than waited), and a worker killed mid-request."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from fiscal import sending
from fiscal.client import SAVE_SALES
from fiscal.models import OutboxItem, Signature
from pos.models import Register, Sale
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.shifts import open_shift

TILLS = 4
SALES_PER_TILL = 6


def _till(n: int, make_user):
    register = Register.objects.create(code=f"T{n}", name=f"Till {n}")
    cashier = make_user(username=f"till{n}", role="cashier")
    return open_shift(register=register, cashier=cashier, opening_float=Decimal(0)), cashier


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_vsdc_down_ten_minutes_under_four_tills_every_sale_signed_once_in_order(
    vsdc, fiscal_device, make_product, make_user
):
    product = make_product(stock=1000)
    sending.drain()  # the opening stock
    tills = [_till(n, make_user) for n in range(1, TILLS + 1)]
    vsdc.down = True
    start = timezone.now()
    errors: list = []

    def sell(shift, cashier):
        try:
            for _ in range(SALES_PER_TILL):
                checkout(
                    shift=shift,
                    cashier=cashier,
                    cart=Cart([CartLine(product.pk, 1)]),
                    tenders=[TenderLine("cash", Decimal(12000))],
                    idempotency_key=uuid.uuid4(),
                )
        except Exception as error:  # asserted on below
            errors.append(error)
        finally:
            connection.close()

    # Ten minutes of selling with the VSDC down; the worker keeps trying (with back-off).
    for minute in range(10):
        with time_machine.travel(start + timedelta(minutes=minute), tick=True):
            if minute < 3:
                threads = [threading.Thread(target=sell, args=till) for till in tills]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=120)
            sending.drain()
    assert errors == []
    total = TILLS * SALES_PER_TILL * 3
    assert Sale.objects.count() == total  # the shop sold the whole time
    assert not Signature.objects.exists()
    assert OutboxItem.objects.filter(kind="sale", status="pending").count() == total

    vsdc.down = False
    with time_machine.travel(start + timedelta(minutes=21), tick=True):  # past the back-off
        sending.drain()

    items = list(OutboxItem.objects.filter(kind="sale").order_by("pk"))
    assert [i.invoice_number for i in items] == list(range(1, total + 1))  # gap-free, in order
    assert all(i.status == "signed" for i in items)
    assert vsdc.sales_in_order == list(range(1, total + 1))  # sent in the order taken
    assert set(vsdc.signings.values()) == {1}  # each signed once
    assert Signature.objects.filter(item__kind="sale").count() == total
    # The counters follow the invoice numbers: receipt n is NS n.
    numbers = Signature.objects.filter(item__kind="sale").order_by("item__invoice_number")
    assert [s.receipt_number for s in numbers] == list(range(1, total + 1))


@pytest.mark.django_db
def test_a_worker_killed_mid_request_resends_without_a_second_signature(
    vsdc, goods, sell, monkeypatch
):
    sale = sell((goods, 1))
    real_send = sending.devices.client

    class Killed(BaseException):
        """The process dies: nothing after the call runs, not even `finally` blocks' writes."""

    def dies_after_the_vsdc_signed():
        client = real_send()
        original = client.send

        def send(path, body, credentials):
            answer = original(path, body, credentials)  # the VSDC signs and answers...
            if path == SAVE_SALES:
                raise Killed  # ...and the worker is gone before it reads the answer
            return answer

        client.send = send
        return client

    monkeypatch.setattr(sending.devices, "client", dies_after_the_vsdc_signed)
    monkeypatch.setattr(sending, "_release", lambda *args: None)  # a dead worker frees nothing
    with pytest.raises(Killed):
        sending.drain()
    monkeypatch.undo()

    item = OutboxItem.objects.get(sale=sale)
    assert item.status == "pending" and item.attempts == 1 and item.payload is not None
    assert vsdc.signings == {1: 1} and not Signature.objects.exists()

    assert sending.drain()["signed"] == 0  # the dead worker's lease still holds the device
    with time_machine.travel(timezone.now() + timedelta(seconds=sending.LEASE_SECONDS + 1)):
        assert sending.drain()["signed"] == 1  # resent, answered 994 with the VSDC's data
    assert vsdc.signings == {1: 1}
    assert [r.body for r in vsdc.received_for("sales")][0] == item.payload
    assert len(vsdc.received_for("sales")) == 2
    assert Signature.objects.get().receipt_signature == vsdc.signed[1]["rcptSign"]
