"""Customers: Rwandan phone numbers, and the totals the checkout keeps up to date."""

import re
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from pos.errors import InvalidPhoneNumber
from pos.models import Customer
from vevurn.errors import PermissionDenied

# Rwandan mobile numbers: 07X XXX XXXX nationally, +250 7X XXX XXXX internationally.
_MOBILE = re.compile(r"^7[0-9]{8}$")


def normalise_phone(raw: str) -> str:
    """'0788 123 456', '788123456', '250788123456', '+250 788-123-456' -> '+250788123456'."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("250"):
            raise InvalidPhoneNumber(field="phone")
    if not digits.isdigit():
        raise InvalidPhoneNumber(field="phone")
    if digits.startswith("250") and len(digits) == 12:
        local = digits[3:]
    elif digits.startswith("0") and len(digits) == 10:
        local = digits[1:]
    else:
        local = digits
    if not _MOBILE.match(local):
        raise InvalidPhoneNumber(field="phone")
    return "+250" + local


def create_customer(*, user=None, **fields) -> Customer:
    """Create a customer (quick-create at the till too); the phone is normalised and unique."""
    if user is not None and not user.has_perm("pos.add_customer"):
        raise PermissionDenied("You are not allowed to add customers.")
    customer = Customer(**fields)
    customer.full_clean()  # normalises the phone, checks it is unique
    customer.save()
    return customer


def record_customer_purchase(
    *, customer_id: int, amount: Decimal, on_credit: Decimal = Decimal(0), at=None
) -> Customer:
    """Add a completed sale to the customer's totals (and `on_credit` to what they owe).

    Call it inside the checkout's transaction; a refund passes a negative amount and visits=0
    is not counted (amount < 0 does not add a visit).
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        customer.total_spent += amount
        if amount > 0:
            customer.visits += 1
            customer.last_purchase_at = at or timezone.now()
        customer.balance += on_credit
        customer.save(update_fields=["total_spent", "visits", "last_purchase_at", "balance"])
    return customer
