"""Customers: Rwandan phone numbers, and the totals the checkout keeps up to date."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import NotFound, PermissionDenied
from pos.models import Customer, LedgerKind
from pos.services import ledger, locks

# Written only by the sales services (record_customer_purchase, invoices): never by an edit.
COUNTER_FIELDS = ("total_spent", "visits", "last_purchase_at", "balance", "store_credit", "points")


def create_customer(*, user=None, customer: Customer | None = None, **fields) -> Customer:
    """Create a customer (quick-create at the till too); the phone is normalised and unique.

    `customer` is an unsaved instance built elsewhere (the admin's form) to create instead of
    one made from `fields`.
    """
    if user is not None and not user.has_perm("pos.add_customer"):
        raise PermissionDenied(gettext("You are not allowed to add customers."))
    if customer is None:
        customer = Customer(**fields)
    elif fields or not customer._state.adding:
        raise ValueError("Pass either an unsaved customer or its fields.")
    customer.full_clean()  # normalises the phone, checks it is unique
    customer.save(force_insert=True)
    return customer


def update_customer(*, customer: Customer, user=None, **fields) -> Customer:
    """Change a customer's details (the admin, the API): the row is locked and read again and
    only the fields that change are written, so a sale that committed since `customer` was read
    keeps its balance and totals. Those counters are never edited here."""
    if user is not None and not user.has_perm("pos.change_customer"):
        raise PermissionDenied(gettext("You are not allowed to change customers."))
    if not fields.keys().isdisjoint(COUNTER_FIELDS) or "pk" in fields or "id" in fields:
        raise ValueError("A customer's totals and balance change only through the sales.")
    with transaction.atomic():
        locked = locks.customer(customer.pk)
        if locked is None:
            raise NotFound(gettext("Unknown customer."), field="customer")
        before = {name: getattr(locked, name) for name in fields}
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()  # normalises the phone, checks it is unique
        changed = [name for name in fields if getattr(locked, name) != before[name]]
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
    return locked


def record_customer_purchase(
    *,
    customer_id: int,
    amount: Decimal,
    on_credit: Decimal = Decimal(0),
    at=None,
    event: str = "",
    sale_id: int | None = None,
    points: Decimal = Decimal(0),
) -> Customer:
    """Add a completed sale to the customer's totals (and `on_credit` to what they owe).

    Call it inside the checkout's transaction; a refund passes a negative amount and visits=0
    is not counted (amount < 0 does not add a visit). A non-zero `on_credit` is a debt entry in
    the customer ledger keyed `<event>/debt` (pos.services.ledger): posted once per event;
    `points` earned, keyed `<event>/points`, likewise.
    """
    if (on_credit or points) and not event:
        raise ValueError("A change to what the customer owes needs the event that made it.")
    with transaction.atomic():
        customer = locks.customer(customer_id)
        customer.total_spent += amount
        if amount > 0:
            customer.visits += 1
            customer.last_purchase_at = at or timezone.now()
        ledger.apply(
            kind=LedgerKind.DEBT,
            key=f"{event}/debt",
            amount=on_credit,
            customer=customer,
            sale_id=sale_id,
            save=False,
        )
        ledger.apply(
            kind=LedgerKind.POINTS,
            key=f"{event}/points",
            amount=points,
            customer=customer,
            sale_id=sale_id,
            save=False,
        )
        customer.save(
            update_fields=["total_spent", "visits", "last_purchase_at", "balance", "points"]
        )
    return customer
