"""Who may reach each URL: every pattern of the project, against every kind of client.

`ROUTES` names, for each URL pattern (as `get_resolver()` spells it) and each method, who may
reach it. Anything else must be refused: anonymous callers are sent to sign in (screens) or get
a 401 (the API); signed-in users get a 403 (or a 404 where the API hides other people's rows, or
the admin's sign-in page for users who are not staff). A pattern added to the project without a
line here fails `test_every_url_pattern_says_who_may_reach_it`.

Clients: anonymous; the cashier, manager and admin signed in with the session; the cashier's
and the manager's API tokens (`Authorization: Token ...`: they count on the API only, and are
anonymous anywhere else); an external monitor with `MONITORING_API_TOKEN` (it counts on
/api/health/detailed and /api/monitoring/ only). Each request runs in a savepoint that is rolled
back, so that one client's POST does not change what the next one finds.

The admin's model pages are generated per registered model (`ADMIN_MODELS`); only GET is sent
there (the admin checks the same permission again when a form is posted).
"""

import uuid
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.security.conftest import MONITORING_TOKEN

ANONYMOUS, CASHIER, MANAGER, ADMIN, MONITOR = "anonymous", "cashier", "manager", "admin", "monitor"
EVERYONE = frozenset({ANONYMOUS, CASHIER, MANAGER, ADMIN, MONITOR})
SIGNED_IN = frozenset({CASHIER, MANAGER, ADMIN})
MANAGERS = frozenset({MANAGER, ADMIN})  # the staff
ADMINS = frozenset({ADMIN})
STAFF_OR_MONITOR = MANAGERS | {MONITOR}
NOBODY = frozenset()


@dataclass(frozen=True)
class Access:
    """Who may use each method; None: the route does not offer it (nobody may reach it)."""

    get: frozenset | None = None
    post: frozenset | None = None
    patch: frozenset | None = None
    delete: frozenset | None = None


def screen(who):
    """A page that answers GET and POST alike (a form, or a page that ignores the method)."""
    return Access(get=who, post=who)


# The admin's index of one app (the apps with models in the admin, in the order they registered
# them: pos registers the API tokens' admin again, with the staff of the user's stores).
APP_INDEX = (
    "admin/^(?P<app_label>auth|django_tasks_database|jobs|accounts|otp_totp|pos|authtoken"
    "|fiscal|monitoring)/$"
)

