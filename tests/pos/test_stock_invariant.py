"""The ledger invariant under random operations and under concurrent writers."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos.errors import InsufficientStock, InvalidQuantity
from pos.models import Product, PurchaseOrderStatus
from pos.quantities import summed
from pos.services.counts import post_stock_count
from pos.services.purchasing import create_purchase_order, mark_ordered, receive_purchase_order
from pos.services.stock import MovementLine, adjust_stock, apply_movements

operation = st.one_of(
    st.tuples(st.just("adjust"), st.integers(0, 2), st.integers(-8, 8).filter(bool)),
    st.tuples(st.just("sell"), st.integers(0, 2), st.integers(1, 6)),
    st.tuples(st.just("receive"), st.integers(0, 2), st.integers(1, 9)),
    st.tuples(st.just("count"), st.integers(0, 2), st.integers(0, 12)),
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, max_size=25))
def test_random_operations_keep_stock_equal_to_ledger(ops, make_product, manager, supplier):
    products = [make_product(stock=3) for _ in range(3)]
    for op, index, qty in ops:
        product = products[index]
        try:
            if op == "adjust":
                adjust_stock(product=product, quantity=qty, reason="property", user=manager)
            elif op == "sell":
                apply_movements(lines=[MovementLine(product.pk, -qty, "sale")], user=manager)
            elif op == "receive":
                order = create_purchase_order(
                    supplier=supplier, lines=[(product, qty, Decimal("5000"))], user=manager
                )
                mark_ordered(order=order, user=manager)
                order = receive_purchase_order(
                    order=order, quantities={order.lines.get().pk: qty}, user=manager
                )
                assert order.status == PurchaseOrderStatus.RECEIVED
            else:
                post_stock_count(counted={product.pk: qty}, user=manager)
        except InsufficientStock:
            pass
        for p in Product.objects.filter(pk__in=[p.pk for p in products]):
            ledger = p.movements.aggregate(s=Sum("quantity"))["s"]
            assert p.stock_on_hand == ledger
            assert p.stock_on_hand >= 0


grams = st.integers(-8000, 8000).filter(bool).map(lambda g: Decimal(g).scaleb(-3))
weighed_operation = st.one_of(
    st.tuples(st.just("adjust"), grams),
    st.tuples(st.just("sell"), grams.map(abs)),
    st.tuples(st.just("receive"), grams.map(abs)),
    st.tuples(st.just("count"), grams.map(abs) | st.just(Decimal(0))),
    st.tuples(st.just("too_precise"), st.just(Decimal("0.0004"))),
)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(weighed_operation, max_size=20))
def test_decimal_quantities_keep_stock_equal_to_ledger_exactly(ops, make_product, manager):
    """A product sold by the kg, to the gram: every operation in kg with 3 places, and stock on
    hand is the exact sum of its movements (no float drift); a fourth place is refused."""
    product = make_product(stock=Decimal("2.5"), unit="kg", quantity_places=3)
    expected = Decimal("2.5")
    for op, qty in ops:
        try:
            if op == "adjust":
                adjust_stock(product=product, quantity=qty, reason="property", user=manager)
            elif op in ("sell", "too_precise"):
                apply_movements(lines=[MovementLine(product.pk, -qty, "sale")], user=manager)
            elif op == "receive":
                apply_movements(lines=[MovementLine(product.pk, qty, "receipt")], user=manager)
            else:
                post_stock_count(counted={product.pk: qty}, user=manager)
                expected = qty
                continue
        except InsufficientStock:
            continue
        except InvalidQuantity:
            assert op == "too_precise"
            continue
        assert op != "too_precise"
        expected += qty if op in ("adjust", "receive") else -qty
    product.refresh_from_db()
    ledger = summed(product.movements.aggregate(s=Sum("quantity"))["s"])
    assert product.stock_on_hand == ledger == expected >= 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adjustments_lose_no_update_and_never_go_negative(make_product, manager):
    """8 threads each try to take 3 units, 5 times, from 60 in stock: only 20 takes fit."""
    product = make_product(stock=60, reorder_level=0)
    refused = []
    errors = []
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            for _ in range(5):
                try:
                    adjust_stock(product=product, quantity=-3, reason="race", user=manager)
                except InsufficientStock:
                    refused.append(1)
                adjust_stock(product=product, quantity=1, reason="race back", user=manager)
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    product.refresh_from_db()
    ledger = product.movements.aggregate(s=Sum("quantity"))["s"]
    takes = 40 - len(refused)
    assert product.stock_on_hand == ledger == 60 - 3 * takes + 40
    assert product.stock_on_hand >= 0
    # every movement's before/after chain is consistent: no two writers saw the same stock
    afters = list(product.movements.order_by("pk").values_list("stock_before", "stock_after"))
    for (_, prev_after), (before, _) in zip(afters, afters[1:], strict=False):
        assert before == prev_after


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_multi_product_writers_in_opposite_order_do_not_deadlock(make_product, manager):
    """Carts listing the same products in different orders: rows are locked by pk, no deadlock."""
    a, b = make_product(stock=100, reorder_level=0), make_product(stock=100, reorder_level=0)
    errors = []
    barrier = threading.Barrier(8)

    def worker(n):
        lines = [MovementLine(a.pk, -1, "sale"), MovementLine(b.pk, -1, "sale")]
        if n % 2:
            lines.reverse()
        try:
            barrier.wait()
            for _ in range(10):
                apply_movements(lines=lines, user=manager)
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for product in (a, b):
        product.refresh_from_db()
        assert product.stock_on_hand == 20 == product.movements.aggregate(s=Sum("quantity"))["s"]
