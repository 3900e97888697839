"""Checkouts racing each other, and a shift's close, on PostgreSQL, each thread with its own
connection."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from pos import errors
from pos.models import Product, ProductDaySales, Register, Sale, Shift, StockMovement
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.shifts import end_shift
from tests.pos.ledger_checks import assert_day_sales_hold

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(count: int, work) -> list:
    """Run work(i) in `count` threads released together; return each result or exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def sell_one(shift, cashier, product, key=None):
    return checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(product.pk, 1)]),
        tenders=[TenderLine("cash", Decimal(12000))],
        idempotency_key=key or uuid.uuid4(),
    )


def test_fifty_checkouts_for_the_last_ten_units_sell_exactly_ten(shift, cashier, make_product):
    product = make_product(stock=10)

    results = race(50, lambda i: sell_one(shift, cashier, product))

    sold = [r for r in results if isinstance(r, Sale)]
    refused = [r for r in results if isinstance(r, errors.InsufficientStock)]
    assert len(sold) == 10
    assert len(refused) == 40, [
        r for r in results if not isinstance(r, Sale | errors.InsufficientStock)
    ]
    product.refresh_from_db()
    assert product.stock_on_hand == 0
    ledger = StockMovement.objects.filter(product=product).aggregate(total=Sum("quantity"))["total"]
    assert ledger == 0


def test_fifty_buyers_of_half_a_kilo_against_five_kilos_sell_exactly_ten(
    shift, cashier, make_product
):
    sugar = make_product(
        name="Sugar", unit="kg", quantity_places=3, retail_price=Decimal(1450),
        cost_price=Decimal(1100), minimum_price=Decimal(1300), stock=Decimal(5),
    )  # fmt: skip

    def buy(i):
        return checkout(
            shift=shift,
            cashier=cashier,
            cart=Cart([CartLine(sugar.pk, Decimal("0.5"))]),
            tenders=[TenderLine("cash", Decimal(1000))],
            idempotency_key=uuid.uuid4(),
        )

    results = race(50, buy)

    sold = [r for r in results if isinstance(r, Sale)]
    refused = [r for r in results if isinstance(r, errors.InsufficientStock)]
    assert (len(sold), len(refused)) == (10, 40), [
        r for r in results if not isinstance(r, Sale | errors.InsufficientStock)
    ]
    sugar.refresh_from_db()
    assert sugar.stock_on_hand == Decimal(0)
    movements = StockMovement.objects.filter(product=sugar)
    assert movements.aggregate(total=Sum("quantity"))["total"] == Decimal(0)
    # Each sale saw the stock the one before it left: 5.000, 4.500, ... 0.500.
    befores = sorted(movements.filter(kind="sale").values_list("stock_before", flat=True))
    assert befores == [Decimal(n) / 2 for n in range(1, 11)]
    (day,) = ProductDaySales.objects.filter(product=sugar)
    assert (day.quantity, day.total) == (Decimal(5), Decimal(7250))


def test_concurrent_checkouts_keep_receipt_numbers_gap_free(shift, cashier, make_product):
    product = make_product(stock=1000)

    results = race(30, lambda i: sell_one(shift, cashier, product))

    assert all(isinstance(r, Sale) for r in results), results
    numbers = sorted(Sale.objects.values_list("number", flat=True))
    assert numbers == [f"R1-{n:06d}" for n in range(1, 31)]
    # The reports' daily sums saw every one of the 30 sales, once.
    (day,) = ProductDaySales.objects.filter(product=product)
    assert (day.quantity, day.total) == (30, Decimal(30) * product.retail_price)
    assert_day_sales_hold()


def test_failed_checkouts_consume_no_receipt_number(shift, cashier, make_product):
    product = make_product(stock=5)

    race(20, lambda i: sell_one(shift, cashier, product))

    numbers = sorted(Sale.objects.values_list("number", flat=True))
    assert numbers == [f"R1-{n:06d}" for n in range(1, 6)]


def test_the_same_idempotency_key_twenty_times_creates_one_sale(shift, cashier, make_product):
    product = make_product(stock=100)
    key = uuid.uuid4()

    results = race(20, lambda i: sell_one(shift, cashier, product, key))

    assert all(isinstance(r, Sale) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Sale.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock_on_hand == 99


def _wait_until_a_statement_waits_for_a_lock(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no statement waited for a lock")


def test_a_sale_waiting_for_the_register_while_its_shift_closes_is_refused(
    shift, cashier, make_product
):
    """The close locks the register row, ends the shift and commits while a checkout waits for
    that row: the checkout then sees the shift ended (not the open shift of the moment its
    statement began), writes nothing and takes no receipt number."""
    product = make_product(stock=5)
    closed, release, found = threading.Event(), threading.Event(), {}

    def close():
        try:
            with transaction.atomic():
                end_shift(shift=shift, counted={"cash": Decimal(0)}, user=cashier)
                closed.set()
                release.wait(30)
        finally:
            connection.close()

    def sell():
        try:
            found["sale"] = sell_one(shift, cashier, product)
        except Exception as exc:  # asserted on below
            found["error"] = exc
        finally:
            connection.close()

    closer = threading.Thread(target=close)
    closer.start()
    assert closed.wait(30)
    seller = threading.Thread(target=sell)
    seller.start()
    _wait_until_a_statement_waits_for_a_lock()  # the checkout, at the register's row
    release.set()
    closer.join(30)
    seller.join(30)

    assert isinstance(found.get("error"), errors.ShiftClosed), found
    assert not Sale.objects.exists()
    assert Register.objects.get(pk=shift.register_id).last_receipt_number == 0
    assert Product.objects.get(pk=product.pk).stock_on_hand == 5
    assert Shift.objects.get(pk=shift.pk).status == Shift.Status.ENDED