ROUTES: dict[str, Access] = {
    # --- Public: sign-in, probes, MTN's callback ------------------------------------------------
    "": screen(EVERYONE),  # the sign-in page
    "logout/": Access(post=EVERYONE),  # ends whatever session there is; harmless without one
    # The language switcher: a cookie for anyone, the preference of whoever is signed in.
    "language/": Access(post=EVERYONE),
    "api/health/live": Access(get=EVERYONE),
    "api/health/ready": Access(get=EVERYONE),
    # MTN calls it without credentials; it reads nothing from the request and only makes us ask
    # MTN (throttled) about a request we created. Always 204.
    "pos/momo/airtel/callback/": Access(post=EVERYONE),
    "pos/momo/callback/<str:reference_id>/": Access(post=EVERYONE),
    # The SMS gateway's delivery reports: always 204; only its secret token makes it count.
    "pos/messages/delivery-report/": Access(post=EVERYONE),
    # --- Any signed-in user ---------------------------------------------------------------------
    "home/": Access(get=SIGNED_IN),
    "password/": screen(SIGNED_IN),
    "pin/": screen(SIGNED_IN),  # your own PIN, with your password
    # The second step of signing in: sends anyone who has no authenticator on.
    "two-factor/code/": screen(SIGNED_IN),
    # --- Managers and admins: their own two-factor sign-in ----------------------------------------
    "two-factor/": screen(MANAGERS),
    "two-factor/off/": Access(post=MANAGERS),
    # --- The till (pos.sell): cashiers, managers and admins, each on their own shift --------------
    "register/": Access(get=SIGNED_IN),
    "register/start/": Access(get=SIGNED_IN),
    # The shared till: lock it, and the lock screen (a PIN unlocks or switches cashier).
    "register/lock/": Access(post=SIGNED_IN),
    "register/unlock/": screen(SIGNED_IN),
    "register/open/": screen(SIGNED_IN),
    "register/scan/": Access(post=SIGNED_IN),
    "register/search/": Access(get=SIGNED_IN),
    "register/add/<int:pk>/": Access(post=SIGNED_IN),
    "register/lines/<int:index>/": Access(post=SIGNED_IN),
    "register/lines/<int:index>/more/": Access(post=SIGNED_IN),
    "register/lines/<int:index>/less/": Access(post=SIGNED_IN),
    "register/lines/<int:index>/remove/": Access(post=SIGNED_IN),
    "register/clear/": Access(post=SIGNED_IN),
    "register/discount/": Access(post=SIGNED_IN),
    "register/customer/": Access(post=SIGNED_IN),
    "register/customer/new/": Access(post=SIGNED_IN),
    "register/hold/": Access(post=SIGNED_IN),
    "register/held/<int:pk>/resume/": Access(post=SIGNED_IN),
    "register/held/<int:pk>/discard/": Access(post=SIGNED_IN),
    # The offline till: its shell, service worker and manifest (no data in them), the device's
    # number block, heartbeat, catalogue snapshot and sync, for whoever may sell.
    "register/sw.js": Access(get=EVERYONE),
    "register/manifest.webmanifest": Access(get=EVERYONE),
    "register/offline/": Access(get=SIGNED_IN),
    "register/offline/state/": Access(get=SIGNED_IN),
    "register/offline/snapshot/": Access(get=SIGNED_IN),
    "register/offline/device/": Access(post=SIGNED_IN),
    "register/offline/block/": Access(post=SIGNED_IN),
    "register/offline/heartbeat/": Access(post=SIGNED_IN),
    "register/offline/sync/": Access(post=SIGNED_IN),
    # Managers: the tills with unsynced or refused sales, and what they do about them.
    "register/offline/tills/": Access(get=MANAGERS),
    "register/offline/sales/<int:pk>/resolve/": Access(post=MANAGERS),
    "register/offline/devices/<int:pk>/forget/": Access(post=MANAGERS),
    "register/pay/": Access(get=SIGNED_IN),
    "register/pay/quick-cash/": Access(post=SIGNED_IN),
    "register/pay/momo/request/": Access(post=SIGNED_IN),
    "register/pay/momo/check/": Access(post=SIGNED_IN),
    "register/pay/complete/": Access(post=SIGNED_IN),
    "register/history/": Access(get=SIGNED_IN),
    "register/returns/": Access(get=SIGNED_IN),
    # Gift cards at the till: check one's balance, sell one for cash.
    "register/gift-cards/": Access(get=SIGNED_IN),
    "register/gift-cards/sell/": Access(post=SIGNED_IN),
    "register/account/": Access(get=SIGNED_IN),
    "register/account/<int:pk>/": screen(SIGNED_IN),
    # Voids only on the sale's own shift (the sale is the cashier's; the others get a 404).
    "register/sales/<int:pk>/void/": screen(frozenset({CASHIER})),
    "register/sales/<int:pk>/refund/": screen(SIGNED_IN),  # a manager approves at the till
    "register/shift/": screen(SIGNED_IN),
    "register/shift/no-sale/": Access(post=SIGNED_IN),
    "register/shifts/<int:pk>/z-report/": Access(get=SIGNED_IN),  # own shift, or pos.view_shift
    "register/shifts/<int:pk>/z-report/print/": Access(post=SIGNED_IN),  # as the report
    # The reviewed close: managers (pos.close_any_shift) review what a cashier counted.
    "register/shifts/review/": Access(get=MANAGERS),
    # The customer display of the till the signed-in cashier works on (no staff data on it).
    "register/display/": Access(get=SIGNED_IN),
    "register/display/state/": Access(get=SIGNED_IN),
    # A paired customer display: its link's secret is the key (read only, no staff data).
    "register/display/paired/<str:token>/": Access(get=EVERYONE),
    "register/display/paired/<str:token>/state/": Access(get=EVERYONE),
    "register/shifts/<int:pk>/review/": screen(MANAGERS),
    "pos/sales/<int:pk>/receipt/": Access(get=SIGNED_IN),
    "pos/sales/<int:pk>/receipt/print/": Access(post=SIGNED_IN),  # as the receipt
    "pos/sales/<int:pk>/receipt/send/": Access(post=SIGNED_IN),  # as the receipt
    "pos/refunds/<int:pk>/slip/": Access(get=SIGNED_IN),  # own shift, or pos.view_shift
    "pos/refunds/<int:pk>/slip/print/": Access(post=SIGNED_IN),  # as the slip
    "pos/account-payments/<int:pk>/receipt/": Access(get=SIGNED_IN),  # own, or pos.view_shift
    "pos/momo/requests/": Access(post=SIGNED_IN),
    "pos/momo/requests/<int:pk>/": Access(get=SIGNED_IN),
    "pos/invoices/<int:pk>/": Access(get=SIGNED_IN),
    "pos/logo.png": Access(get=EVERYONE),  # the customer display shows it without a sign-in
    "pos/customers/<int:pk>/statement/": Access(get=SIGNED_IN),
    # --- Reports (pos.view_reports) -------------------------------------------------------------
    "reports/": Access(get=MANAGERS),
    "reports/sales/": Access(get=MANAGERS),
    "reports/profit/": Access(get=MANAGERS),
    "reports/inventory/": Access(get=MANAGERS),
    "reports/shifts/": Access(get=MANAGERS),
    "reports/shifts/<int:pk>/": Access(get=MANAGERS),
    "reports/customers/": Access(get=MANAGERS),
    "reports/suspicious/": Access(get=MANAGERS),
    "reports/mobile-money/": screen(MANAGERS),
    # --- Fiscal day reports (pos.view_reports) ---------------------------------------------------
    "fiscal/reports/x/": Access(get=MANAGERS),
    "fiscal/reports/z/": Access(get=MANAGERS),
    "fiscal/reports/plu/": Access(get=MANAGERS),
    "fiscal/sales/<int:pk>/send-later/": screen(SIGNED_IN),  # a sale the user may see
    # A voided sale's R receipt: its page, and its print on the sale's till's printer.
    "fiscal/sales/<int:pk>/void-receipt/": Access(get=SIGNED_IN),
    "fiscal/sales/<int:pk>/void-receipt/print/": Access(post=SIGNED_IN),
    # A quote: a manager's every one, a cashier's their own (the matrix's is a manager's).
    "fiscal/proformas/<int:pk>/": screen(MANAGERS),
    "fiscal/proformas/<int:pk>/print/": Access(post=MANAGERS),
    "fiscal/proformas/<int:pk>/send/": screen(MANAGERS),
    "fiscal/till/proforma/": screen(SIGNED_IN),  # the cart of the user's own till
    # Training mode: managers (fiscal.switch_training) switch a till; whoever sells sees a
    # training receipt, prints it on its till's printer and refunds it (practice, no money).
    "fiscal/training/": Access(get=MANAGERS),
    "fiscal/training/tills/<int:pk>/on/": Access(post=MANAGERS),
    "fiscal/training/tills/<int:pk>/off/": Access(post=MANAGERS),
    "fiscal/training/receipts/<int:pk>/": Access(get=SIGNED_IN),
    "fiscal/training/receipts/<int:pk>/print/": Access(post=SIGNED_IN),
    "fiscal/training/receipts/<int:pk>/refund/": screen(SIGNED_IN),
    # --- Monitoring: staff, or the monitoring token ---------------------------------------------
    "api/health/detailed": Access(get=STAFF_OR_MONITOR),
    "api/monitoring/performance": Access(get=STAFF_OR_MONITOR),
    "api/monitoring/performance/recent": Access(get=STAFF_OR_MONITOR),
    "api/monitoring/endpoints": Access(get=STAFF_OR_MONITOR),
    "api/monitoring/redis": Access(get=STAFF_OR_MONITOR),
    "api/monitoring/metrics": Access(get=STAFF_OR_MONITOR),
    # --- The REST API (session or token) --------------------------------------------------------
    "api/schema/": Access(get=SIGNED_IN),
    "api/docs/": Access(get=SIGNED_IN),
    "api/v1/": Access(get=SIGNED_IN),
    "api/v1/categories/": Access(get=SIGNED_IN, post=MANAGERS),
    "api/v1/categories/<int:pk>/": Access(get=SIGNED_IN, patch=MANAGERS),
    "api/v1/selling-units/": Access(get=MANAGERS, post=MANAGERS),
    "api/v1/selling-units/<int:pk>/": Access(get=MANAGERS, patch=MANAGERS),
    "api/v1/price-lists/": Access(get=MANAGERS, post=MANAGERS),
    "api/v1/price-lists/<int:pk>/": Access(get=MANAGERS, patch=MANAGERS),
    "api/v1/price-rules/": Access(get=MANAGERS, post=MANAGERS),
    "api/v1/price-rules/<int:pk>/": Access(get=MANAGERS, patch=MANAGERS),
    "api/v1/scale-label-templates/": Access(get=MANAGERS, post=MANAGERS),
    "api/v1/scale-label-templates/<int:pk>/": Access(get=MANAGERS, patch=MANAGERS),
    "api/v1/scale-label-templates/test/": Access(post=MANAGERS),
    "api/v1/suppliers/": Access(get=MANAGERS, post=MANAGERS),
    "api/v1/suppliers/<int:pk>/": Access(get=MANAGERS, patch=MANAGERS),
    "api/v1/products/": Access(get=SIGNED_IN, post=MANAGERS),
    "api/v1/products/<int:pk>/": Access(get=SIGNED_IN, patch=MANAGERS),
    "api/v1/customers/": Access(get=SIGNED_IN, post=SIGNED_IN),
    "api/v1/customers/<int:pk>/": Access(get=SIGNED_IN, patch=SIGNED_IN),
    "api/v1/customers/<int:pk>/statement/": Access(get=SIGNED_IN),
    "api/v1/stock-movements/": Access(get=MANAGERS),
    "api/v1/stock-movements/<int:pk>/": Access(get=MANAGERS),
    "api/v1/stock-adjustments/": Access(post=MANAGERS),
    "api/v1/purchase-orders/": Access(get=MANAGERS, post=MANAGERS),
    "api/v1/purchase-orders/<int:pk>/": Access(get=MANAGERS),
    "api/v1/purchase-orders/<int:pk>/cancel/": Access(post=MANAGERS),
    "api/v1/purchase-orders/<int:pk>/order/": Access(post=MANAGERS),
    "api/v1/purchase-orders/<int:pk>/receive/": Access(post=MANAGERS),
    "api/v1/registers/": Access(get=SIGNED_IN),
    "api/v1/registers/<int:pk>/": Access(get=SIGNED_IN),
    "api/v1/shifts/": Access(get=SIGNED_IN, post=SIGNED_IN),
    "api/v1/shifts/current/": Access(get=SIGNED_IN),
    "api/v1/shifts/<int:pk>/": Access(get=SIGNED_IN),  # a cashier: their own shifts only
    "api/v1/shifts/<int:pk>/cash-movements/": Access(post=SIGNED_IN),
    "api/v1/shifts/<int:pk>/close/": Access(post=SIGNED_IN),
    "api/v1/shifts/<int:pk>/review/": Access(post=MANAGERS),
    "api/v1/shifts/<int:pk>/z-report/": Access(get=SIGNED_IN),
    "api/v1/gift-cards/": Access(post=SIGNED_IN),  # sold on the caller's open shift
    "api/v1/gift-cards/balance/": Access(get=SIGNED_IN),
    "api/v1/sales/": Access(get=SIGNED_IN, post=SIGNED_IN),
    "api/v1/sales/<int:pk>/": Access(get=SIGNED_IN),
    "api/v1/sales/<int:pk>/receipt/": Access(get=SIGNED_IN),
    "api/v1/sales/<int:pk>/refund/": Access(post=MANAGERS),
    "api/v1/sales/<int:pk>/void/": Access(post=MANAGERS),
    "api/v1/held-sales/": Access(get=SIGNED_IN, post=SIGNED_IN),
    "api/v1/held-sales/<int:pk>/": Access(get=SIGNED_IN, delete=SIGNED_IN),
    "api/v1/held-sales/<int:pk>/resume/": Access(post=SIGNED_IN),
    "api/v1/invoices/": Access(get=SIGNED_IN),
    "api/v1/invoices/<int:pk>/": Access(get=SIGNED_IN),
    "api/v1/invoices/<int:pk>/cancel/": Access(post=MANAGERS),
    "api/v1/invoices/<int:pk>/payments/": Access(post=SIGNED_IN),
    "api/v1/reports/dashboard/": Access(get=MANAGERS),
    "api/v1/reports/sales/": Access(get=MANAGERS),
    "api/v1/reports/profit/": Access(get=MANAGERS),
    "api/v1/reports/inventory/": Access(get=MANAGERS),
    "api/v1/reports/shifts/": Access(get=MANAGERS),
    "api/v1/reports/shifts/<int:pk>/": Access(get=MANAGERS),
    "api/v1/reports/customers/": Access(get=MANAGERS),
    # --- The admin: staff only ------------------------------------------------------------------
    "admin/": Access(get=MANAGERS),
    "admin/login/": screen(EVERYONE),
    "admin/logout/": Access(post=EVERYONE),
    "admin/password_change/": screen(MANAGERS),
    "admin/password_change/done/": Access(get=MANAGERS),
    "admin/autocomplete/": Access(get=MANAGERS),  # asked for a purchase order's supplier
    "admin/jsi18n/": Access(get=MANAGERS),
    # "View on site": no model has a page of its own, so the admin answers 404 to everyone.
    "admin/r/<path:content_type_id>/<path:object_id>/": Access(get=NOBODY),
    APP_INDEX: Access(get=MANAGERS),
    "admin/(?P<url>.*)$": Access(get=NOBODY),  # the admin's own 404
    "admin/health/": Access(get=MANAGERS),
    "admin/pos/product/import-csv/": screen(MANAGERS),
    "admin/pos/product/stock-count/": screen(MANAGERS),
    "admin/pos/scalelabeltemplate/test/": screen(MANAGERS),
    "admin/pos/journalentry/integrity/": screen(MANAGERS),
    "admin/pos/product/<int:pk>/adjust-stock/": screen(MANAGERS),
    # Managers (pos.adjust_balance) issue a card and adjust store credit, points or a card.
    "admin/pos/giftcard/issue/": screen(MANAGERS),
    "admin/pos/giftcard/<int:pk>/adjust/": screen(MANAGERS),
    "admin/pos/customer/<int:pk>/adjust/": screen(MANAGERS),
    "admin/pos/purchaseorder/<int:pk>/receive/": screen(MANAGERS),
    # Stock transfers: a manager of the source sends, one of the destination receives
    # (pos.services.transfers); the delivery note is for the staff of either store.
    "admin/pos/transfer/<int:pk>/send/": screen(MANAGERS),
    "admin/pos/transfer/<int:pk>/receive/": screen(MANAGERS),
    "admin/pos/transfer/<int:pk>/delivery-note/": screen(MANAGERS),
    "admin/accounts/user/<id>/password/": screen(MANAGERS),
}

