"""Purchase orders: draft -> ordered -> partly received -> received (or cancelled)."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import NotFound, PermissionDenied
from pos.errors import InvalidQuantity, InvalidStatusTransition, OverReceipt
from pos.models import (
    JournalKind,
    MovementKind,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from pos.money import to_currency
from pos.quantities import check_places, to_decimal
from pos.services import journal, locks
from pos.services.stock import MovementLine, Reference, apply_movements, store_id_of

S = PurchaseOrderStatus


def create_purchase_order(
    *, supplier, lines: list[tuple], user, notes: str = "", store=None
) -> PurchaseOrder:
    """`lines` are (product, quantity, unit_cost) tuples; the goods are delivered to `store`
    (a Store or pk; None: the first active store), whose stock receiving them moves."""
    if not user.has_perm("pos.add_purchaseorder"):
        raise PermissionDenied(gettext("You are not allowed to create purchase orders."))
    with transaction.atomic():
        order = PurchaseOrder.objects.create(
            supplier=supplier, notes=notes, created_by=user, store_id=store_id_of(store)
        )
        objs = []
        for product, quantity, unit_cost in lines:
            quantity = to_decimal(quantity, field="quantity")
            if quantity <= 0:
                raise InvalidQuantity(
                    gettext("Ordered quantity must be more than 0."), field="quantity"
                )
            check_places(
                quantity,
                product.quantity_places,
                name=product.name,
                unit=product.get_unit_display(),
                field="quantity",
            )
            objs.append(
                PurchaseOrderLine(
                    order=order, product=product, quantity_ordered=quantity, unit_cost=unit_cost
                )
            )
        PurchaseOrderLine.objects.bulk_create(objs)
    return order


def mark_ordered(*, order: PurchaseOrder, user) -> PurchaseOrder:
    if not user.has_perm("pos.change_purchaseorder"):
        raise PermissionDenied()
    with transaction.atomic():
        order = _lock(order)
        if order.status != S.DRAFT:
            raise InvalidStatusTransition(gettext("Only a draft order can be marked as ordered."))
        if not order.lines.exists():
            raise InvalidStatusTransition(gettext("The order has no lines."))
        order.status, order.ordered_at = S.ORDERED, timezone.now()
        order.save(update_fields=["status", "ordered_at"])
    return order


def cancel_purchase_order(*, order: PurchaseOrder, user) -> PurchaseOrder:
    if not user.has_perm("pos.change_purchaseorder"):
        raise PermissionDenied()
    with transaction.atomic():
        order = _lock(order)
        if order.status not in (S.DRAFT, S.ORDERED):
            raise InvalidStatusTransition(
                gettext("Only a draft or ordered purchase order can be cancelled.")
            )
        order.status = S.CANCELLED
        order.save(update_fields=["status"])
    return order


def _lock(order: PurchaseOrder) -> PurchaseOrder:
    locked = locks.purchase_order(order.pk)
    if locked is None:
        raise NotFound(gettext("Unknown purchase order."), field="order")
    return locked


def weighted_average_cost(
    old_qty: Decimal, old_cost: Decimal, qty: Decimal, unit_cost: Decimal
) -> Decimal:
    """(old_qty*old_cost + qty*unit_cost) / (old_qty + qty); negative old stock counts as 0."""
    old_qty = max(old_qty, 0)
    return to_currency((old_qty * old_cost + qty * unit_cost) / (old_qty + qty))


def receive_purchase_order(*, order: PurchaseOrder, quantities: dict, user) -> PurchaseOrder:
    """Receive some or all of an order: `quantities` maps line id -> quantity received now.

    Adds stock (receipt movements), moves each product's cost to the weighted average, and sets
    the status to partly received or received. All or nothing.
    """
    if not user.has_perm("pos.receive_stock"):
        raise PermissionDenied(gettext("You are not allowed to receive stock."))
    with transaction.atomic():
        order = _lock(order)
        if order.status not in (S.ORDERED, S.PARTLY_RECEIVED):
            raise InvalidStatusTransition(
                gettext("A purchase order that is %(status)s cannot be received.")
                % {"status": order.get_status_display().lower()}
            )
        lines = locks.purchase_order_lines(order)
        movement_lines = []
        received = []
        ref = Reference.to(order)
        for line_id, qty in sorted(quantities.items()):
            if line_id not in lines:
                raise InvalidQuantity(
                    gettext("Line %(line_id)s is not on %(order)s.")
                    % {"line_id": line_id, "order": order},
                    field="lines",
                )
            qty = to_decimal(qty, field="quantity")
            if qty < 0:
                raise InvalidQuantity(
                    gettext("Received quantities cannot be negative."), field="quantity"
                )
            if qty == 0:
                continue
            line = lines[line_id]
            if qty > line.quantity_outstanding:
                raise OverReceipt(
                    gettext(
                        "%(product)s: only %(quantity_outstanding)s outstanding, %(qty)s received."
                    )
                    % {
                        "product": line.product,
                        "quantity_outstanding": line.product.format_quantity(
                            line.quantity_outstanding
                        ),
                        "qty": line.product.format_quantity(qty),
                    },
                    field="quantity",
                )
            line.quantity_received += qty
            received.append(line)
            movement_lines.append(
                MovementLine(line.product_id, qty, MovementKind.RECEIPT, line.unit_cost, "", ref)
            )
        if not movement_lines:
            raise InvalidQuantity(gettext("Enter a quantity received for at least one line."))
        movements = apply_movements(lines=movement_lines, user=user, store=order.store_id)
        # Each product's total over the stores before each receipt line (the movements carry
        # the store's figures; the total after them all is on the product).
        total = {m.product_id: m.product.stock_on_hand for m in movements}
        for movement in movements:
            total[movement.product_id] -= movement.quantity
        products = []
        for movement in movements:
            product: Product = movement.product
            product.cost_price = weighted_average_cost(
                total[product.pk], product.cost_price, movement.quantity, movement.unit_cost
            )
            total[product.pk] += movement.quantity
            products.append(product)
        Product.objects.bulk_update(products, ["cost_price"])
        PurchaseOrderLine.objects.bulk_update(received, ["quantity_received"])
        done = all(line.quantity_outstanding == 0 for line in lines.values())
        order.status = S.RECEIVED if done else S.PARTLY_RECEIVED
        if done:
            order.received_at = timezone.now()
        order.save(update_fields=["status", "received_at"])
        journal.append_stock(JournalKind.GOODS_RECEIPT, movements)
    return order
