"""Staff per store (issue 29): which stores' data a user works in and sees. The one rule.

- Owners (superusers) and admins hold `pos.work_in_every_store`: every store.
- A cashier or manager works in the stores they are assigned to (`StoreMembership`, written by
  pos.services.stores.set_staff_stores); someone assigned to none works in the first active
  store (`default_store_pk`), so that a one-store shop never has to assign anyone.

`for_user(queryset, user)` narrows any queryset of a store-bearing model to the user's stores;
the model's way to its store is one line of `STORE_PATHS`. The admin (pos.admin.base.ShopAdmin),
the API's querysets and object lookups, the selectors of who sees which sale
(pos.selectors.visible_sales and friends), the till's pickers and the reviewed close all go
through it: a new store-bearing model joins the scope with its line here. Customers and the
catalogue stay business-wide (no line). A model whose rows reach their store by something other
than one lookup has a function in `STORE_SCOPES` instead:

- the journal (entries and chain heads): a till's chain is its till's store's; the back
  office's chain (stock adjusted, counted, received and transferred between stores, selling
  units, invoices cancelled, accounts adjusted) names no store in its entries (a transfer's
  names two), so it is for those who see every store
  (`sees_every_store`), as the consolidated reports are; closings total the whole business:
  the same;
- customer messages: a receipt follows its sale, a payment reminder its invoice (by their event
  key, `receipt:<sale>/...`, `reminder:<invoice>:<step>/...`; an app sending its own receipts,
  as fiscal does, adds its keys to `MESSAGE_KEYS`); a gift card's code is the customer's and
  stays business-wide;
- the customer ledger: an entry made by a sale follows the sale's store; the others (payments
  on account, cards, adjustments) are the customer's account, business-wide like the customer;
- members of staff (the back office's user list): those working in one of the user's stores,
  never an owner or an admin;
- the audit log: an entry about a row of a store follows that row (its target); the others
  (products, customers, the shop's settings) are business-wide.

What a user may not see answers like what does not exist (404); opening a shift on another
store's till is refused (`PermissionDenied`, 403) by pos.services.shifts.open_shift.
"""

from collections.abc import Callable

from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

# "app_label.model" -> the lookup from that model to its store; a tuple for a model of two stores
# (a transfer: the staff of either store see it; who may act on it is the service's rule).
STORE_PATHS: dict[str, str | tuple[str, ...]] = {
    "pos.store": "pk",
    "pos.storemembership": "store",
    "pos.register": "store",
    "pos.shift": "register__store",
    "pos.sale": "register__store",
    "pos.heldsale": "register__store",
    "pos.refund": "shift__register__store",
    "pos.cashmovement": "shift__register__store",
    "pos.payment": "shift__register__store",
    "pos.mobilemoneyrequest": "shift__register__store",
    "pos.invoice": "sale__register__store",
    "pos.tilldevice": "register__store",
    "pos.offlinesale": "device__register__store",
    "pos.stocklevel": "store",
    "pos.stockmovement": "store",
    "pos.lowstockalert": "store",
    "pos.stockcount": "store",
    "pos.stockcountline": "count__store",
    "pos.purchaseorder": "store",
    "pos.purchaseorderline": "order__store",
    "pos.transfer": ("source", "destination"),
    "pos.transferline": ("transfer__source", "transfer__destination"),
    "pos.ledgerentry": "sale__register__store",
}
# The models some of whose rows no store owns, and the field that is then empty.
BUSINESS_WIDE_WHEN_EMPTY: dict[str, str] = {"pos.invoice": "sale", "pos.ledgerentry": "sale"}

# "app_label.model" -> f(queryset, user, store ids) narrowing it, for the models that reach their
# store by something other than one lookup (the module's docstring says how each does).
STORE_SCOPES: dict[str, Callable[[QuerySet, object, frozenset[int]], QuerySet]] = {}

EVERY_STORE = "pos.work_in_every_store"
_CACHE = "_vevurn_store_ids"


def store_ids(user) -> frozenset[int] | None:
    """The pks of the stores `user` works in; None: every store. Kept on the user object for
    the request (one query the first time, none after; none at all for owners and admins)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.has_perm(EVERY_STORE):
        return None
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    from pos.models import StoreMembership
    from pos.models.stores import default_store_pk

    assigned = list(
        StoreMembership.objects.filter(user=user).values_list("store_id", "store__is_active")
    )
    if assigned:
        ids = frozenset(store for store, active in assigned if active)
    else:
        ids = frozenset({default_store_pk()})
    setattr(user, _CACHE, ids)
    return ids


def forget(user) -> None:
    """Drop the cached stores of `user` (after their assignments changed)."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def works_in(user, store_id: int) -> bool:
    ids = store_ids(user)
    return ids is None or store_id in ids


def is_scoped(model) -> bool:
    label = model._meta.label_lower
    return label in STORE_PATHS or label in STORE_SCOPES


def for_user(queryset: QuerySet, user) -> QuerySet:
    """`queryset` narrowed to the stores `user` works in (unchanged for a model no store owns,
    and for owners and admins)."""
    label = queryset.model._meta.label_lower
    path, scope = STORE_PATHS.get(label), STORE_SCOPES.get(label)
    if path is None and scope is None:
        return queryset
    ids = store_ids(user)
    if ids is None:
        return queryset
    if scope is not None:
        return scope(queryset, user, ids)
    mine = Q()
    for one in (path,) if isinstance(path, str) else path:
        mine |= Q(**{f"{one}__in": ids})
    empty = BUSINESS_WIDE_WHEN_EMPTY.get(queryset.model._meta.label_lower)
    if empty is not None:
        mine |= Q(**{f"{empty}__isnull": True})
    return queryset.filter(mine)