# Each model registered in the admin: who may see its list and rows, add, and delete.
ADMIN_MODELS: dict[str, tuple[frozenset, frozenset, frozenset]] = {
    "auth.group": (ADMINS, ADMINS, ADMINS),
    "accounts.user": (MANAGERS, MANAGERS, ADMINS),
    "accounts.auditlog": (MANAGERS, NOBODY, NOBODY),
    "authtoken.tokenproxy": (MANAGERS, MANAGERS, MANAGERS),
    "pos.category": (MANAGERS, MANAGERS, ADMINS),
    "pos.supplier": (MANAGERS, MANAGERS, ADMINS),
    "pos.product": (MANAGERS, MANAGERS, ADMINS),
    "pos.customer": (MANAGERS, MANAGERS, ADMINS),
    "pos.purchaseorder": (MANAGERS, MANAGERS, ADMINS),
    "pos.register": (MANAGERS, MANAGERS, ADMINS),
    "pos.sale": (MANAGERS, NOBODY, NOBODY),
    "pos.shift": (MANAGERS, NOBODY, NOBODY),
    "pos.payment": (MANAGERS, NOBODY, NOBODY),
    "pos.cashmovement": (MANAGERS, NOBODY, NOBODY),
    "pos.refund": (MANAGERS, NOBODY, NOBODY),
    "pos.heldsale": (MANAGERS, NOBODY, NOBODY),
    "pos.invoice": (MANAGERS, NOBODY, NOBODY),
    "pos.mobilemoneyrequest": (MANAGERS, NOBODY, NOBODY),
    "pos.mobilemoneystatementline": (MANAGERS, NOBODY, NOBODY),  # imported, never edited
    "pos.sequence": (ADMINS, NOBODY, NOBODY),
    "pos.shopsettings": (MANAGERS, NOBODY, NOBODY),  # one record, already there
    # The business's stores: managers look, owners and admins add and change, none is deleted.
    "pos.store": (MANAGERS, ADMINS, NOBODY),
    # Stock per store: moved by the ledger only; managers set a store's own reorder level.
    "pos.stocklevel": (MANAGERS, NOBODY, NOBODY),
    "pos.stockmovement": (MANAGERS, NOBODY, NOBODY),
    "pos.lowstockalert": (MANAGERS, NOBODY, NOBODY),
    "pos.stockcount": (MANAGERS, NOBODY, NOBODY),  # made on the product list's Stock count page
    # Transfers between stores: drafted by managers, sent and received, never deleted; their
    # lines listed as what is in transit.
    "pos.transfer": (MANAGERS, MANAGERS, NOBODY),
    "pos.transferline": (MANAGERS, NOBODY, NOBODY),
    "pos.productdaysales": (ADMINS, NOBODY, NOBODY),
    # Goods as shops sell them: packs, price lists and their rules, scale label layouts.
    "pos.sellingunit": (MANAGERS, MANAGERS, ADMINS),
    "pos.pricelist": (MANAGERS, MANAGERS, ADMINS),
    "pos.pricerule": (MANAGERS, MANAGERS, ADMINS),
    "pos.scalelabeltemplate": (MANAGERS, MANAGERS, ADMINS),  # the reports' daily sums, read only
    "pos.receiptprinter": (MANAGERS, MANAGERS, ADMINS),  # added, tested, assigned to tills
    # The journal and its closings: read only for everyone, by the database's own trigger too.
    "pos.journalentry": (MANAGERS, NOBODY, NOBODY),
    "pos.closing": (MANAGERS, NOBODY, NOBODY),
    "pos.chainhead": (ADMINS, NOBODY, NOBODY),
    # The offline tills' devices and the sales they synced (or could not), read only.
    "pos.tilldevice": (MANAGERS, NOBODY, NOBODY),
    "pos.offlinesale": (MANAGERS, NOBODY, NOBODY),
    # Gift cards and the customer ledger: written by pos.services.ledger only, read only here.
    "pos.giftcard": (MANAGERS, NOBODY, NOBODY),
    "pos.ledgerentry": (MANAGERS, NOBODY, NOBODY),
    "pos.customermessage": (
        MANAGERS,
        NOBODY,
        NOBODY,
    ),  # sent by the worker, read only  # the reports' daily sums, read only
    # The alert history, read only (managers see it on the health dashboard).
    "monitoring.alertincident": (ADMINS, NOBODY, NOBODY),
    # Background jobs: every job row (django-tasks-db's list), and the failed ones with Retry.
    "django_tasks_database.dbtaskresult": (ADMINS, NOBODY, NOBODY),
    "jobs.failedjob": (ADMINS, NOBODY, NOBODY),
    # Who has two-factor sign-in on; an admin deletes a lost phone's device.
    "otp_totp.totpdevice": (ADMINS, NOBODY, ADMINS),
    # Fiscal signing: managers see the device, codes and items, fix an item's codes and resend
    # what the VSDC refused; only an admin initialises a device; nothing fiscal is deleted.
    "fiscal.device": (MANAGERS, ADMINS, NOBODY),
    "fiscal.code": (MANAGERS, NOBODY, NOBODY),
    "fiscal.itemclass": (MANAGERS, NOBODY, NOBODY),
    "fiscal.item": (MANAGERS, NOBODY, NOBODY),
    "fiscal.outboxitem": (MANAGERS, NOBODY, NOBODY),
    "fiscal.proforma": (MANAGERS, MANAGERS, NOBODY),
}


