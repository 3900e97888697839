"""Creating and changing products. Price changes are audited; stock goes through the ledger."""

from decimal import Decimal

from django.db import transaction

from accounts import audit
from pos.errors import InvalidPrice, PriceBelowMinimum
from pos.models import MovementKind, Product
from pos.money import format_money
from pos.services.stock import MovementLine, apply_movements
from vevurn.errors import PermissionDenied

PRICE_FIELDS = ("cost_price", "retail_price", "wholesale_price", "minimum_price")
OPENING_STOCK_REASON = "Opening stock"


def ensure_price_allowed(*, product: Product, unit_price: Decimal) -> None:
    """Refuse a selling price below the product's minimum price (the floor for any discount)."""
    if unit_price < 0:
        raise InvalidPrice("A price cannot be negative.", field="unit_price")
    if unit_price < product.minimum_price:
        raise PriceBelowMinimum(
            f"{product.name} cannot be sold below {format_money(product.minimum_price)}.",
            field="unit_price",
            product_id=product.pk,
            minimum_price=str(product.minimum_price),
        )


def _money(value):
    """Audit JSON holds money as strings with the database's 2 places, e.g. "12000.00"."""
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def create_product(*, user=None, initial_stock: int = 0, **fields) -> Product:
    """Create a validated product; opening stock (if any) is written as a ledger movement."""
    if user is not None and not user.has_perm("pos.add_product"):
        raise PermissionDenied("You are not allowed to add products.")
    product = Product(created_by=user, updated_by=user, **fields)
    product.full_clean()
    with transaction.atomic():
        product.save()
        if initial_stock:
            open_stock(product=product, quantity=initial_stock, user=user)
    return product


def open_stock(*, product: Product, quantity: int, user=None) -> None:
    apply_movements(
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
    )
    product.refresh_from_db(fields=["stock_on_hand"])


def price_changes(old: dict, product: Product) -> dict:
    return {
        name: [_money(old[name]), _money(getattr(product, name))]
        for name in PRICE_FIELDS
        if old.get(name) != getattr(product, name)
    }


def update_product(*, product: Product, user, **fields) -> Product:
    """Change a product's details; any price change is audited as `product.price_changed`."""
    if not user.has_perm("pos.change_product"):
        raise PermissionDenied("You are not allowed to change products.")
    if "stock_on_hand" in fields:
        raise ValueError("stock_on_hand changes only through pos.services.stock")
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        old = {name: getattr(locked, name) for name in PRICE_FIELDS}
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.updated_by = user
        locked.full_clean()
        locked.save()
        record_price_changes(product=locked, old=old, user=user)
    return locked


def record_price_changes(*, product: Product, old: dict, user) -> None:
    changes = price_changes(old, product)
    if changes:
        audit.record_on_commit(
            action="product.price_changed", actor=user, target=product, changes=changes
        )
