"""Stores: added and changed in the back office (owners and admins), never deleted (a store
that closes is made inactive: its tills, sales and stock movements keep pointing at it).
Staff are assigned to stores here too (owners and admins), each change audited."""

from django.db import transaction
from django.utils.translation import gettext

from accounts import audit
from core.errors import PermissionDenied
from pos import scoping
from pos.models import Store, StoreMembership
from pos.services.catalogue import add_stock_levels

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
    """Add `store` (an unsaved instance, e.g. the admin's form), with a stock level at 0 for
    every product; audited.

    :raises PermissionDenied: the user may not add stores.
    """
    if not user.has_perm("pos.add_store"):
        raise PermissionDenied(gettext("You are not allowed to add stores."))
    store.full_clean()
    with transaction.atomic():
        store.save(force_insert=True)
        add_stock_levels(stores=[store])  # every product, at 0
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


def _assign(*, actor, pairs_added, pairs_removed) -> None:
    """Write and audit assignments: (user, store) pairs added and removed, in one transaction."""
    if not actor.has_perm("pos.change_storemembership"):
        raise PermissionDenied(gettext("You are not allowed to assign staff to stores."))
    with transaction.atomic():
        for user, store in pairs_removed:
            StoreMembership.objects.filter(user=user, store=store).delete()
            audit.record(
                action="store.staff_removed",
                actor=actor,
                target=store,
                details={"user": user.username, "store": store.code},
            )
        for user, store in pairs_added:
            StoreMembership.objects.create(user=user, store=store)
            audit.record(
                action="store.staff_assigned",
                actor=actor,
                target=store,
                details={"user": user.username, "store": store.code},
            )
    for user, _store in (*pairs_added, *pairs_removed):
        scoping.forget(user)


def set_staff_stores(*, actor, user, stores) -> None:
    """Make `stores` exactly the stores `user` works in (the user's admin page); audited per
    store added or removed. Someone assigned to none works in the first store (pos.scoping).

    :raises PermissionDenied: `actor` may not assign staff (owners and admins may).
    """
    wanted = {store.pk: store for store in stores}
    current = {m.store_id: m.store for m in user.store_memberships.select_related("store")}
    _assign(
        actor=actor,
        pairs_added=[(user, wanted[pk]) for pk in sorted(wanted.keys() - current.keys())],
        pairs_removed=[(user, current[pk]) for pk in sorted(current.keys() - wanted.keys())],
    )


def set_store_staff(*, actor, store: Store, users) -> None:
    """Make `users` exactly the staff assigned to `store` (the store's admin page); audited.

    :raises PermissionDenied: `actor` may not assign staff (owners and admins may).
    """
    wanted = {user.pk: user for user in users}
    current = {m.user_id: m.user for m in store.memberships.select_related("user")}
    _assign(
        actor=actor,
        pairs_added=[(wanted[pk], store) for pk in sorted(wanted.keys() - current.keys())],
        pairs_removed=[(current[pk], store) for pk in sorted(current.keys() - wanted.keys())],
    )