def admin_model_routes() -> dict[str, Access]:
    routes = {}
    for model in admin.site._registry:
        view, add, delete = ADMIN_MODELS.get(model._meta.label_lower, (None, None, None))
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        routes[prefix] = Access(get=view)
        routes[f"{prefix}add/"] = Access(get=add)
        routes[f"{prefix}<path:object_id>/change/"] = Access(get=view)
        routes[f"{prefix}<path:object_id>/history/"] = Access(get=view)
        routes[f"{prefix}<path:object_id>/delete/"] = Access(get=delete)
        # The bare row URL redirects staff to its change page (which checks the permission).
        routes[f"{prefix}<path:object_id>/"] = Access(get=MANAGERS)
    return routes


ALL_ROUTES = {**admin_model_routes(), **ROUTES}


def project_url_patterns(resolver=None, prefix=""):
    """Every URL pattern of the project, included ones (the admin's too) spelled out in full."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from project_url_patterns(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def test_every_url_pattern_says_who_may_reach_it():
    patterns = set(project_url_patterns())
    unknown = sorted(patterns - ALL_ROUTES.keys())
    assert not unknown, (
        "These URL patterns are not in tests/security/test_access_matrix.py: add each to ROUTES "
        "(or, for a model registered in the admin, to ADMIN_MODELS) saying who may reach it: "
        f"{unknown}"
    )
    stale = sorted(ALL_ROUTES.keys() - patterns)
    assert not stale, f"ROUTES names patterns that no longer exist: {stale}"
    missing_models = [
        m._meta.label_lower for m in admin.site._registry if m._meta.label_lower not in ADMIN_MODELS
    ]
    assert not missing_models, f"Add these admin models to ADMIN_MODELS: {missing_models}"


# --- Building a concrete URL for each pattern --------------------------------------------------

# The shop object a `<pk>` stands for, by the path segment before it.
OBJECT_BEFORE = {
    "sales": "sale",
    "shifts": "shift",
    "held": "held",
    "held-sales": "held",
    "add": "product",
    "products": "product",
    "categories": "category",
    "suppliers": "supplier",
    "customers": "customer",
    "account": "customer",
    "purchase-orders": "order",
    "registers": "register",
    "invoices": "invoice",
    "requests": "momo",
}


def concrete_url(route: str, shop) -> str:
    from pos.models import StockMovement

    parts = route.split("/")
    if route.startswith("admin/^(?P<app_label>"):
        return "/admin/pos/"
    if route == "admin/autocomplete/":
        return "/admin/autocomplete/?app_label=pos&model_name=purchaseorder&field_name=supplier"
    if route == "pos/logo.png":
        _shop_logo()
        return "/pos/logo.png"
    if route == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if route == "admin/r/<path:content_type_id>/<path:object_id>/":
        content_type = ContentType.objects.get_for_model(shop["product"])
        return f"/admin/r/{content_type.pk}/{shop['product'].pk}/"
    for i, part in enumerate(parts):
        if not part.startswith("<"):
            continue
        before = parts[i - 1]
        if part == "<int:index>":
            value = 0
        elif part == "<str:reference_id>":
            value = shop["momo"].reference_id
        elif part == "<str:token>":
            value = _paired_display_token()
        elif route.startswith("admin/"):
            model = ContentType.objects.get_by_natural_key(parts[1], before).model_class()
            row = model._default_manager.order_by("pk").first()
            value = row.pk if row is not None else 0
        elif before == "shifts" and "reports/" in route:
            value = shop["closed_shift"].pk  # reports show closed shifts
        elif before == "stock-movements":
            value = StockMovement.objects.order_by("pk").first().pk
        elif before == "refunds":
            value = _refund_on_the_cashiers_shift(shop).pk
        elif before == "account-payments":
            value = _payment_on_account(shop).pk
        elif route.startswith("fiscal/"):
            value = _fiscal_row(shop, before, void="void-receipt" in route).pk
        elif route.startswith("register/offline/"):
            device, refused = _offline_rows(shop)
            value = device.pk if before == "devices" else refused.pk
        elif before in GOODS_ROWS:
            value = GOODS_ROWS[before](shop).pk
        else:
            assert before in OBJECT_BEFORE, f"say which object {route} points at (OBJECT_BEFORE)"
            value = shop[OBJECT_BEFORE[before]].pk
        parts[i] = str(value)
    return "/" + "/".join(parts)


def _fiscal_row(shop, before, *, void=False):
    """The shop's sale, queued for signing on a device (and voided, for a void's receipt); or a
    proforma quote."""
    from fiscal.models import Device, OutboxItem, Proforma
    from pos.models import Sale

    if before == "tills":
        return shop["sale"].register
    if before == "receipts":
        return _training_receipt(shop)
    device = Device.objects.create(
        tin="123456789", serial_number="matrix", store=shop["sale"].register.store
    )
    if before == "proformas":
        quote = Proforma.objects.create(created_by=shop["users"]["manager"])
        OutboxItem.objects.create(
            device=device, kind=OutboxItem.Kind.PROFORMA, proforma=quote, invoice_number=1
        )
        return quote
    OutboxItem.objects.create(
        device=device, kind=OutboxItem.Kind.SALE, sale=shop["sale"], invoice_number=1
    )
    if void:
        Sale.objects.filter(pk=shop["sale"].pk).update(status=Sale.Status.VOIDED)
        OutboxItem.objects.create(
            device=device, kind=OutboxItem.Kind.VOID, sale=shop["sale"], invoice_number=2
        )
    return shop["sale"]


def _training_receipt(shop):
    """A training sale on the shop's till, put in training for it."""
    from fiscal.models import TrainingLine, TrainingReceipt, TrainingTill

    sale = shop["sale"]
    TrainingTill.objects.get_or_create(
        register=sale.register, defaults={"started_by": shop["users"]["manager"]}
    )
    receipt = TrainingReceipt.objects.create(
        register=sale.register,
        cashier=sale.cashier,
        subtotal=shop["product"].retail_price,
        tax_total=0,
        total=shop["product"].retail_price,
    )
    TrainingLine.objects.create(
        receipt=receipt,
        product=shop["product"],
        product_name=shop["product"].name,
        quantity=1,
        unit_price=shop["product"].retail_price,
        total=shop["product"].retail_price,
        tax=0,
    )
    return receipt


