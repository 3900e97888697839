"""Training receipts racing each other on PostgreSQL, each thread with its own connection:
refunds of one training sale never give back more than it sold, and training numbers stay
gap-free and unique per device while real sales take their invoice numbers beside them (and no
deadlock: a training line takes no lock on its product, fiscal.training_models)."""

import uuid
from decimal import Decimal

import pytest

from fiscal import training
from fiscal.models import Device, OutboxItem, TrainingLine, TrainingReceipt
from pos.models import Sale
from pos.services.checkout import Cart, CartLine, TenderLine
from tests.pos.test_selling_concurrency import race, sell_one

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_refunds_of_one_training_sale_give_back_exactly_what_it_sold(
    fiscal_device, register, shift, cashier, manager, make_product
):
    product = make_product(stock=5)
    training.start_training(register=register, user=manager)
    sale = training.ring_up(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(product.pk, 3)]),
        tenders=[TenderLine("cash", Decimal(36000))],
        idempotency_key=uuid.uuid4(),
    )
    line = sale.lines.get()

    results = race(
        10,
        lambda i: training.refund_training_sale(
            receipt=sale, user=cashier, lines=[training.RefundLine(line.pk, Decimal(1))]
        ),
    )

    refunds = [r for r in results if isinstance(r, TrainingReceipt)]
    refused = [r for r in results if isinstance(r, training.TrainingRefused)]
    assert (len(refunds), len(refused)) == (3, 7), results
    line.refresh_from_db()
    assert line.refunded == 3
    back = TrainingLine.objects.filter(original_line=line)
    assert sum(row.total for row in back) == line.total  # the last one takes the remainder
    numbers = sorted(
        OutboxItem.objects.filter(kind="training").values_list("invoice_number", flat=True)
    )
    assert numbers == [1, 2, 3, 4]  # the sale, then three refunds: no gap, none shared


def test_training_and_real_sales_at_once_keep_two_gap_free_counters(
    fiscal_device, register, shift, cashier, manager, make_product
):
    from pos.models import Register
    from pos.services.shifts import open_shift

    product = make_product(stock=50)
    practice_till = Register.objects.create(code="R9", name="Practice")
    trainee = type(cashier).objects.create_user(username="trainee", password="x" * 12)
    from accounts import services

    services.assign_role(user=trainee, role="cashier")
    practice_shift = open_shift(register=practice_till, cashier=trainee, opening_float=Decimal(0))
    training.start_training(register=practice_till, user=manager)

    def work(i):
        if i % 2:
            return sell_one(shift, cashier, product)
        return training.ring_up(
            shift=practice_shift,
            cashier=trainee,
            cart=Cart([CartLine(product.pk, 1)]),
            tenders=[TenderLine("cash", Decimal(12000))],
            idempotency_key=uuid.uuid4(),
        )

    results = race(20, work)

    assert all(isinstance(r, Sale | TrainingReceipt) for r in results), [
        str(r) for r in results if isinstance(r, Exception)
    ]
    sales = OutboxItem.objects.filter(kind="sale").values_list("invoice_number", flat=True)
    practice = OutboxItem.objects.filter(kind="training").values_list("invoice_number", flat=True)
    assert sorted(sales) == list(range(1, 11)) and sorted(practice) == list(range(1, 11))
    device = Device.objects.get()
    assert (device.last_invoice_number, device.last_training_number) == (10, 10)
    product.refresh_from_db()
    assert product.stock_on_hand == 40  # the ten real sales only
