"""Creating and changing products. Price changes are audited; stock goes through the ledger."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import audit
from core.errors import NotFound, PermissionDenied
from pos.errors import InvalidPrice, PriceBelowMinimum
from pos.journal import events
from pos.models import (
    PRODUCT_EDITABLE_FIELDS,
    JournalKind,
    MovementKind,
    Product,
    SellingUnit,
    StockLevel,
    Store,
)
from pos.models.stock import OPENING_STOCK
from pos.money import format_money
from pos.quantities import normalised
from pos.services import journal, locks
from pos.services.stock import MovementLine, apply_movements

PRICE_FIELDS = ("cost_price", "retail_price", "wholesale_price", "minimum_price")
OPENING_STOCK_REASON = OPENING_STOCK


def ensure_price_allowed(*, product: Product, unit_price: Decimal) -> None:
    """Refuse a selling price below the product's minimum price (the floor for any discount)."""
    if unit_price < 0:
        raise InvalidPrice(gettext("A price cannot be negative."), field="unit_price")
    if unit_price < product.minimum_price:
        raise PriceBelowMinimum(
            gettext("%(name)s cannot be sold below %(minimum_price)s.")
            % {"name": product.name, "minimum_price": format_money(product.minimum_price)},
            field="unit_price",
            product_id=product.pk,
            minimum_price=str(product.minimum_price),
        )


def _money(value):
    """Audit JSON holds money as strings with the database's 2 places, e.g. "12000.00"."""
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def create_product(
    *, user=None, initial_stock=0, product: Product | None = None, store=None, **fields
) -> Product:
    """Create a validated product, with its (empty) stock level in every store; opening stock
    (if any) is written as a ledger movement of `store` (None: the first active store).

    `product` is an unsaved instance built elsewhere (the admin's form) to create instead of
    one made from `fields`.
    """
    if user is not None and not user.has_perm("pos.add_product"):
        raise PermissionDenied(gettext("You are not allowed to add products."))
    if product is None:
        product = Product(**fields)
    elif fields or not product._state.adding:
        raise ValueError("Pass either an unsaved product or its fields.")
    product.created_by = product.updated_by = user
    product.full_clean()
    with transaction.atomic():
        product.save(force_insert=True)
        add_stock_levels(products=[product])
        if initial_stock:
            open_stock(product=product, quantity=initial_stock, user=user, store=store)
    return product


def add_stock_levels(*, products=None, stores=None) -> None:
    """The (empty) stock levels of `products` in every store, or of every product in `stores`:
    a new product or a new store starts at 0 everywhere. A level that exists is left alone."""
    product_ids = (
        [p.pk for p in products]
        if products is not None
        else Product.objects.values_list("pk", flat=True)
    )
    store_ids = (
        [s.pk for s in stores] if stores is not None else Store.objects.values_list("pk", flat=True)
    )
    StockLevel.objects.bulk_create(
        [StockLevel(store_id=s, product_id=p) for s in list(store_ids) for p in list(product_ids)],
        ignore_conflicts=True,
        batch_size=1000,
    )


def open_stock(*, product: Product, quantity, user=None, store=None) -> None:
    movements = apply_movements(
        lines=[
            MovementLine(
                product.pk,
                quantity,
                MovementKind.ADJUSTMENT,
                unit_cost=product.cost_price,
                reason=OPENING_STOCK_REASON,
            )
        ],
        user=user,
        store=store,
    )
    journal.append_stock(JournalKind.STOCK_ADJUSTMENT, movements)
    product.refresh_from_db(fields=["stock_on_hand"])


def price_changes(old: dict, product: Product) -> dict:
    return {
        name: [_money(old[name]), _money(getattr(product, name))]
        for name in PRICE_FIELDS
        if old.get(name) != getattr(product, name)
    }


def update_product(*, product: Product, user, **fields) -> Product:
    """Change a product's details; any price change is audited as `product.price_changed`.

    The row is locked and read again, and only the fields that change are written: a sale that
    committed since `product` was read keeps its stock. Stock changes only through the ledger.
    """
    if not user.has_perm("pos.change_product"):
        raise PermissionDenied(gettext("You are not allowed to change products."))
    with transaction.atomic():
        locked = locks.product(product.pk)
        if locked is None:
            raise NotFound(gettext("Unknown product."), field="product")
        write_product_changes(locked, fields, user=user)
    return locked


def write_product_changes(locked: Product, fields: dict, *, user, validate: bool = True) -> None:
    """Set `fields` on `locked` (a row this transaction has locked), validate it unless the
    caller's form already did, save only the fields that change, and audit price changes."""
    if not fields.keys() <= set(PRODUCT_EDITABLE_FIELDS):
        raise ValueError(
            f"Not editable here: {sorted(fields.keys() - set(PRODUCT_EDITABLE_FIELDS))}; "
            "stock_on_hand changes only through pos.services.stock"
        )
    old = {name: getattr(locked, name) for name in PRICE_FIELDS}
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, fields[name])
    locked.updated_by = user
    if validate:
        locked.full_clean()
    locked.save(update_fields=[*changed, "updated_by", "updated_at"])
    record_price_changes(product=locked, old=old, user=user)