def _shop_logo() -> None:
    from io import BytesIO

    from PIL import Image

    from pos.models import ShopSettings
    from pos.services import shop_logo

    png = BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    shop = ShopSettings.load()
    shop_logo.set_logo(shop, png)
    shop.save()


def _paired_display_token() -> str:
    from pos.models import Register
    from pos.services.registers import display_key

    Register.objects.update(display_key=display_key("matrix-display-token"))
    return "matrix-display-token"


def _selling_unit(shop):
    from pos.models import SellingUnit

    return SellingUnit.objects.get_or_create(
        product=shop["product"], name="Box", defaults={"factor": 10}
    )[0]


def _price_list(shop):
    from pos.models import PriceList

    return PriceList.objects.get_or_create(name="Wholesale")[0]


def _price_rule(shop):
    from pos.models import PriceRule

    return PriceRule.objects.get_or_create(
        product=shop["product"], price_list=None, defaults={"min_quantity": 10, "price": 3000}
    )[0]


def _scale_template(shop):
    from pos.models import ScaleLabelTemplate

    return ScaleLabelTemplate.objects.order_by("pk").first()


GOODS_ROWS = {
    "selling-units": _selling_unit,
    "price-lists": _price_list,
    "price-rules": _price_rule,
    "scale-label-templates": _scale_template,
}


