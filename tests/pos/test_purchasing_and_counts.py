from decimal import Decimal

import pytest

from core.errors import PermissionDenied
from pos.errors import InvalidQuantity, InvalidStatusTransition, OverReceipt
from pos.models import PurchaseOrderStatus, StockCount
from pos.services.counts import count_differences, post_stock_count
from pos.services.purchasing import (
    cancel_purchase_order,
    create_purchase_order,
    mark_ordered,
    receive_purchase_order,
    weighted_average_cost,
)
from pos.services.stock import adjust_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(product, make_product, supplier, manager):
    other = make_product(stock=0, cost_price=Decimal("1000"), retail_price=Decimal("3500"),
                         minimum_price=Decimal("3000"))  # fmt: skip
    order = create_purchase_order(
        supplier=supplier,
        lines=[(product, 10, Decimal("7000")), (other, 5, Decimal("1200"))],
        user=manager,
    )
    return mark_ordered(order=order, user=manager)


def test_partial_then_full_receiving(order, manager, product):
    first, second = order.lines.order_by("pk")
    order = receive_purchase_order(order=order, quantities={first.pk: 4}, user=manager)
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    product.refresh_from_db()
    assert product.stock_on_hand == 14
    # (10 * 6000 + 4 * 7000) / 14 = 6285.71... -> 6286 RWF
    assert product.cost_price == Decimal("6286")
    receipt = product.movements.get(kind="receipt")
    assert receipt.reference_type == "pos.purchaseorder" and receipt.reference_id == str(order.pk)
    order = receive_purchase_order(
        order=order, quantities={first.pk: 6, second.pk: 5}, user=manager
    )
    assert order.status == PurchaseOrderStatus.RECEIVED and order.received_at
    second.product.refresh_from_db()
    assert second.product.stock_on_hand == 5 and second.product.cost_price == Decimal("1200")


def test_over_receipt_and_bad_quantities_write_nothing(order, manager, product):
    first, second = order.lines.order_by("pk")
    with pytest.raises(OverReceipt, match="only 10 outstanding"):
        receive_purchase_order(order=order, quantities={second.pk: 1, first.pk: 11}, user=manager)
    with pytest.raises(InvalidQuantity):
        receive_purchase_order(order=order, quantities={first.pk: -1}, user=manager)
    with pytest.raises(InvalidQuantity):
        receive_purchase_order(order=order, quantities={first.pk: 0}, user=manager)
    product.refresh_from_db()
    assert product.stock_on_hand == 10
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.ORDERED


def test_cancelled_or_draft_orders_cannot_be_received(order, manager, supplier, product):
    cancel_purchase_order(order=order, user=manager)
    with pytest.raises(InvalidStatusTransition):
        receive_purchase_order(order=order, quantities={order.lines.first().pk: 1}, user=manager)
    draft = create_purchase_order(supplier=supplier, lines=[(product, 1, 1)], user=manager)
    with pytest.raises(InvalidStatusTransition):
        receive_purchase_order(order=draft, quantities={draft.lines.get().pk: 1}, user=manager)


def test_cashier_cannot_receive(order, cashier):
    with pytest.raises(PermissionDenied):
        receive_purchase_order(order=order, quantities={}, user=cashier)


def test_weighted_average_ignores_negative_stock():
    assert weighted_average_cost(-3, Decimal("5000"), 4, Decimal("7000")) == Decimal("7000")
    assert weighted_average_cost(0, Decimal("0"), 4, Decimal("7000")) == Decimal("7000")
    assert weighted_average_cost(1, Decimal("1000"), 2, Decimal("1000")) == Decimal("1000")


def test_stock_count_posts_differences_as_corrections(make_product, manager):
    a, b, c = make_product(stock=10), make_product(stock=5), make_product(stock=3)
    review = count_differences({a.pk: 8, b.pk: 5, c.pk: 4})
    assert {r["product"].pk: r["difference"] for r in review} == {a.pk: -2, b.pk: 0, c.pk: 1}
    count = post_stock_count(counted={a.pk: 8, b.pk: 5, c.pk: 4}, user=manager, name="Shelf A")
    for product, expected in ((a, 8), (b, 5), (c, 4)):
        product.refresh_from_db()
        assert product.stock_on_hand == expected
    corrections = count.lines.count(), a.movements.filter(kind="count_correction").get()
    assert corrections[0] == 3
    assert corrections[1].quantity == -2 and corrections[1].reference_id == str(count.pk)
    assert not b.movements.filter(kind="count_correction").exists()


def test_count_is_against_stock_at_posting_time(product, manager):
    # counted 7 while a sale happened meanwhile: stock is what was counted.
    adjust_stock(product=product, quantity=-1, reason="sale", user=manager)
    post_stock_count(counted={product.pk: 7}, user=manager)
    product.refresh_from_db()
    assert product.stock_on_hand == 7


def test_count_refuses_negative_and_needs_permission(product, manager, cashier):
    with pytest.raises(InvalidQuantity):
        post_stock_count(counted={product.pk: -1}, user=manager)
    with pytest.raises(PermissionDenied):
        post_stock_count(counted={product.pk: 1}, user=cashier)
    assert StockCount.objects.count() == 0


def test_count_is_audited(product, manager, django_capture_on_commit_callbacks):
    from accounts.models import AuditLog

    with django_capture_on_commit_callbacks(execute=True):
        post_stock_count(counted={product.pk: 6}, user=manager)
    entry = AuditLog.objects.get(action="stock.count_posted")
    assert entry.changes == {str(product.pk): [10, 6]} and entry.actor == manager
