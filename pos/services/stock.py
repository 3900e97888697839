"""The stock ledger: the only code that changes a store's stock (`StockLevel.on_hand`) and the
product's total over the stores (`Product.stock_on_hand`).

Every change is a `StockMovement` of one store; `apply_movements` is the single entry point
(checkout, refunds, voids, receiving, counts and adjustments all go through it), so for every
store and product the level equals the sum of that store's movements, and every product's total
equals the sum of its levels (pos.integrity checks both). Sales, refunds and voids move the
stock of the till's store; back-office screens move the store chosen on them.
"""

import functools
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
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
    StockLevel,
    StockMovement,
    Store,
)
from pos.models.stores import default_store_pk
from pos.quantities import as_json, check_places, to_decimal
from pos.services import journal, locks, rows

logger = logging.getLogger(__name__)

# Movements reported with their sale or refund (pos.hooks.stock_moved gets the others).
_REPORTED_WITH_DOCUMENT = {MovementKind.SALE, MovementKind.REFUND}
# Read once: `.values` builds the list from the members on every read.
_KINDS = tuple(MovementKind.values)

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
        if line.kind not in _KINDS:
            raise InvalidQuantity(
                gettext("Unknown movement kind %(kind)s.") % {"kind": repr(line.kind)}, field="kind"
            )
    return quantities


def store_id_of(store) -> int:
    """The pk of `store` (a Store or a pk); None: the first active store (a one-store shop's
    only one; a back-office screen always names one)."""
    if store is None:
        return default_store_pk()
    return store.pk if isinstance(store, Store) else int(store)


def till_store_id(register_id: int, shift=None) -> int:
    """The store of a till (its `shift`'s register when that is loaded, else one query): the
    stock its sales, refunds and voids move."""
    if shift is not None and type(shift).register.is_cached(shift):
        return shift.register.store_id
    from pos.models import Register

    return Register.objects.filter(pk=register_id).values_list("store_id", flat=True).get()