def record_price_changes(*, product: Product, old: dict, user) -> None:
    changes = price_changes(old, product)
    if changes:
        audit.record_on_commit(
            action="product.price_changed", actor=user, target=product, changes=changes
        )


# --- Selling units (a carton of 24): edited like products, locked, audited and journalled -----
# A unit's price, factor and barcode decide what a customer pays: each change is appended to the
# back office's journal chain (last, in the change's transaction), as the unit stands after it.

SELLING_UNIT_FIELDS = ("name", "factor", "barcode", "price", "is_active")


def _unit_value(name: str, value):
    if value is None:
        return None
    if name == "price":
        return _money(value)
    if name == "factor":
        return str(normalised(value))  # "24", as the receipt says "Carton (24)"
    return value


def _unit_snapshot(unit: SellingUnit) -> dict:
    return {name: _unit_value(name, getattr(unit, name)) for name in SELLING_UNIT_FIELDS}


def _journal_unit(unit: SellingUnit, change: str, user) -> None:
    journal.append(
        events.selling_unit_event(
            unit, change=change, user_id=getattr(user, "pk", None), at=timezone.now()
        )
    )


def _require_unit_permission(user, permission: str, message: str) -> None:
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(message)


def create_selling_unit(*, user, unit: SellingUnit | None = None, **fields) -> SellingUnit:
    """Add a unit a product is sold in; audited as `selling_unit.created` and journalled."""
    _require_unit_permission(
        user, "pos.add_sellingunit", gettext("You are not allowed to add selling units.")
    )
    unit = unit if unit is not None else SellingUnit(**fields)
    unit.full_clean()
    with transaction.atomic():
        if locks.product(unit.product_id) is None:
            raise NotFound(gettext("Unknown product."), field="product")
        unit.save(force_insert=True)
        audit.record_on_commit(
            action="selling_unit.created",
            actor=user,
            target=unit,
            changes={name: [None, value] for name, value in _unit_snapshot(unit).items()},
        )
        _journal_unit(unit, "created", user)
    return unit


def update_selling_unit(
    *, selling_unit: SellingUnit, user, validate: bool = True, **fields
) -> SellingUnit:
    """Change a selling unit's name, factor, barcode, price or state; audited as
    `selling_unit.changed` with each changed field's old and new value, and journalled as it
    stands after the change.

    The product is locked, then the unit, and it is read again: a sale ringing the unit up
    commits before the edit or after it, never across it. Past sales keep what they were sold
    as: a sale line holds its own copy of the unit's name and factor and its stock quantity, so
    a new factor changes only sales made after it. The product a unit belongs to cannot change.
    """
    _require_unit_permission(
        user, "pos.change_sellingunit", gettext("You are not allowed to change selling units.")
    )
    if not fields.keys() <= set(SELLING_UNIT_FIELDS):
        raise ValueError(f"Not editable here: {sorted(fields.keys() - set(SELLING_UNIT_FIELDS))}")
    with transaction.atomic():
        locks.product(selling_unit.product_id)
        locked = locks.selling_unit(selling_unit.pk)
        if locked is None:
            raise NotFound(gettext("Unknown selling unit."), field="selling_unit")
        before = _unit_snapshot(locked)
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, fields[name])
        if validate:
            locked.full_clean()
        if changed:
            locked.save(update_fields=changed)
        after = _unit_snapshot(locked)
        changes = {
            name: [before[name], after[name]] for name in after if before[name] != after[name]
        }
        if changes:
            audit.record_on_commit(
                action="selling_unit.changed", actor=user, target=locked, changes=changes
            )
            _journal_unit(locked, "changed", user)
    return locked


def delete_selling_unit(*, selling_unit: SellingUnit, user) -> None:
    """Remove a selling unit (its sales keep their own copy of it); audited as
    `selling_unit.deleted` with what it was, and journalled so."""
    _require_unit_permission(
        user, "pos.delete_sellingunit", gettext("You are not allowed to delete selling units.")
    )
    with transaction.atomic():
        locks.product(selling_unit.product_id)
        locked = locks.selling_unit(selling_unit.pk)
        if locked is None:
            return
        snapshot = _unit_snapshot(locked)
        audit.record_on_commit(
            action="selling_unit.deleted",
            actor=user,
            changes={name: [value, None] for name, value in snapshot.items()},
            details={"selling_unit": locked.pk, "product": locked.product_id},
        )
        _journal_unit(locked, "deleted", user)
        locked.delete()