def _offline_rows(shop):
    """A device of the cashier's till and a sale it synced that was refused."""
    from django.utils import timezone

    from pos.models import OfflineSale, TillDevice

    device, _ = TillDevice.objects.get_or_create(
        key=uuid.UUID(int=1),
        defaults={
            "register": shop["sale"].shift.register,
            "code": 1,
            "created_by": shop["sale"].cashier,
        },
    )
    refused, _ = OfflineSale.objects.get_or_create(
        key=uuid.UUID(int=2),
        defaults={
            "device": device,
            "number": "R1-T1-000001",
            "sold_at": timezone.now(),
            "synced_by": shop["sale"].cashier,
            "payload": {},
            "status": OfflineSale.Status.REFUSED,
            "reason": "Unknown product",
        },
    )
    return device, refused


def _refund_on_the_cashiers_shift(shop):
    from pos.services.refunds import RefundLineInput, refund_sale

    sale = shop["sale"]
    return refund_sale(
        sale=sale,
        shift=shop["shift"],
        user=shop["users"]["manager"],
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Access test",
    )


def _payment_on_account(shop):
    from pos.services.invoices import pay_on_account

    return pay_on_account(
        customer=shop["customer"],
        amount="1000",
        tender="cash",
        user=shop["users"]["cashier"],
        shift=shop["shift"],
    )[0]


