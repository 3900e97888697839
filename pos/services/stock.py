"""The stock ledger: the only code that changes `Product.stock_on_hand`.

Every change is a `StockMovement`; `apply_movements` is the single entry point (checkout,
refunds, receiving, counts and adjustments all go through it), so the invariant
stock_on_hand == sum(movement quantities) holds for every product.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils.translation import gettext

from accounts import audit
from core.errors import NotFound, PermissionDenied
from pos import hooks
from pos.errors import InsufficientStock, InvalidQuantity, ReasonRequired
from pos.models import (
    JournalKind,
    LowStockAlert,
    MovementKind,
    Product,
    ShopSettings,
    StockMovement,
)
from pos.quantities import as_json, check_places, to_decimal
from pos.services import journal, locks

logger = logging.getLogger(__name__)

# Movements reported with their sale or refund (pos.hooks.stock_moved gets the others).
_REPORTED_WITH_DOCUMENT = {MovementKind.SALE, MovementKind.REFUND}

# Kinds a manager may use for a manual adjustment.
ADJUSTMENT_KINDS = {
    MovementKind.ADJUSTMENT,
    MovementKind.DAMAGED,
    MovementKind.EXPIRED,
    MovementKind.THEFT,
    MovementKind.TRANSFER,
}


@dataclass(frozen=True)
class Reference:
    """The document that caused a movement, e.g. Reference("pos.sale", "42", "Sale R1-000042")."""

    type: str = ""
    id: str = ""
    label: str = ""

    @classmethod
    def to(cls, obj, label: str | None = None) -> "Reference":
        return cls(obj._meta.label_lower, str(obj.pk), label if label is not None else str(obj))


@dataclass(frozen=True)
class MovementLine:
    product_id: int
    quantity: Decimal | int  # signed, in the product's stock unit: negative takes stock out
    kind: str
    unit_cost: object = None  # Decimal or None
    reason: str = ""
    reference: Reference = Reference()


def _quantities(lines: list[MovementLine]) -> list:
    """Each line's quantity as a Decimal; none zero, every kind known."""
    quantities = [to_decimal(line.quantity, field="quantity") for line in lines]
    for line, quantity in zip(lines, quantities, strict=True):
        if quantity == 0:
            raise InvalidQuantity(gettext("Quantity cannot be zero."), field="quantity")
        if line.kind not in MovementKind.values:
            raise InvalidQuantity(
                gettext("Unknown movement kind %(kind)s.") % {"kind": repr(line.kind)}, field="kind"
            )
    return quantities


def apply_movements(
    *,
    lines: list[MovementLine],
    user=None,
    allow_negative: bool | None = None,
    locked: dict[int, Product] | None = None,
) -> list[StockMovement]:
    """Apply signed stock changes atomically; one ledger row per line.

    Locks the products (by pk), refuses a quantity with more decimal places than the product's
    unit has, refuses to go below zero unless the shop (or `allow_negative`) allows it, and
    raises one low-stock alert per product that crosses its reorder level.
    Query count does not grow with the number of lines.

    A caller that has already locked the products (pos.services.locks) in its own, still
    open transaction (checkout) passes them as `locked` (pk -> product): they are not read
    again, and the movements join the caller's transaction without a savepoint (an error
    here rolls back the caller's whole transaction).
    """
    if not lines:
        return []
    quantities = _quantities(lines)
    if allow_negative is None:
        allow_negative = ShopSettings.load().allow_negative_stock
    actor = user if user is not None and user.is_authenticated else None

    ids = sorted({line.product_id for line in lines})
    if locked is not None and not (
        locked.keys() >= set(ids) and transaction.get_connection().in_atomic_block
    ):
        raise RuntimeError("`locked` must hold every product, locked in an open transaction.")
    with transaction.atomic(savepoint=locked is None):
        if locked is not None:
            products = {pk: locked[pk] for pk in ids}
        else:
            products = locks.products(ids)
        if len(products) != len(ids):
            raise NotFound(
                gettext("Product not found."), product_ids=sorted(set(ids) - products.keys())
            )
        initial = {pk: p.stock_on_hand for pk, p in products.items()}
        movements, short = [], []
        for line, quantity in zip(lines, quantities, strict=True):
            product = products[line.product_id]
            check_places(
                quantity,
                product.quantity_places,
                name=product.name,
                unit=product.get_unit_display(),
                field="quantity",
            )
            before = product.stock_on_hand
            after = before + quantity
            if quantity < 0 and after < 0 and not allow_negative:
                short.append((product, max(before, 0), -quantity))  # reported all at once
            product.stock_on_hand = after
            movements.append(
                StockMovement(
                    product=product,
                    kind=line.kind,
                    quantity=quantity,
                    stock_before=before,
                    stock_after=after,
                    unit_cost=line.unit_cost,
                    reason=line.reason[:255],
                    reference_type=line.reference.type,
                    reference_id=line.reference.id,
                    reference_label=line.reference.label[:120],
                    created_by=actor,
                )
            )
        if short:
            raise InsufficientStock.for_shortages(short)
        StockMovement.objects.bulk_create(movements)
        _write_stock(products)
        reported = [m for m in movements if m.kind not in _REPORTED_WITH_DOCUMENT]
        if reported:  # a sale's or refund's stock goes with it (pos.hooks)
            hooks.run(hooks.stock_moved, reported)
        crossed = [
            (pk, p.stock_on_hand, p.reorder_level)
            for pk, p in products.items()
            if initial[pk] > p.reorder_level >= p.stock_on_hand
        ]
        if crossed:
            # Notifications follow the commit: never inside it, never for a rolled-back change.
            transaction.on_commit(lambda: _raise_low_stock_alerts(crossed))
    return movements