def sees_every_store(user) -> bool:
    """Whether `user` sees every active store: owners and admins, and staff of a one-store
    shop (or assigned to every store). The consolidated reports are for them alone."""
    if user.has_perm(EVERY_STORE):
        return True
    from django.db.models import Count

    from pos.models import Store

    # One query: the active stores, and those of them (and of all) the user is assigned to.
    counts = Store.objects.aggregate(
        active=Count("pk", filter=Q(is_active=True), distinct=True),
        active_mine=Count("pk", filter=Q(is_active=True, memberships__user=user), distinct=True),
        mine=Count("pk", filter=Q(memberships__user=user), distinct=True),
    )
    if not counts["mine"]:
        return counts["active"] <= 1  # the first store's staff, in a one-store shop
    return counts["active_mine"] == counts["active"]


# --- The models reaching their store otherwise (STORE_SCOPES) -----------------------------------


def key_text(*parts) -> Concat:
    """A string built in SQL from literal strings and expressions (cast to text)."""
    return Concat(
        *(Value(p) if isinstance(p, str) else Cast(p, CharField()) for p in parts),
        output_field=CharField(),
    )


def _journal(queryset: QuerySet, user, ids: frozenset[int]) -> QuerySet:
    """Journal entries and chain heads: the chains of the tills of `ids`; the back office's for
    those who see every store."""
    from pos.models import BACK_OFFICE_CHAIN, Register

    # The chain's name is "register:<pk>" (pos.journal.events.register_chain).
    chains = Register.objects.filter(store__in=ids).annotate(chain=key_text("register:", F("pk")))
    mine = Q(chain__in=chains.values("chain"))
    if sees_every_store(user):
        mine |= Q(chain=BACK_OFFICE_CHAIN)
    return queryset.filter(mine)


def _closings(queryset: QuerySet, user, ids: frozenset[int]) -> QuerySet:
    """Closings total the whole business: for those who see every store."""
    return queryset if sees_every_store(user) else queryset.none()


def _pos_message_keys(user) -> list[QuerySet]:
    """The event keys (pos.services.customer_messages) of the receipts of `user`'s sales and
    the reminders of their invoices."""
    from pos.models import CustomerMessage, Invoice, InvoiceReminder, Sale

    sales = for_user(Sale.objects.all(), user)
    reminders = InvoiceReminder.objects.filter(invoice__in=for_user(Invoice.objects.all(), user))
    return [
        *(
            sales.annotate(key=key_text("receipt:", F("pk"), f"/{channel}")).values("key")
            for channel in CustomerMessage.Channel.values
        ),
        reminders.annotate(
            key=key_text("reminder:", F("invoice_id"), ":", F("step"), "/sms")
        ).values("key"),
    ]


# Functions (user) -> querysets of the event keys of the receipts and reminders `user` sees:
# pos's, and any app's that sends customers its own (fiscal's signed receipts).
MESSAGE_KEYS: list[Callable[[object], list[QuerySet]]] = [_pos_message_keys]


def _customer_messages(queryset: QuerySet, user, ids: frozenset[int]) -> QuerySet:
    """A receipt follows its sale (or signed document), a payment reminder its invoice, by their
    event keys (`MESSAGE_KEYS`); a gift card's code is business-wide."""
    from pos.models import CustomerMessage

    kind = CustomerMessage.Kind
    mine = ~Q(kind__in=[kind.RECEIPT, kind.REMINDER])
    for source in MESSAGE_KEYS:
        for keys in source(user):
            mine |= Q(key__in=keys)
    return queryset.filter(mine)


def _staff(queryset: QuerySet, user, ids: frozenset[int]) -> QuerySet:
    """Members of staff working in one of `ids` (someone assigned to none works in the first
    store); never an owner or an admin, who work in every store."""
    from django.db.models import Exists, OuterRef

    from accounts.models import Role
    from pos.models import StoreMembership
    from pos.models.stores import default_store_pk

    assigned = StoreMembership.objects.filter(user=OuterRef("pk"))
    mine = Exists(assigned.filter(store__in=ids))
    if default_store_pk() in ids:
        mine |= ~Exists(assigned)
    return queryset.filter(mine, is_superuser=False).exclude(role=Role.ADMIN)


def _audit_log(queryset: QuerySet, user, ids: frozenset[int]) -> QuerySet:
    """An entry about a row of a store (a sale voided, a till changed, a member of staff's role)
    follows its row; the others (products, customers, the shop's settings) are business-wide."""
    from django.apps import apps

    from accounts.models import AuditLog

    named = set(AuditLog.objects.order_by().values_list("target_type", flat=True).distinct())
    scoped = sorted(named & (STORE_PATHS.keys() | STORE_SCOPES.keys()))
    mine = ~Q(target_type__in=scoped)
    for label in scoped:
        rows = for_user(apps.get_model(label)._default_manager.all(), user)
        targets = rows.annotate(target=Cast("pk", CharField())).values("target")
        mine |= Q(target_type=label, target_id__in=targets)
    return queryset.filter(mine)


STORE_SCOPES.update(
    {
        "accounts.auditlog": _audit_log,
        "accounts.user": _staff,
        "pos.journalentry": _journal,
        "pos.chainhead": _journal,
        "pos.closing": _closings,
        "pos.customermessage": _customer_messages,
    }
)
