"""Roles map to Django groups; the groups hold the permissions.

Views and the admin check permissions (`user.has_perm("pos.sell")`), never role names. This module
is the one place that says what each role may do; later apps add their permissions here.
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission

from accounts.models import Role

ROLE_GROUP_NAMES = {
    Role.CASHIER: "Cashiers",
    Role.MANAGER: "Managers",
    Role.ADMIN: "Admins",
}

# "app_label.codename" for each role. The admin role gets every permission there is.
CASHIER_PERMISSIONS: set[str] = {
    # Look up products and customers at the till, and quick-create a customer.
    "pos.view_product",
    "pos.view_category",
    "pos.view_customer",
    "pos.add_customer",
    "pos.change_customer",
    # Sell, on their own shift.
    "pos.sell",
    # Open the drawer without a sale (change for a note), with a reason; take it away from
    # the Cashiers group to leave it to managers.
    "pos.open_cash_drawer",
    "pos.view_sale",
    "pos.add_heldsale",
    "pos.view_heldsale",
    # Print the invoice right after a sale on account (and look at a customer's statement).
    "pos.view_invoice",
}


def _crud(app_label: str, *models: str, verbs=("add", "change", "view")) -> set[str]:
    return {f"{app_label}.{verb}_{model}" for model in models for verb in verbs}


MANAGER_PERMISSIONS: set[str] = (
    CASHIER_PERMISSIONS
    | {
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.manage_cashiers",
        "accounts.view_auditlog",
        "pos.view_shopsettings",
        # The business's stores: owners and admins add and change them (pos/admin/shop.py).
        "pos.view_store",
        # The stores each member of staff works in (pos.scoping): owners and admins assign.
        "pos.view_storemembership",
        # Each store's stock and its own reorder levels (pos/admin/stock.py).
        "pos.view_stocklevel",
        "pos.change_stocklevel",
        "pos.view_stockmovement",
        "pos.adjust_stock",
        "pos.receive_stock",
        "pos.count_stock",
        # Stock transfers between stores (pos.services.transfers): a manager of the source
        # store sends, a manager of the destination receives.
        "pos.send_transfer",
        "pos.receive_transfer",
        "pos.import_products",
        "pos.approve_discount",
        "pos.void_sale",
        "pos.refund_sale",
        "pos.refund_without_receipt",
        "pos.close_any_shift",
        "pos.view_shift",
        "pos.view_payment",
        "pos.view_refund",
        "pos.view_cashmovement",
        "pos.view_mobilemoneyrequest",
        # Import MTN's merchant statement and reconcile the till's Mobile Money with it.
        "pos.add_mobilemoneystatementline",
        "pos.view_mobilemoneystatementline",
        "pos.view_reports",
        # The tamper-evident journal, its closings and its integrity check (read only).
        "pos.view_journalentry",
        "pos.view_closing",
        # The offline tills' devices and synced sales; gift cards and the customer ledger.
        "pos.view_tilldevice",
        "pos.view_offlinesale",
        "pos.view_giftcard",
        "pos.view_ledgerentry",
        # Issue a gift card, adjust store credit, points or a card: with a reason, journalled.
        "pos.adjust_balance",
        # What was sent to customers (receipts, reminders, gift-card codes) and how it went.
        "pos.view_customermessage",
        # API tokens (rest_framework.authtoken): create and revoke them in the admin, for
        # themselves and the cashiers they manage (accounts/admin.py TokenAdmin).
        "authtoken.view_tokenproxy",
        "authtoken.add_tokenproxy",
        "authtoken.delete_tokenproxy",
        # Fiscal signing (fiscal/admin.py): the outbox's "needs attention" list and Resend,
        # the products' fiscal codes, the device and its code tables (read only).
        "fiscal.view_outboxitem",
        "fiscal.change_outboxitem",
        "fiscal.view_item",
        "fiscal.change_item",
        "fiscal.view_device",
        "fiscal.view_code",
        "fiscal.view_itemclass",
        # Proforma quotes (PS): written in the admin, signed, never changed.
        "fiscal.view_proforma",
        "fiscal.add_proforma",
        # Training mode (fiscal.training): put a till in training and take it out, audited.
        "fiscal.switch_training",
    }
    | _crud(
        "pos",
        "product",
        "category",
        "supplier",
        "customer",
        "purchaseorder",
        "purchaseorderline",
        "stockcount",
        "stockcountline",
        "lowstockalert",
        "transfer",
        "transferline",
        "register",
        "invoice",
        # Goods as shops sell them: packs, price lists, scale label layouts.
        "sellingunit",
        "pricelist",
        "pricerule",
        "scalelabeltemplate",
        # Receipt printers: added, tested and assigned to tills.
        "receiptprinter",
    )
)

ROLE_PERMISSIONS: dict[str, set[str] | None] = {
    Role.CASHIER: CASHIER_PERMISSIONS,
    Role.MANAGER: MANAGER_PERMISSIONS,
    Role.ADMIN: None,  # all permissions
}

# Roles whose members may use the Django admin.
STAFF_ROLES = {Role.MANAGER, Role.ADMIN}


def permissions_for(role: str):
    wanted = ROLE_PERMISSIONS[role]
    if wanted is None:
        return Permission.objects.all()
    found = Permission.objects.select_related("content_type").filter(
        codename__in={name.split(".", 1)[1] for name in wanted}
    )
    by_name = {f"{p.content_type.app_label}.{p.codename}": p for p in found}
    missing = wanted - by_name.keys()
    if missing:
        raise LookupError(f"Role {role!r} names permissions that do not exist: {sorted(missing)}")
    return [by_name[name] for name in sorted(wanted)]


def sync_role_groups() -> None:
    """Create the role groups and give each exactly its role's permissions (idempotent)."""
    for role, group_name in ROLE_GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(permissions_for(role))


def sync_role_groups_after_migrate(sender, app_config=None, using="default", **kwargs):
    # post_migrate fires once per app that has models (in INSTALLED_APPS order), and each app's
    # permissions are created by its own signal: all of them exist only after the last one.
    apps_with_models = [a for a in global_apps.get_app_configs() if a.models_module is not None]
    if sender is apps_with_models[-1]:
        sync_role_groups()