# --- The clients -------------------------------------------------------------------------------

CLIENTS = ["anonymous", "cashier", "manager", "admin", "cashier_token", "manager_token", "monitor"]
API_PREFIXES = ("api/v1/", "api/schema/", "api/docs/")
MONITORING_PREFIXES = ("api/health/detailed", "api/monitoring/")


def identity(client_name: str, route: str) -> str:
    """Who the app should take this client for on this route."""
    if client_name.endswith("_token"):
        return client_name.removesuffix("_token") if route.startswith(API_PREFIXES) else ANONYMOUS
    if client_name == "monitor":
        return MONITOR if route.startswith(MONITORING_PREFIXES) else ANONYMOUS
    return client_name


def make_clients(shop):
    clients = {"anonymous": Client()}
    for role in ("cashier", "manager", "admin"):
        clients[role] = Client()
        clients[role].force_login(shop["users"][role])
    for role in ("cashier", "manager"):
        token = shop["tokens"][role]
        clients[f"{role}_token"] = Client(HTTP_AUTHORIZATION=f"Token {token}")
    clients["monitor"] = Client(HTTP_AUTHORIZATION=f"Bearer {MONITORING_TOKEN}")
    return clients


def send(client, method: str, url: str):
    """One request, its writes rolled back afterwards."""
    with transaction.atomic():
        if method in ("post", "patch") and url.startswith("/api/"):
            response = client.generic(method.upper(), url, "{}", "application/json")
        else:
            response = getattr(client, method)(url)
        transaction.set_rollback(True)
    return response


