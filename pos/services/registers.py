"""Registers (tills): created and renamed in the back office; the receipt counter is checkout's.

`last_receipt_number` is written only by checkout (one UPDATE under the register's row lock), so
an edit here locks the row and writes only the fields it changes: a sale that committed while
the edit screen was open keeps its number, and the next sale never takes it again.
"""

import hashlib
import secrets

from django.db import transaction
from django.utils.translation import gettext

from accounts import audit
from core.errors import NotFound, PermissionDenied
from pos.models import Register
from pos.services import locks

# The code prefixes every receipt number already printed: fixed once the register exists.
EDITABLE_FIELDS = ("name", "is_active", "receipt_printer", "store")


def create_register(*, user=None, register: Register | None = None, **fields) -> Register:
    """Create a register; `register` is an unsaved instance (the admin's form) to create
    instead of one made from `fields`."""
    if user is not None and not user.has_perm("pos.add_register"):
        raise PermissionDenied(gettext("You are not allowed to add registers."))
    if register is None:
        register = Register(**fields)
    elif fields or not register._state.adding:
        raise ValueError("Pass either an unsaved register or its fields.")
    register.last_receipt_number = 0
    register.full_clean()
    register.save(force_insert=True)
    return register


def update_register(*, register: Register, user=None, **fields) -> Register:
    """Rename a register or take it out of use. The code is fixed once receipts carry it."""
    if user is not None and not user.has_perm("pos.change_register"):
        raise PermissionDenied(gettext("You are not allowed to change registers."))
    if not fields.keys() <= set(EDITABLE_FIELDS):
        raise ValueError(
            "Only a register's name, store, printer and is_active change here; its code is "
            "fixed and its receipt counter changes only through checkout."
        )
    with transaction.atomic():
        locked = locks.register(register.pk)
        if locked is None:
            raise NotFound(gettext("Unknown register."), field="register")
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, fields[name])
        locked.full_clean()
        if changed:
            locked.save(update_fields=changed)
    return locked


# --- The customer display's pairing -------------------------------------------------------------
# A tablet facing the customer shows the till's cart without anyone signing in on it: a manager
# pairs it, and its link carries a secret that shows that one till's display and nothing else
# (read only, no staff data). Only the secret's SHA-256 is stored; pairing again or unpairing
# makes the old link useless at once.


def display_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pair_display(*, register: Register, user) -> str:
    """A new display link's secret for `register` (shown once; a previous link stops working).

    :raises PermissionDenied: the user may not change registers.
    """
    token = secrets.token_urlsafe(32)
    _set_display_key(register, user, display_key(token), "register.display_paired")
    return token


def unpair_display(*, register: Register, user) -> None:
    """Revoke the display link of `register`.

    :raises PermissionDenied: the user may not change registers.
    """
    _set_display_key(register, user, "", "register.display_unpaired")


def register_for_display(token: str) -> Register | None:
    """The active register whose display link carries `token`; None for any other token."""
    if not token:
        return None
    return Register.objects.filter(display_key=display_key(token), is_active=True).first()


def _set_display_key(register: Register, user, key: str, action: str) -> None:
    if not user.has_perm("pos.change_register"):
        raise PermissionDenied(gettext("You are not allowed to change registers."))
    with transaction.atomic():
        locked = locks.register(register.pk)
        if locked is None:
            raise NotFound(gettext("Unknown register."), field="register")
        locked.display_key = key
        locked.save(update_fields=["display_key"])
        audit.record(action=action, actor=user, target=locked)
