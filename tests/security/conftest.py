"""A small shop with one of everything the URLs point at, for the security tests.

Two cashiers each on their own shift (Grace on R1, Bob on R2), a manager and an admin with API
tokens, and the rows the screens, the API and the admin show: a product, a customer with an
invoice, a held sale, a purchase order, a stock count, a mobile money request, an audit entry.
"""

import uuid
from decimal import Decimal

import pytest

from tests.pos.conftest import _fresh_shop_settings_cache  # noqa: F401

MONITORING_TOKEN = "monitoring-token-for-the-security-tests-0123456789"


@pytest.fixture
def shop(make_user, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tasks_db.models import DBTaskResult
    from rest_framework.authtoken.models import Token

    from accounts import audit
    from monitoring.models import AlertIncident
    from pos.models import (
        Category,
        Customer,
        LowStockAlert,
        MobileMoneyRequest,
        PurchaseOrder,
        PurchaseOrderLine,
        Register,
        StockCount,
        Store,
        Supplier,
        Transfer,
        TransferLine,
    )
    from pos.services.catalogue import create_product
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.gift_cards import sell_gift_card
    from pos.services.holds import hold_sale
    from pos.services.shifts import close_shift, open_shift

    settings.MONITORING_API_TOKEN = MONITORING_TOKEN
    users = {
        "cashier": make_user("grace", "cashier", first_name="Grace"),
        "other_cashier": make_user("bob", "cashier", first_name="Bob"),
        "manager": make_user("eric", "manager", first_name="Eric"),
        "admin": make_user("aline", "admin", first_name="Aline"),
    }
    tokens = {role: Token.objects.create(user=users[role]).key for role in ("cashier", "manager")}
    # Another manager's authenticator (the admin's two-factor devices page lists and deletes it).
    TOTPDevice.objects.create(
        user=make_user("olive", "manager", first_name="Olive"), name="app", confirmed=True
    )
    category = Category.objects.create(name="Cables")
    supplier = Supplier.objects.create(name="Kigali Tech Imports")
    product = create_product(
        name="USB-C cable 1m",
        sku="CAB-1",
        barcode="CAB-1",
        category=category,
        supplier=supplier,
        cost_price=Decimal(1500),
        retail_price=Decimal(3500),
        minimum_price=Decimal(2000),
        reorder_level=2,
        initial_stock=50,
    )
    customer = Customer.objects.create(
        name="Jean Bosco", phone="+250788123456", credit_limit=Decimal(100000)
    )
    r1 = Register.objects.create(code="R1", name="Till 1")
    r2 = Register.objects.create(code="R2", name="Till 2")
    r3 = Register.objects.create(code="R3", name="Till 3")
    r4 = Register.objects.create(code="R4", name="Till 4")
    shift = open_shift(register=r1, cashier=users["cashier"], opening_float=Decimal(20000))
    other_shift = open_shift(
        register=r2, cashier=users["other_cashier"], opening_float=Decimal(10000)
    )

    def sell(shift, cashier, tender="cash", customer_id=None):
        return checkout(
            shift=shift,
            cashier=cashier,
            cart=Cart([CartLine(product.pk, 1)], customer_id=customer_id),
            tenders=[TenderLine(tender, Decimal(3500))],
            idempotency_key=uuid.uuid4(),
        )

    # The manager sells too (on R3), and the admin has closed a shift on R4.
    open_shift(register=r3, cashier=users["manager"], opening_float=Decimal(0))
    closed_shift = close_shift(
        shift=open_shift(register=r4, cashier=users["admin"], opening_float=Decimal(0)),
        counted={"cash": Decimal(0)},
        user=users["admin"],
    )
    open_shift(register=r4, cashier=users["admin"], opening_float=Decimal(0))
    sale = sell(shift, users["cashier"])
    credit_sale = sell(shift, users["cashier"], "account", customer.pk)
    other_sale = sell(other_shift, users["other_cashier"])
    sell_gift_card(shift=shift, user=users["cashier"], amount=Decimal(5000))  # its admin pages
    held = hold_sale(register=r1, cashier=users["cashier"], cart=Cart([CartLine(product.pk, 2)]))
    order = PurchaseOrder.objects.create(supplier=supplier, created_by=users["manager"])
    PurchaseOrderLine.objects.create(
        order=order, product=product, quantity_ordered=5, unit_cost=Decimal(1500)
    )
    momo = MobileMoneyRequest.objects.create(
        shift=shift, amount=Decimal(3500), phone="+250788123456", created_by=users["cashier"]
    )
    # A draft stock transfer to a closed depot (closed: the shop stays a one-store shop for the
    # consolidated reports), for the transfer pages.
    depot = Store.objects.create(name="Depot", code="DEP", branch_id="09", is_active=False)
    transfer = Transfer.objects.create(
        source=r1.store, destination=depot, created_by=users["manager"]
    )
    TransferLine.objects.create(transfer=transfer, product=product, quantity=2)
    # A row of the alert history, so that its admin pages have an object to refuse or show.
    AlertIncident.objects.create(rule="error_rate", summary="5xx share 12% over 5 minutes")
    # A job that failed for good, for the job list and the failed jobs' admin pages.
    DBTaskResult.objects.create(
        status="FAILED",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="pos.tasks.poll_mobile_money",
        backend_name="default",
        worker_ids=["w1"],
        traceback="RuntimeError: MTN unreachable",
    )
    return {
        "users": users,
        "tokens": tokens,
        "product": product,
        "category": category,
        "supplier": supplier,
        "customer": customer,
        "register": r1,
        "shift": shift,
        "other_shift": other_shift,
        "closed_shift": closed_shift,
        "sale": sale,
        "other_sale": other_sale,
        "invoice": credit_sale.invoice,
        "held": held,
        "order": order,
        "momo": momo,
        "transfer": transfer,
        "count": StockCount.objects.create(name="November", created_by=users["manager"]),
        "alert": LowStockAlert.objects.create(
            store=r1.store, product=product, stock_on_hand=1, reorder_level=2
        ),
        "audit": audit.record(action="security.test", actor=users["manager"]),
    }
