"""Stores: added and changed in the back office (owners and admins), never deleted (a store
that closes is made inactive: its tills, sales and stock movements keep pointing at it).
Staff are assigned to stores here too (owners and admins), each change audited.

Nobody leaves a store with a shift open there: an assignment that would take a cashier out of
the store of a shift they work on (their own or a shared till's) is refused until the shift is
closed (`ShiftStillOpen`, shown on the admin's forms as a field error). Otherwise the shift
would go on selling in a store its cashier no longer works in. And whoever assigns works in
the store they assign to or remove from (owners and admins work in every one).
"""

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from accounts import audit
from core.errors import Conflict, PermissionDenied
from pos import scoping
from pos.models import Shift, Store, StoreMembership
from pos.models.stores import default_store_pk
from pos.services.catalogue import add_stock_levels


class ShiftStillOpen(Conflict):
    code = "shift_still_open"


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


def _works_in(assigned: set[int]) -> set[int]:
    """The stores someone assigned to `assigned` works in (pos.scoping.store_ids' rule)."""
    if not assigned:
        return {default_store_pk()}
    return set(Store.objects.filter(pk__in=assigned, is_active=True).values_list("pk", flat=True))


def shifts_left_open(*, user, stores) -> list[Shift]:
    """The open shifts `user` works on in a store they would no longer work in if `stores` were
    exactly their stores (their own shift, or a shared till they joined)."""
    after = _works_in({store.pk for store in stores})
    return list(
        Shift.objects.filter(Q(cashier=user) | Q(joined__cashier=user), status=Shift.Status.OPEN)
        .exclude(register__store__in=after)
        .select_related("register__store")
        .distinct()
    )


def shift_still_open_message(user, shift: Shift) -> str:
    return gettext(
        "%(user)s has a shift open on %(till)s in %(store)s: close it first, then take them out "
        "of that store."
    ) % {"user": user.get_username(), "till": shift.register.name, "store": shift.register.store}


def _check_open_shifts(changes: dict) -> None:
    """:raises ShiftStillOpen: a change takes someone out of the store of their open shift."""
    for user, stores in changes.items():
        left = shifts_left_open(user=user, stores=stores)
        if left:
            raise ShiftStillOpen(shift_still_open_message(user, left[0]))


def _assign(*, actor, pairs_added, pairs_removed, after: dict) -> None:
    """Write and audit assignments: (user, store) pairs added and removed, in one transaction;
    `after` holds each changed user's stores once written."""
    if not actor.has_perm("pos.change_storemembership"):
        raise PermissionDenied(gettext("You are not allowed to assign staff to stores."))
    foreign = [s for _u, s in (*pairs_added, *pairs_removed) if not scoping.works_in(actor, s.pk)]
    if foreign:
        raise PermissionDenied(
            gettext("You do not work in %(store)s: you cannot assign its staff.")
            % {"store": foreign[0]}
        )
    with transaction.atomic():
        # Checked once more here (the admin's forms check first, to show a field error). A shift
        # opened in the instant between this read and the commit is not seen: rare, and the
        # cashier is then still refused every other store's tills.
        _check_open_shifts(after)
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

    :raises PermissionDenied: `actor` may not assign staff (owners and admins may), or not in
        a store added or removed.
    :raises ShiftStillOpen: `user` would leave the store of a shift they work on.
    """
    wanted = {store.pk: store for store in stores}
    current = {m.store_id: m.store for m in user.store_memberships.select_related("store")}
    _assign(
        actor=actor,
        pairs_added=[(user, wanted[pk]) for pk in sorted(wanted.keys() - current.keys())],
        pairs_removed=[(user, current[pk]) for pk in sorted(current.keys() - wanted.keys())],
        after={user: list(wanted.values())} if wanted.keys() != current.keys() else {},
    )


def set_store_staff(*, actor, store: Store, users) -> None:
    """Make `users` exactly the staff assigned to `store` (the store's admin page); audited.

    :raises PermissionDenied: `actor` may not assign staff (owners and admins may), or does
        not work in `store`.
    :raises ShiftStillOpen: someone taken off `store` works on a shift open there.
    """
    wanted = {user.pk: user for user in users}
    current = {m.user_id: m.user for m in store.memberships.select_related("user")}
    pairs_added = [(wanted[pk], store) for pk in sorted(wanted.keys() - current.keys())]
    pairs_removed = [(current[pk], store) for pk in sorted(current.keys() - wanted.keys())]
    _assign(
        actor=actor,
        pairs_added=pairs_added,
        pairs_removed=pairs_removed,
        after={
            user: staff_stores_after(user, store=store, kept=user.pk in wanted)
            for user, _store in (*pairs_added, *pairs_removed)
        },
    )


def staff_stores_after(user, *, store: Store, kept: bool) -> list[Store]:
    """`user`'s stores once they are (`kept`) or are not assigned to `store`."""
    others = [m.store for m in user.store_memberships.select_related("store") if m.store != store]
    return [*others, store] if kept else others


def place_new_staff(*, actor, user) -> None:
    """A member of staff added by a manager of some stores works in the manager's stores (the
    first store otherwise, where the manager may not work, and they would not see them again);
    audited. Nothing for one added by an owner or an admin, or in the first store alone."""
    ids = scoping.store_ids(actor)
    if ids is None or not ids or ids == {default_store_pk()}:
        return
    with transaction.atomic():
        for store in Store.objects.filter(pk__in=ids).order_by("pk"):
            StoreMembership.objects.create(user=user, store=store)
            audit.record(
                action="store.staff_assigned",
                actor=actor,
                target=store,
                details={"user": user.username, "store": store.code},
            )
    scoping.forget(user)
