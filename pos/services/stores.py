"""Stores: added and changed in the back office (owners and admins), never deleted (a store
that closes is made inactive: its tills, sales and stock movements keep pointing at it)."""

from django.db import transaction
from django.utils.translation import gettext

from accounts import audit
from core.errors import PermissionDenied
from pos.models import Store

EDITABLE_FIELDS = (
    "name",
    "code",
    "address",
    "tin",
    "branch_id",
    "receipt_header",
    "opening_hours",
    "is_active",
)


def create_store(*, user, store: Store) -> Store:
    """Add `store` (an unsaved instance, e.g. the admin's form); audited.

    :raises PermissionDenied: the user may not add stores.
    """
    if not user.has_perm("pos.add_store"):
        raise PermissionDenied(gettext("You are not allowed to add stores."))
    store.full_clean()
    with transaction.atomic():
        store.save(force_insert=True)
        audit.record(
            action="store.created",
            actor=user,
            target=store,
            details={"code": store.code, "branch_id": store.branch_id},
        )
    return store


def update_store(*, user, store: Store, changed: dict) -> Store:
    """Change the fields in `changed` (name -> [old, new], as the admin's form saw them) of
    `store`, whose attributes already hold the new values; audited.

    :raises PermissionDenied: the user may not change stores.
    """
    if not user.has_perm("pos.change_store"):
        raise PermissionDenied(gettext("You are not allowed to change stores."))
    if not changed.keys() <= set(EDITABLE_FIELDS):
        raise ValueError(f"Only {', '.join(EDITABLE_FIELDS)} change here.")
    store.full_clean()
    with transaction.atomic():
        store.save(update_fields=list(changed))
        audit.record(action="store.changed", actor=user, target=store, changes=changed)
    return store