def _write_stock(products: dict[int, Product]) -> None:
    """Store each product's new stock_on_hand in one UPDATE (what bulk_update writes, without
    building an ORM expression per product)."""
    table = connection.ops.quote_name(Product._meta.db_table)
    column = connection.ops.quote_name(Product._meta.get_field("stock_on_hand").column)
    key = connection.ops.quote_name(Product._meta.pk.column)
    cases = " ".join(["WHEN %s THEN %s"] * len(products))
    placeholders = ", ".join(["%s"] * len(products))
    params = [value for pk, product in products.items() for value in (pk, product.stock_on_hand)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = CASE {key} {cases} END "  # noqa: S608 - the model's own names
            f"WHERE {key} IN ({placeholders})",
            [*params, *products],
        )


def _raise_low_stock_alerts(crossed: list[tuple[int, Decimal, Decimal]]) -> None:
    alerts = LowStockAlert.objects.bulk_create(
        [
            LowStockAlert(product_id=pk, stock_on_hand=stock, reorder_level=level)
            for pk, stock, level in crossed
        ]
    )
    if settings.EMAIL_HOST:
        names = dict(
            Product.objects.filter(pk__in=[a.product_id for a in alerts]).values_list("pk", "name")
        )
        email_managers_low_stock(
            [
                f"- {names[a.product_id]}: {a.stock_on_hand} left (reorder at {a.reorder_level})"
                for a in alerts
            ]
        )


def email_managers_low_stock(lines: list[str]) -> None:
    from accounts.models import Role, User

    recipients = list(
        User.objects.filter(role__in=[Role.MANAGER, Role.ADMIN], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    shop = ShopSettings.load()
    try:
        send_mail(
            subject=f"[{shop.name}] Low stock: {len(lines)} product(s)",
            message="These products reached their reorder level:\n\n" + "\n".join(lines),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # an email failure must not fail the sale that caused it
        logger.exception("low stock email failed")


def adjust_stock(
    *, product: Product, quantity, reason: str, user, kind: str = MovementKind.ADJUSTMENT
) -> StockMovement:
    """A manager's manual stock change (signed quantity) with a required reason; audited."""
    if not user.has_perm("pos.adjust_stock"):
        raise PermissionDenied(gettext("You are not allowed to adjust stock."))
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(gettext("Give a reason for the stock adjustment."), field="reason")
    if kind not in ADJUSTMENT_KINDS:
        raise InvalidQuantity(
            gettext("%(kind)s is not an adjustment kind.") % {"kind": repr(kind)}, field="kind"
        )
    with transaction.atomic():
        (movement,) = apply_movements(
            lines=[MovementLine(product.pk, quantity, kind, product.cost_price, reason)], user=user
        )
        audit.record_on_commit(
            action="stock.adjusted",
            actor=user,
            target=movement.product,
            changes={
                "stock_on_hand": [as_json(movement.stock_before), as_json(movement.stock_after)]
            },
            details={"kind": kind, "quantity": as_json(movement.quantity), "reason": reason},
        )
        journal.append_stock(JournalKind.STOCK_ADJUSTMENT, [movement])
    product.stock_on_hand = movement.stock_after
    return movement


def low_stock_products():
    """Active products at or below their reorder level (for the managers' list)."""
    from django.db.models import F

    return (
        Product.objects.filter(status="active", stock_on_hand__lte=F("reorder_level"))
        .select_related("category", "supplier")
        .order_by("stock_on_hand", "name")
    )


def acknowledge_alerts(*, alerts, user) -> int:
    from django.utils import timezone

    return alerts.filter(acknowledged=False).update(
        acknowledged=True, acknowledged_by=user, acknowledged_at=timezone.now()
    )