def outcome(response) -> str:
    if response.status_code >= 500:
        return "error"
    if response.status_code == 405:
        return "no such method"
    if response.status_code in (401, 403, 404):
        return "refused"
    if response.status_code in (301, 302):
        location = urlsplit(response["Location"])
        if location.path in ("/", "/admin/login/") and "next=" in location.query:
            return "refused"  # sent to sign in
    return "reached"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(ALL_ROUTES))
def test_who_may_reach_each_url(route, shop):
    access = ALL_ROUTES[route]
    url = concrete_url(route, shop)
    methods = ["get"] if route.startswith("admin/") and route not in ROUTES else ["get", "post"]
    methods += [f.name for f in fields(Access) if f.name not in methods and getattr(access, f.name)]
    offered = set().union(*(getattr(access, f.name) or () for f in fields(Access)))
    clients = make_clients(shop)
    wrong = []
    for method in methods:
        allowed = getattr(access, method)
        for name in CLIENTS:
            who = identity(name, route)
            response = send(clients[name], method, url)
            result = outcome(response)
            seen = f"{method.upper()} {url} as {name}: {response.status_code} ({result})"
            if result == "error":
                wrong.append(f"{seen}: a server error")
            elif allowed is None:
                # A method the route does not offer: nobody gets further than with the others.
                if result == "reached" and who not in offered:
                    wrong.append(f"{seen}: should be refused")
            elif (result == "reached") != (who in allowed):
                wrong.append(f"{seen}: expected {'reached' if who in allowed else 'refused'}")
            elif who == ANONYMOUS and result == "refused" and url.startswith("/api/"):
                if response.status_code != 401:
                    wrong.append(f"{seen}: anonymous API callers get a 401")
            elif who == ANONYMOUS and result == "refused" and not url.startswith("/pos/momo"):
                if response.status_code not in (302, 401):
                    wrong.append(f"{seen}: anonymous screens send to sign in")
    assert not wrong, "\n".join(wrong)