def apply_movements(
    *,
    lines: list[MovementLine],
    store=None,
    user=None,
    allow_negative: bool | None = None,
    locked: tuple[dict[int, Product], dict[int, StockLevel]] | None = None,
) -> list[StockMovement]:
    """Apply signed stock changes to one store's stock atomically; one ledger row per line.

    `store` (a Store or its pk): the till's for a sale, refund or void, the one chosen on a
    back-office screen; None: the first active store (`store_id_of`).

    Locks the products with their stock levels in the store (pos.services.locks.stock, by
    product pk), refuses a quantity with more decimal places than the product's unit has,
    refuses to take the store below zero unless the shop (or `allow_negative`) allows it, and
    raises one low-stock alert per product whose stock in the store crosses its reorder level.
    Query count does not grow with the number of lines.

    A caller that has already locked them (pos.services.locks.stock) in its own, still open
    transaction (checkout) passes them as `locked` ((products, levels), by product pk): they are
    not read again, and the movements join the caller's transaction without a savepoint (an
    error here rolls back the caller's whole transaction).
    """
    if not lines:
        return []
    quantities = _quantities(lines)
    if allow_negative is None:
        allow_negative = ShopSettings.load().allow_negative_stock
    actor = user if user is not None and user.is_authenticated else None
    store_id = store_id_of(store)

    ids = sorted({line.product_id for line in lines})
    with transaction.atomic(savepoint=locked is None):
        products, levels = _locked_stock(locked, store_id, ids)
        if len(products) != len(ids):
            raise NotFound(
                gettext("Product not found."), product_ids=sorted(set(ids) - products.keys())
            )
        initial = {pk: level.on_hand for pk, level in levels.items()}
        movements, short = [], []
        for line, quantity in zip(lines, quantities, strict=True):
            product, level = products[line.product_id], levels[line.product_id]
            check_places(
                quantity,
                product.quantity_places,
                name=product.name,
                unit=product.get_unit_display,
                field="quantity",
            )
            before = level.on_hand
            after = before + quantity
            if quantity < 0 and after < 0 and not allow_negative:
                short.append((product, max(before, 0), -quantity))  # reported all at once
            level.on_hand = after
            product.stock_on_hand += quantity
            movements.append(
                rows.new(
                    StockMovement,
                    store_id=store_id,
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
        stock = _stock_writes(
            {pk: p.stock_on_hand for pk, p in products.items()},
            {level.pk: level.on_hand for level in levels.values()},
        )
        rows.insert(movements, along=stock)
        reported = [m for m in movements if m.kind not in _REPORTED_WITH_DOCUMENT]
        if reported:  # a sale's or refund's stock goes with it (pos.hooks)
            hooks.run(hooks.stock_moved, reported)
        crossed = [
            (store_id, pk, level.on_hand, reorder)
            for pk, level in levels.items()
            if initial[pk]
            > (reorder := level.effective_reorder_level(products[pk]))
            >= level.on_hand
        ]
        if crossed:
            # Notifications follow the commit: never inside it, never for a rolled-back change.
            transaction.on_commit(lambda: _raise_low_stock_alerts(crossed))
    return movements


def _locked_stock(locked, store_id: int, ids: list[int]):
    """The products and their levels in the store, locked here or by the caller (`locked`)."""
    if locked is None:
        return locks.stock(store_id, ids)
    if not (
        locked[1].keys() >= set(ids)
        and all(locked[1][pk].store_id == store_id for pk in ids)
        and transaction.get_connection().in_atomic_block
    ):
        raise RuntimeError(
            "`locked` must hold every product's level in the store, locked in an open transaction."
        )
    return {pk: locked[0][pk] for pk in ids}, {pk: locked[1][pk] for pk in ids}


def _stock_writes(products: dict, levels: dict) -> list[tuple[str, list]]:
    """The UPDATEs of the products' new totals and the store's new levels (both locked
    already), as (sql, params) for rows.insert's `along`: on PostgreSQL they go in the
    movements' own statement. There each takes an array of pks and one of values, so the text
    is the same whatever the number of lines (psycopg parses it once); elsewhere a CASE."""
    if connection.vendor == "postgresql":
        return [
            _from_arrays(Product, "stock_on_hand", products),
            _from_arrays(StockLevel, "on_hand", levels),
        ]
    return [_case(Product, "stock_on_hand", products), _case(StockLevel, "on_hand", levels)]


def _from_arrays(model, field: str, values: dict) -> tuple[str, list]:
    """PostgreSQL: UPDATE `model`'s `field` to `values` (by pk) from two arrays."""
    return _update_from_arrays(model, field), [
        rows.array(tuple(values)),
        rows.array(tuple(values.values())),
    ]


@functools.cache
def _update_from_arrays(model, field: str) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    column = meta.get_field(field)
    key_type = meta.pk.db_type(connection).split("(")[0]
    value_type = column.db_type(connection).split("(")[0]
    return (
        f"UPDATE {quote(meta.db_table)} t SET {quote(column.column)} = v.value "  # noqa: S608 - the model's own names
        f"FROM UNNEST((%s)::{key_type}[], (%s)::{value_type}[]) AS v(pk, value) "
        f"WHERE t.{quote(meta.pk.column)} = v.pk"
    )


def _case(model, field: str, values: dict) -> tuple[str, list]:
    """UPDATE `model`'s `field` to `values` (by pk) in one statement (what bulk_update writes,
    without building an ORM expression per row)."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)
    key = connection.ops.quote_name(model._meta.pk.column)
    cases = " ".join(["WHEN %s THEN %s"] * len(values))
    placeholders = ", ".join(["%s"] * len(values))
    params = [value for pk, new in values.items() for value in (pk, new)]
    return (
        f"UPDATE {table} SET {column} = CASE {key} {cases} END "  # noqa: S608 - the model's own names
        f"WHERE {key} IN ({placeholders})",
        [*params, *values],
    )


def _raise_low_stock_alerts(crossed: list[tuple[int, int, Decimal, Decimal]]) -> None:
    alerts = LowStockAlert.objects.bulk_create(
        [
            LowStockAlert(store_id=store, product_id=pk, stock_on_hand=stock, reorder_level=level)
            for store, pk, stock, level in crossed
        ]
    )
    if settings.EMAIL_HOST:
        names = dict(
            Product.objects.filter(pk__in=[a.product_id for a in alerts]).values_list("pk", "name")
        )
        stores = dict(Store.objects.values_list("pk", "name"))
        email_managers_low_stock(
            [
                f"- {names[a.product_id]} ({stores[a.store_id]}): {a.stock_on_hand} left "
                f"(reorder at {a.reorder_level})"
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
    *,
    product: Product,
    quantity,
    reason: str,
    user,
    kind: str = MovementKind.ADJUSTMENT,
    store=None,
) -> StockMovement:
    """A manager's manual stock change (signed quantity) in `store` (None: the first active
    store) with a required reason; audited."""
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
            lines=[MovementLine(product.pk, quantity, kind, product.cost_price, reason)],
            user=user,
            store=store,
        )
        audit.record_on_commit(
            action="stock.adjusted",
            actor=user,
            target=movement.product,
            changes={
                "stock_on_hand": [as_json(movement.stock_before), as_json(movement.stock_after)]
            },
            details={
                "kind": kind,
                "quantity": as_json(movement.quantity),
                "reason": reason,
                "store": movement.store_id,
            },
        )
        journal.append_stock(JournalKind.STOCK_ADJUSTMENT, [movement])
    product.stock_on_hand = movement.product.stock_on_hand
    return movement


def low_stock(store=None):
    """The stock levels of active products at or below their reorder level (the store's own,
    else the product's), in every store or in `store` (a Store or pk), lowest first."""
    levels = StockLevel.objects.filter(product__status="active").alias(
        reorder=Coalesce("reorder_level", "product__reorder_level")
    )
    if store is not None:
        levels = levels.filter(store_id=store_id_of(store))
    return (
        levels.filter(on_hand__lte=F("reorder"))
        .annotate(reorder_at=Coalesce("reorder_level", "product__reorder_level"))
        .select_related("store", "product", "product__category", "product__supplier")
        .order_by("on_hand", "product__name", "store_id")
    )


def stock_in(store, product_ids) -> dict[int, Decimal]:
    """How much of each product `store` holds (0 for one it never had), read, not locked."""
    found = dict(
        StockLevel.objects.filter(
            store_id=store_id_of(store), product_id__in=list(product_ids)
        ).values_list("product_id", "on_hand")
    )
    return {pk: found.get(pk, Decimal(0)) for pk in product_ids}


def set_reorder_level(*, level: StockLevel, reorder_level, user) -> StockLevel:
    """Set a store's own reorder level of a product (None: the product's); audited. The row is
    locked with its product, as every write to a stock level is.

    :raises PermissionDenied: the user may not change stock levels.
    """
    if not user.has_perm("pos.change_stocklevel"):
        raise PermissionDenied(gettext("You are not allowed to change reorder levels."))
    if reorder_level is not None:
        reorder_level = to_decimal(reorder_level, field="reorder_level")
        if reorder_level < 0:
            raise InvalidQuantity(gettext("A reorder level is 0 or more."), field="reorder_level")
    with transaction.atomic():
        products, levels = locks.stock(level.store_id, [level.product_id])
        locked = levels[level.product_id]
        check_places(
            reorder_level or 0,
            products[level.product_id].quantity_places,
            name=products[level.product_id].name,
            unit=products[level.product_id].get_unit_display(),
            field="reorder_level",
        )
        old = locked.reorder_level
        locked.reorder_level = reorder_level
        locked.save(update_fields=["reorder_level"])
        audit.record_on_commit(
            action="stock.reorder_level_set",
            actor=user,
            target=products[level.product_id],
            changes={
                "reorder_level": [
                    None if old is None else as_json(old),
                    None if reorder_level is None else as_json(reorder_level),
                ]
            },
            details={"store": level.store_id},
        )
    return locked


def acknowledge_alerts(*, alerts, user) -> int:
    from django.utils import timezone

    return alerts.filter(acknowledged=False).update(
        acknowledged=True, acknowledged_by=user, acknowledged_at=timezone.now()
    )
