"""Held (parked) sales: a cart saved on a register and resumed there later.

Holding moves no stock and no money; the cart is stored as JSON with amounts as strings, and a
resumed cart goes through the normal checkout, which prices and checks it again.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from core.errors import NotFound
from pos import errors, scoping
from pos.models import Customer, HeldSale, Product, Register
from pos.quantities import as_json, normalised, to_decimal
from pos.services import locks
from pos.services.checkout import Cart, CartLine

MAX_NOTE = 120


def hold_sale(*, register: Register, cashier, cart: Cart, note: str = "") -> HeldSale:
    """Park `cart` on `register`; nothing else changes."""
    if not (cashier.has_perm("pos.sell") and cashier.has_perm("pos.add_heldsale")):
        raise errors.NotAllowed(gettext("You are not allowed to hold sales."))
    if not scoping.works_in(cashier, register.store_id):
        raise errors.NotAllowed(
            gettext("%(register)s is a till of another store: you do not work there.")
            % {"register": register},
            field="register",
        )
    if not cart.lines:
        raise errors.EmptyCart()
    for i, line in enumerate(cart.lines):
        if to_decimal(line.quantity, field=f"lines.{i}.quantity") <= 0:
            raise errors.InvalidQuantity(
                _("Quantity must be more than 0."), field=f"lines.{i}.quantity"
            )
    product_ids = {line.product_id for line in cart.lines}
    found = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
    for i, line in enumerate(cart.lines):
        if line.product_id not in found:
            raise NotFound(
                gettext("Unknown product %(product_id)s.") % {"product_id": line.product_id},
                field=f"lines.{i}.product_id",
            )
    if cart.customer_id is not None and not Customer.objects.filter(pk=cart.customer_id).exists():
        raise NotFound(gettext("Unknown customer."), field="customer")
    return HeldSale.objects.create(
        register=register,
        cashier=cashier,
        customer_id=cart.customer_id,
        cart=cart_to_json(cart),
        note=(note or "").strip()[:MAX_NOTE],
    )


def list_held(register: Register):
    """The carts parked on `register`, newest first."""
    return (
        HeldSale.objects.filter(register=register)
        .select_related("cashier", "customer")
        .order_by("-created_at", "-id")
    )


def resume_held_sale(*, held: HeldSale, register: Register, user) -> Cart:
    """Take a held cart back to the till on the same register; the held row is gone after.

    The row is locked and deleted in one transaction, so of two tills resuming it at once the
    second gets `NotFound`.
    """
    if not user.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))
    with transaction.atomic():
        locked = locks.held_sale(held.pk)
        if locked is None:
            raise NotFound(
                gettext("This held sale was already resumed or discarded."), field="held"
            )
        if locked.register_id != register.pk:
            raise errors.HeldSaleOtherRegister(field="register")
        cart = cart_from_json(locked.cart)
        locked.delete()
    return cart


def discard_held_sale(*, held: HeldSale, user, register: Register | None = None) -> None:
    """Throw a held cart away (the customer left); nothing else changes. Only at the register
    it was held on (`register`: the user's till), by the cashier who held it, or by a manager
    (`pos.close_any_shift`): another till cannot throw away someone else's customer's cart."""
    if not user.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))
    own = held.cashier_id == user.pk or (register is not None and held.register_id == register.pk)
    if not own and not user.has_perm("pos.close_any_shift"):
        raise errors.HeldSaleOtherRegister(
            gettext("This sale was held on another register; discard it there."), field="held"
        )
    with transaction.atomic():
        deleted, _by_model = HeldSale.objects.filter(pk=held.pk).delete()
    if not deleted:
        raise NotFound(gettext("This held sale was already resumed or discarded."), field="held")


def cart_to_json(cart: Cart) -> dict:
    return {
        "lines": [
            {
                "product_id": line.product_id,
                "quantity": as_json(line.quantity),
                "unit_price": None if line.unit_price is None else str(line.unit_price),
                "discount": str(line.discount),
                "selling_unit_id": line.selling_unit_id,
                "scale_label": line.scale_label,
            }
            for line in cart.lines
        ],
        "order_discount": str(cart.order_discount),
        "customer_id": cart.customer_id,
    }


def cart_from_json(data: dict) -> Cart:
    try:
        lines = [
            CartLine(
                product_id=int(line["product_id"]),
                quantity=normalised(Decimal(str(line["quantity"]))),
                unit_price=None if line.get("unit_price") is None else Decimal(line["unit_price"]),
                discount=Decimal(line.get("discount") or "0"),
                selling_unit_id=line.get("selling_unit_id"),
                scale_label=line.get("scale_label") or "",
            )
            for line in data["lines"]
        ]
        order_discount = Decimal(data.get("order_discount") or "0")
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise errors.EmptyCart(
            gettext("This held sale is damaged and cannot be resumed.")
        ) from None
    return Cart(lines, order_discount, data.get("customer_id"))


def expire_held_sales(now=None) -> int:
    """Delete held sales older than HELD_SALE_RETENTION_DAYS (the nightly job). Holding moves no
    stock and takes no number, so a forgotten cart can go without a trace but its audit line."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HELD_SALE_RETENTION_DAYS)
    deleted, _ = HeldSale.objects.filter(created_at__lt=cutoff).delete()
    return deleted
