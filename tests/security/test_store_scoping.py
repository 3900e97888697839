"""Staff per store (issue 29): a cashier or a manager of store A cannot read or change anything of
store B through any URL; an owner (here the admin) can.

The shop of the access matrix (tests/security/conftest.py) is store A: Grace (cashier) and Eric
(manager) are assigned to it. Store B has its own till, where Bea sells: a sale on account with
its invoice, a refund, a held sale, a Mobile Money request, a payment on account, a closed and an
ended shift, an offline device with a refused sale. `STORE_ROUTES` names, for every URL pattern
of `ROUTES` that takes an object of a store, which of B's objects it is tried with; the others
name a business-wide object (`BUSINESS_WIDE`, with the reason). A pattern taking a pk that is in
neither fails `test_every_route_with_an_object_says_whose_object_it_is`.
"""

import json
import uuid
from dataclasses import fields
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.security.test_access_matrix import ADMIN, ROUTES, Access, outcome

# route -> the key of store B's object in the `store_b` fixture.
STORE_ROUTES = {
    "register/held/<int:pk>/resume/": "held",
    "register/held/<int:pk>/discard/": "held",
    "register/offline/sales/<int:pk>/resolve/": "offline_sale",
    "register/offline/devices/<int:pk>/forget/": "device",
    "register/sales/<int:pk>/void/": "sale",
    "register/sales/<int:pk>/refund/": "sale",
    "register/shifts/<int:pk>/z-report/": "closed_shift",
    "register/shifts/<int:pk>/z-report/print/": "closed_shift",
    "register/shifts/<int:pk>/review/": "ended_shift",
    "pos/sales/<int:pk>/receipt/": "sale",
    "pos/sales/<int:pk>/receipt/print/": "sale",
    "pos/sales/<int:pk>/receipt/send/": "sale",
    "pos/refunds/<int:pk>/slip/": "refund",
    "pos/refunds/<int:pk>/slip/print/": "refund",
    "pos/account-payments/<int:pk>/receipt/": "account_payment",
    "pos/momo/requests/<int:pk>/": "momo",
    "pos/invoices/<int:pk>/": "invoice",
    "reports/shifts/<int:pk>/": "closed_shift",
    "fiscal/sales/<int:pk>/send-later/": "sale",
    "fiscal/sales/<int:pk>/void-receipt/": "sale",
    "fiscal/sales/<int:pk>/void-receipt/print/": "sale",
    "fiscal/training/tills/<int:pk>/on/": "register",
    "fiscal/training/tills/<int:pk>/off/": "register",
    "fiscal/training/receipts/<int:pk>/": "training_receipt",
    "fiscal/training/receipts/<int:pk>/print/": "training_receipt",
    "fiscal/training/receipts/<int:pk>/refund/": "training_receipt",
    # A quote is the store's whose device signs it (a manager's own stay theirs).
    "fiscal/proformas/<int:pk>/": "proforma",
    "fiscal/proformas/<int:pk>/print/": "proforma",
    "fiscal/proformas/<int:pk>/send/": "proforma",
    "api/v1/registers/<int:pk>/": "register",
    "api/v1/shifts/<int:pk>/": "shift",
    "api/v1/shifts/<int:pk>/cash-movements/": "shift",
    "api/v1/shifts/<int:pk>/close/": "shift",
    "api/v1/shifts/<int:pk>/review/": "ended_shift",
    "api/v1/shifts/<int:pk>/z-report/": "shift",
    "api/v1/sales/<int:pk>/": "sale",
    "api/v1/sales/<int:pk>/receipt/": "sale",
    "api/v1/sales/<int:pk>/refund/": "sale",
    "api/v1/sales/<int:pk>/void/": "sale",
    "api/v1/held-sales/<int:pk>/": "held",
    "api/v1/held-sales/<int:pk>/resume/": "held",
    "api/v1/invoices/<int:pk>/": "invoice",
    "api/v1/invoices/<int:pk>/cancel/": "invoice",
    "api/v1/invoices/<int:pk>/payments/": "invoice",
    "api/v1/reports/shifts/<int:pk>/": "closed_shift",
    "api/v1/stock-movements/<int:pk>/": "movement",
    "api/v1/purchase-orders/<int:pk>/": "purchase_order",
    "api/v1/purchase-orders/<int:pk>/cancel/": "purchase_order",
    "api/v1/purchase-orders/<int:pk>/order/": "purchase_order",
    "api/v1/purchase-orders/<int:pk>/receive/": "purchase_order",
    "admin/pos/purchaseorder/<int:pk>/receive/": "purchase_order",
    "admin/pos/transfer/<int:pk>/send/": "transfer",
    "admin/pos/transfer/<int:pk>/receive/": "transfer",
    "admin/pos/transfer/<int:pk>/delivery-note/": "transfer",
    # A member of staff is the stores' they work in (a manager manages their stores' staff).
    "admin/accounts/user/<id>/password/": "bea",
}

# Routes whose object belongs to no store, and why.
BUSINESS_WIDE = {
    # The catalogue and the customers are the business's (issue 29).
    "register/add/<int:pk>/": "a product",
    "register/account/<int:pk>/": "a customer",
    "pos/customers/<int:pk>/statement/": "a customer",
    "api/v1/categories/<int:pk>/": "a category",
    "api/v1/selling-units/<int:pk>/": "a product's pack",
    "api/v1/price-lists/<int:pk>/": "a price list",
    "api/v1/price-rules/<int:pk>/": "a price rule",
    "api/v1/scale-label-templates/<int:pk>/": "a label layout",
    "api/v1/suppliers/<int:pk>/": "a supplier",
    "api/v1/products/<int:pk>/": "a product",
    "api/v1/customers/<int:pk>/": "a customer",
    "api/v1/customers/<int:pk>/statement/": "a customer",
    "admin/pos/giftcard/<int:pk>/adjust/": "a gift card (the customer's)",
    "admin/pos/customer/<int:pk>/adjust/": "a customer",
    # The product is the business's; the store whose stock moves is picked on the form, among
    # the user's stores (test_the_stock_forms_offer_only_ones_stores).
    "admin/pos/product/<int:pk>/adjust-stock/": "a product's stock",
}

# What the owner's visit cannot show on store B's objects as they are (not for want of access).
OWNER_CANNOT_SEE = {
    "fiscal/sales/<int:pk>/void-receipt/": "B's sale is not voided: no void receipt (404)",
}

# The admin pages of store B's rows, by model: every model of the admin the scope narrows
# (pos.scoping.is_scoped), tried with one of B's rows.
ADMIN_ROWS = {
    "pos.register": "register",
    "pos.shift": "shift",
    "pos.sale": "sale",
    "pos.payment": "payment",
    "pos.cashmovement": "cash_movement",
    "pos.refund": "refund",
    "pos.heldsale": "held",
    "pos.invoice": "invoice",
    "pos.mobilemoneyrequest": "momo",
    "pos.tilldevice": "device",
    "pos.offlinesale": "offline_sale",
    "pos.store": "store",
    "pos.stockmovement": "movement",
    "pos.stocklevel": "level",
    "pos.stockcount": "count",
    "pos.lowstockalert": "low_stock",
    "pos.purchaseorder": "purchase_order",
    "pos.journalentry": "journal_entry",
    "pos.chainhead": "chain_head",
    "pos.closing": "closing",
    "pos.customermessage": "message",
    "pos.ledgerentry": "ledger_entry",
    "accounts.user": "bea",
    "accounts.auditlog": "audit_entry",
    "fiscal.device": "fiscal_device",
    "fiscal.outboxitem": "outbox_item",
    "fiscal.proforma": "proforma",
    "pos.transfer": "transfer",
    "pos.transferline": "transfer_line",
}
# Rows of no one store that a manager of some stores does not see either (pos.scoping): the
# back office's journal chain, and the closings, total the whole business.
ADMIN_ROWS_OF_EVERY_STORE = {
    "pos.journalentry": "back_office_entry",
    "pos.chainhead": "back_office_head",
}

# The admin's models no store owns, and why (each is the business's, or only admins see it).
BUSINESS_WIDE_MODELS = {
    "auth.group": "the roles' permission groups (admins)",
    "django_tasks_database.dbtaskresult": "the background jobs (admins)",
    "jobs.failedjob": "the background jobs (admins)",
    "otp_totp.totpdevice": "two-factor devices (admins)",
    "monitoring.alertincident": "the system's alerts",
    "authtoken.tokenproxy": "API tokens: the staff of the stores (StaffTokenAdmin)",
    "pos.category": "the catalogue",
    "pos.supplier": "the catalogue",
    "pos.product": "the catalogue (stock per store is StockLevel's)",
    "pos.sellingunit": "the catalogue",
    "pos.pricelist": "the catalogue",
    "pos.pricerule": "the catalogue",
    "pos.scalelabeltemplate": "the catalogue",
    "pos.customer": "customers are the business's",
    "pos.giftcard": "a gift card is the customer's, valid in every store",
    "pos.receiptprinter": "a printer, assigned to tills on the till's page",
    "pos.mobilemoneystatementline": "MTN's statement of the one merchant account",
    "pos.sequence": "counters (admins)",
    "pos.productdaysales": "the reports' daily sums (admins)",
    "pos.shopsettings": "the shop-wide settings",
    "fiscal.code": "RRA's code tables",
    "fiscal.itemclass": "RRA's code tables",
    "fiscal.item": "a product's codes at RRA, the same in every branch",
}


# Routes taking a parameter that names no row of a store or of the business, and what it is.
NOT_AN_OBJECT = {
    "register/lines/<int:index>/": "a line of the user's own cart (kept in their session)",
    "register/lines/<int:index>/less/": "a line of the user's own cart",
    "register/lines/<int:index>/more/": "a line of the user's own cart",
    "register/lines/<int:index>/remove/": "a line of the user's own cart",
    "pos/momo/callback/<str:reference_id>/": "MTN's callback: reads nothing, asks MTN (public)",
    "register/display/paired/<str:token>/": "a customer display's own secret pairing token",
    "register/display/paired/<str:token>/state/": "a customer display's own secret token",
    "admin/r/<path:content_type_id>/<path:object_id>/": "'view on site': no model has one (404)",
}


def test_every_route_with_an_object_says_whose_object_it_is():
    """Every URL pattern with a parameter (the admin's model pages aside: ADMIN_ROWS and
    test_every_admin_model_says_whose_rows_it_holds) says whose object it takes."""
    with_object = {
        route for route in ROUTES if "<" in route and not route.startswith(("admin/^", "admin/("))
    }
    said = STORE_ROUTES.keys() | BUSINESS_WIDE.keys() | NOT_AN_OBJECT.keys()
    unsaid = sorted(with_object - said)
    assert not unsaid, f"Say whose object each takes (STORE_ROUTES or BUSINESS_WIDE): {unsaid}"
    assert not said - with_object


@pytest.fixture
def store_b(shop, make_user):
    """Store B with a till and what is done on it; store A's staff assigned to A."""
    from pos.models import OfflineSale, Register, Store, StoreMembership, TillDevice
    from pos.models.stores import default_store_pk
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.holds import hold_sale
    from pos.services.invoices import pay_on_account
    from pos.services.refunds import RefundLineInput, refund_sale
    from pos.services.shifts import close_shift, end_shift, open_shift, record_cash_movement

    store_a = Store.objects.get(pk=default_store_pk())
    store = Store.objects.create(name="Musanze", code="MUS", branch_id="01")
    users = shop["users"]
    for name in ("cashier", "other_cashier", "manager"):
        StoreMembership.objects.create(user=users[name], store=store_a)
    bea = make_user("bea", "cashier", first_name="Bea")
    boss = make_user("bosco", "manager", first_name="Bosco")
    for user in (bea, boss):
        StoreMembership.objects.create(user=user, store=store)
    till = Register.objects.create(code="M1", name="Musanze 1", store=store)
    ended_till = Register.objects.create(code="M2", name="Musanze 2", store=store)
    shift = open_shift(register=till, cashier=bea, opening_float=Decimal(10000))
    product, customer = shop["product"], shop["customer"]
    # Stock is per store: store B's till sells from store B's shelf.
    from pos.services.stock import adjust_stock

    movement = adjust_stock(product=product, quantity=10, reason="Delivery", user=boss, store=store)

    def sell(tender="cash", customer_id=None):
        return checkout(
            shift=shift,
            cashier=bea,
            cart=Cart([CartLine(product.pk, 1)], customer_id=customer_id),
            tenders=[TenderLine(tender, Decimal(3500))],
            idempotency_key=uuid.uuid4(),
        )

    sale = sell()
    credit_sale = sell("account", customer.pk)
    refund = refund_sale(
        sale=sale,
        shift=shift,
        user=boss,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Store test",
    )
    held = hold_sale(register=till, cashier=bea, cart=Cart([CartLine(product.pk, 2)]))
    from pos.models import MobileMoneyRequest

    momo = MobileMoneyRequest.objects.create(
        shift=shift, amount=Decimal(3500), phone="+250788123456", created_by=bea
    )
    account_payment = pay_on_account(
        customer=customer, amount="1000", tender="cash", user=bea, shift=shift
    )[0]
    cash_movement = record_cash_movement(
        shift=shift, kind="paid_in", amount=Decimal(500), reason="Change", user=bea
    )
    closed_shift = close_shift(
        shift=open_shift(register=ended_till, cashier=boss, opening_float=Decimal(0)),
        counted={"cash": Decimal(0)},
        user=boss,
    )
    other = make_user("bertin", "cashier")
    StoreMembership.objects.create(user=other, store=store)
    ended_shift = end_shift(
        shift=open_shift(register=ended_till, cashier=other, opening_float=Decimal(0)),
        counted={"cash": Decimal(0)},
        user=other,
    )
    device = TillDevice.objects.create(key=uuid.uuid4(), register=till, code=1, created_by=bea)
    offline_sale = OfflineSale.objects.create(
        key=uuid.uuid4(),
        device=device,
        number="M1-T1-000001",
        sold_at=sale.created_at,
        synced_by=bea,
        payload={},
        status=OfflineSale.Status.REFUSED,
        reason="Unknown product",
    )
    from fiscal.training_models import TrainingReceipt

    training_receipt = TrainingReceipt.objects.create(
        register=till, shift=shift, cashier=bea, subtotal=3500, tax_total=534, total=3500
    )
    from pos.models import LowStockAlert, StockLevel
    from pos.services.counts import post_stock_count
    from pos.services.purchasing import create_purchase_order

    owner = users["admin"]
    purchase_order = create_purchase_order(
        supplier=shop["supplier"], lines=[(product, 5, 2000)], user=owner, store=store
    )
    count = post_stock_count(counted={product.pk: Decimal(9)}, user=owner, store=store)
    # A transfer from B to a third store (closed): nothing of A's.
    from pos.models import Transfer, TransferLine

    huye = Store.objects.create(name="Huye", code="HYE", branch_id="02", is_active=False)
    transfer = Transfer.objects.create(source=store, destination=huye, created_by=boss)
    transfer_line = TransferLine.objects.create(transfer=transfer, product=product, quantity=1)
    return {
        "transfer": transfer,
        "transfer_line": transfer_line,
        **_store_b_records(store=store, till=till, sale=sale, invoice=credit_sale.invoice),
        **_store_b_fiscal(store=store, sale=sale, author=boss),
        "bea": bea,
        "low_stock": LowStockAlert.objects.create(
            store=store, product=product, stock_on_hand=1, reorder_level=2
        ),
        "movement": movement,
        "purchase_order": purchase_order,
        "count": count,
        "level": StockLevel.objects.get(store=store, product=product),
        "training_receipt": training_receipt,
        "store": store,
        "register": till,
        "shift": shift,
        "ended_shift": ended_shift,
        "closed_shift": closed_shift,
        "sale": sale,
        "invoice": credit_sale.invoice,
        "refund": refund,
        "held": held,
        "momo": momo,
        "account_payment": account_payment,
        "payment": sale.payments.first(),
        "cash_movement": cash_movement,
        "device": device,
        "offline_sale": offline_sale,
    }


def _store_b_records(*, store, till, sale, invoice) -> dict:
    """The journal, messages and ledger rows of store B's sales (and a business-wide closing
    and gift-card message)."""
    from pos.models import (
        BACK_OFFICE_CHAIN,
        ChainHead,
        Closing,
        CustomerMessage,
        GiftCard,
        InvoiceReminder,
        JournalEntry,
        LedgerEntry,
    )

    def message(key, kind, **extra):
        return CustomerMessage.objects.create(
            key=key, kind=kind, channel=key.rsplit("/", 1)[1], address="+250788123456",
            language="en", body="Store test", **extra,
        )  # fmt: skip

    from accounts import audit

    InvoiceReminder.objects.create(invoice=invoice, step=1)
    card = GiftCard.objects.create(code="STORETEST")
    chain = f"register:{till.pk}"
    return {
        "journal_entry": JournalEntry.objects.filter(chain=chain).order_by("seq").last(),
        "chain_head": ChainHead.objects.get(chain=chain),
        "back_office_entry": JournalEntry.objects.filter(chain=BACK_OFFICE_CHAIN).last(),
        "back_office_head": ChainHead.objects.get(chain=BACK_OFFICE_CHAIN),
        "closing": Closing.objects.create(
            seq=1,
            kind="day",
            period_start=sale.business_day,
            period_end=sale.business_day,
            grand_total=0,
            payload="{}",
            prev_hash="0" * 64,
            hash="1" * 64,
        ),  # fmt: skip
        "audit_entry": audit.record(action="store.test", actor=None, target=sale),
        "message": message(f"receipt:{sale.pk}/email", CustomerMessage.Kind.RECEIPT),
        "reminder_message": message(f"reminder:{invoice.pk}:1/sms", CustomerMessage.Kind.REMINDER),
        "card_message": message(f"gift_card:{card.pk}/sms", CustomerMessage.Kind.GIFT_CARD),
        "ledger_entry": LedgerEntry.objects.create(
            kind="points",
            key=f"sale:{sale.pk}/points",
            customer=sale.customer or invoice.customer,
            amount=10,
            sale=sale,
        ),  # fmt: skip
    }


def _store_b_fiscal(*, store, sale, author) -> dict:
    """Store B's fiscal device, the sale it signed (today) and a quote it signed."""
    from django.utils import timezone

    from fiscal.models import Device, OutboxItem, Proforma, Signature

    device = Device.objects.create(store=store, tin="123456789", serial_number="B-1")
    item = OutboxItem.objects.create(
        device=device, kind=OutboxItem.Kind.SALE, sale=sale, invoice_number=1,
        status=OutboxItem.Status.SIGNED, payload={"totAmt": 3500, "totTaxAmt": 533.9},
    )  # fmt: skip
    Signature.objects.create(
        item=item, receipt_type="S", receipt_number=1, total_receipt_number=1, internal_data="x",
        receipt_signature="x", sdc_date=timezone.now(), sdc_id="SDC-B", mrc="MRC-B",
    )  # fmt: skip
    quote = Proforma.objects.create(created_by=author)
    OutboxItem.objects.create(
        device=device, kind=OutboxItem.Kind.PROFORMA, proforma=quote, invoice_number=1
    )
    from pos.models import CustomerMessage

    message = CustomerMessage.objects.create(
        key=f"fiscal:{item.pk}/email", kind=CustomerMessage.Kind.RECEIPT, channel="email",
        address="b@example.rw", language="en", body="Store test",
    )  # fmt: skip
    return {
        "fiscal_device": device,
        "outbox_item": item,
        "proforma": quote,
        "fiscal_message": message,
    }


def fingerprint() -> dict:
    """What a refused request must leave as it was: every row that holds money, stock or a
    shift's state, and the audit log."""
    from accounts.models import AuditLog
    from pos.models import (
        CashMovement,
        HeldSale,
        Invoice,
        OfflineSale,
        Payment,
        Refund,
        Sale,
        Shift,
        StockMovement,
        TillDevice,
    )

    return {
        "sales": list(Sale.objects.order_by("pk").values_list("pk", "status")),
        "refunds": Refund.objects.count(),
        "payments": Payment.objects.count(),
        "cash": CashMovement.objects.count(),
        "held": list(HeldSale.objects.order_by("pk").values_list("pk", flat=True)),
        "shifts": list(Shift.objects.order_by("pk").values_list("pk", "status")),
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "status")),
        "offline": list(OfflineSale.objects.order_by("pk").values_list("pk", "status")),
        "devices": TillDevice.objects.count(),
        "stock": StockMovement.objects.count(),
        "audit": AuditLog.objects.count(),
    }


def _url(route: str, pk: int) -> str:
    return "/" + route.replace("<int:pk>", str(pk)).replace("<id>", str(pk))


def _admin_url(label: str, pk: int) -> str:
    app, model = label.split(".")
    return f"/admin/{app}/{model}/{pk}/change/"


# A valid body where the API reads it before it looks the object up (else a 400 would hide
# whether the object was found).
BODIES = {
    "api/v1/held-sales/<int:pk>/resume/": lambda shop: {"register": shop["register"].pk},
    "api/v1/invoices/<int:pk>/payments/": lambda shop: {"amount": "1000", "tender": "cash"},
    "api/v1/shifts/<int:pk>/close/": lambda shop: {"counted": {"cash": "0"}},
    "api/v1/sales/<int:pk>/void/": lambda shop: {"reason": "Store test"},
    "api/v1/sales/<int:pk>/refund/": lambda shop: {
        "lines": [{"sale_line": shop["sale"].lines.get().pk, "quantity": 1}],
        "reason": "Store test",
    },
    "api/v1/invoices/<int:pk>/cancel/": lambda shop: {"reason": "Store test"},
}


def _send(client, method, url, body=None):
    if method in ("post", "patch") and url.startswith("/api/"):
        return client.generic(method.upper(), url, json.dumps(body or {}), "application/json")
    return getattr(client, method)(url)


def _admin_refused(response) -> bool:
    """The admin answers a row it does not show by sending back to its index (staff), or to
    its sign-in page (anyone else)."""
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and urlsplit(response["Location"]).path in (
        "/admin/",
        "/admin/login/",
    )


def _methods(access: Access) -> list[str]:
    return [f.name for f in fields(Access) if getattr(access, f.name)]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["cashier", "manager"])
def test_staff_of_store_a_reach_nothing_of_store_b(who, shop, store_b):
    client = Client()
    client.force_login(shop["users"][who])
    before = fingerprint()
    wrong = []
    for route, key in sorted(STORE_ROUTES.items()):
        url = _url(route, store_b[key].pk)
        for method in _methods(ROUTES[route]):
            body = BODIES[route](shop) if route in BODIES else None
            response = _send(client, method, url, body)
            result = outcome(response)
            if result != "refused":
                wrong.append(f"{method.upper()} {url}: {response.status_code} ({result})")
    for label, key in [*ADMIN_ROWS.items(), *ADMIN_ROWS_OF_EVERY_STORE.items()]:
        url = _admin_url(label, store_b[key].pk)
        response = client.get(url)
        if not _admin_refused(response):
            wrong.append(f"GET {url}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["cashier", "manager"])
def test_lists_of_store_a_staff_leave_out_store_b(who, shop, store_b):
    client = Client()
    client.force_login(shop["users"][who])
    sale, till = store_b["sale"], store_b["register"]
    api = {
        "/api/v1/registers/": till.pk,
        "/api/v1/shifts/": store_b["shift"].pk,
        "/api/v1/sales/": sale.pk,
        "/api/v1/held-sales/": store_b["held"].pk,
        "/api/v1/invoices/": store_b["invoice"].pk,
    }
    for url, pk in api.items():
        body = client.get(url).json()
        rows = body["results"] if isinstance(body, dict) else body
        assert pk not in {row["id"] for row in rows}, url
    # The catalogue is the business's; each store's stock on it is its own staff's.
    store_b_code = store_b["store"].code
    product_url = f"/api/v1/products/{shop['product'].pk}/"
    assert store_b_code not in {
        row["store_code"] for row in client.get(product_url).json()["stock"]
    }
    low = client.get("/api/v1/products/", {"low_stock": "1", "store": store_b["store"].pk}).json()
    assert shop["product"].pk not in {row["id"] for row in low["results"]}
    found = client.get("/register/returns/", {"q": sale.number})
    assert found.status_code == 200
    assert f"/register/sales/{sale.pk}/refund/" not in found.content.decode()
    if who == "manager":
        wrong = []
        for label, key in [*ADMIN_ROWS.items(), *ADMIN_ROWS_OF_EVERY_STORE.items()]:
            page = client.get(_admin_url(label, 0).removesuffix("0/change/"))
            if page.status_code == 403:
                continue  # a list the manager may not see at all
            if _admin_url(label, store_b[key].pk) in page.content.decode():
                wrong.append(label)
        assert not wrong, f"store B's rows listed: {wrong}"
        # What no store owns stays: a gift card's code sent, and the store's own rows.
        page = client.get("/admin/pos/customermessage/").content.decode()
        assert _admin_url("pos.customermessage", store_b["card_message"].pk) in page
        for key in ("reminder_message", "fiscal_message"):
            assert _admin_url("pos.customermessage", store_b[key].pk) not in page
        from accounts import audit

        product_entry = audit.record(action="store.test", target=shop["product"])
        page = client.get("/admin/accounts/auditlog/").content.decode()
        assert _admin_url("accounts.auditlog", product_entry.pk) in page
        assert "Musanze" not in client.get("/register/offline/tills/").content.decode()
        assert store_b["ended_shift"].register.name not in (
            client.get("/register/shifts/review/").content.decode()
        )


@pytest.mark.django_db
def test_an_owner_reaches_store_b(shop, store_b):
    client = Client()
    client.force_login(shop["users"]["admin"])
    stock = client.get(f"/api/v1/products/{shop['product'].pk}/").json()["stock"]
    assert store_b["store"].code in {row["store_code"] for row in stock}
    wrong = []
    for route, key in sorted(STORE_ROUTES.items()):
        url = _url(route, store_b[key].pk)
        access = ROUTES[route]
        for method in _methods(access):
            if ADMIN not in getattr(access, method) or method != "get":
                continue  # the writes are tried by the services' own tests
            if route in OWNER_CANNOT_SEE:
                continue
            response = client.get(url)
            if outcome(response) != "reached":
                wrong.append(f"GET {url}: {response.status_code}")
    for label, key in [*ADMIN_ROWS.items(), *ADMIN_ROWS_OF_EVERY_STORE.items()]:
        url = _admin_url(label, store_b[key].pk)
        if client.get(url).status_code != 200:
            wrong.append(f"GET {url}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_the_till_picker_offers_the_tills_of_ones_stores_and_a_forged_one_is_refused(
    shop, store_b, make_user
):
    from pos.models import Register, Shift, Store, StoreMembership
    from pos.models.stores import default_store_pk

    fresh = make_user("claude", "cashier")
    StoreMembership.objects.create(user=fresh, store=Store.objects.get(pk=default_store_pk()))
    free_a = Register.objects.create(code="R9", name="Till 9")
    free_b = Register.objects.create(code="M9", name="Musanze 9", store=store_b["store"])
    client = Client()
    client.force_login(fresh)
    page = client.get("/register/open/").content.decode()
    assert free_a.name in page
    assert free_b.name not in page
    shifts = Shift.objects.count()
    forged = client.post("/register/open/", {"register": free_b.pk, "opening_float": "0"})
    assert forged.status_code == 403
    assert "another store" in forged.content.decode()
    api = client.post(
        "/api/v1/shifts/",
        {"register": free_b.pk, "opening_float": "0"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert "another store" in api.content.decode()
    assert Shift.objects.count() == shifts
    held = client.post(
        "/api/v1/held-sales/",
        {"register": free_b.pk, "lines": [{"product": shop["product"].pk, "quantity": 1}]},
        content_type="application/json",
    )
    assert held.status_code == 403
    ok = client.post("/register/open/", {"register": free_a.pk, "opening_float": "0"})
    assert ok.status_code == 302
    assert Shift.objects.get(cashier=fresh).register == free_a


REPORTS = (
    "/reports/",
    "/reports/sales/",
    "/reports/profit/",
    "/reports/inventory/",
    "/reports/shifts/",
    "/reports/customers/",
    "/reports/suspicious/",
    "/reports/mobile-money/",
    "/api/v1/reports/dashboard/",
    "/api/v1/reports/sales/",
    "/api/v1/reports/profit/",
    "/api/v1/reports/inventory/",
    "/api/v1/reports/shifts/",
    "/api/v1/reports/customers/",
)


@pytest.mark.django_db
def test_a_manager_of_store_a_reports_on_a_only_and_asking_for_b_is_a_form_error(shop, store_b):
    """Every report takes a store: a manager of A is offered A alone; B, forged, is a form error
    (400, the picker's field named), never B's figures; unasked, the figures are A's. The owner
    is offered both and "All stores"."""
    b = store_b["store"]
    client = Client()
    client.force_login(shop["users"]["manager"])
    for url in REPORTS:
        refused = client.get(url, {"store": b.pk})
        assert refused.status_code == 400, url
        if url.startswith("/api/"):
            assert "store" in refused.json()["error"]["fields"], url
        else:
            assert "Select a valid choice" in refused.content.decode(), url
        assert client.get(url).status_code == 200, url
    page = client.get("/reports/sales/").content.decode()
    assert "Musanze" not in page
    assert "All stores" not in page
    mine = client.get("/api/v1/reports/sales/").json()
    owner = Client()
    owner.force_login(shop["users"]["admin"])
    offered = owner.get("/reports/sales/").content.decode()
    assert "All stores" in offered and f'value="{b.pk}">Musanze' in offered
    from pos.models.stores import default_store_pk

    store_a = b.__class__.objects.get(pk=default_store_pk())
    assert mine == owner.get("/api/v1/reports/sales/", {"store": store_a.pk}).json()
    assert mine != owner.get("/api/v1/reports/sales/").json()  # B sold: all stores differ
    assert owner.get("/api/v1/reports/sales/", {"store": b.pk}).status_code == 200
    # Store B's closed shift, asked for by number on the Mobile Money page: not found.
    momo = client.get("/reports/mobile-money/", {"shift": store_b["closed_shift"].pk})
    assert momo.status_code == 404
    assert "No shift of your stores has this number." in momo.content.decode()


@pytest.mark.django_db
def test_a_cashier_of_store_b_cannot_join_a_shared_till_of_store_a(shop, store_b, make_user):
    from core.errors import PermissionDenied
    from pos.models import ShiftCashier, StoreMembership
    from pos.services.shifts import join_shift

    bella = make_user("bella", "cashier")
    StoreMembership.objects.create(user=bella, store=store_b["store"])
    with pytest.raises(PermissionDenied, match="another store"):
        join_shift(shift=shop["shift"], cashier=bella)
    assert not ShiftCashier.objects.filter(cashier=bella).exists()


@pytest.mark.django_db
def test_the_stock_forms_offer_only_ones_stores(shop, store_b):
    """A manager of store A adjusts and counts store A's stock only: store B is not offered, a
    forged choice of it is a form error and moves nothing, and a form left without a store moves
    A's."""
    from pos.models import StockLevel

    store_a = (
        store_b["register"]
        .store.__class__.objects.exclude(pk=store_b["store"].pk)
        .get(is_active=True)
    )
    product = shop["product"]
    client = Client()
    client.force_login(shop["users"]["manager"])
    url = f"/admin/pos/product/{product.pk}/adjust-stock/"
    page = client.get(url).content.decode()
    assert f'value="{store_a.pk}"' in page
    assert f'value="{store_b["store"].pk}"' not in page
    b_before = StockLevel.objects.get(store=store_b["store"], product=product).on_hand
    before = fingerprint()
    forged = client.post(
        url, {"store": store_b["store"].pk, "kind": "damage", "quantity": "-1", "reason": "x"}
    )
    assert forged.status_code == 200
    assert "Select a valid choice" in forged.content.decode()
    assert fingerprint() == before
    count = client.get("/admin/pos/product/stock-count/", {"store": store_b["store"].pk})
    assert count.status_code == 200
    assert "Musanze" not in count.content.decode()
    assert StockLevel.objects.get(store=store_b["store"], product=product).on_hand == b_before


@pytest.mark.django_db
def test_a_transfer_from_b_to_a_is_seen_and_received_by_a_but_sent_by_b_only(shop, store_b):
    """A transfer concerns two stores: the staff of either see it; the source's manager sends
    (and cancels) it, the destination's receives it; a transfer of neither store is not there."""
    from pos.models import StockLevel, Store, Transfer
    from pos.services.transfers import create_transfer

    store_a = Store.objects.exclude(pk=store_b["store"].pk).filter(is_active=True).get()
    product = shop["product"]
    boss = store_b["transfer"].created_by  # Bosco, B's manager
    transfer = create_transfer(
        source=store_b["store"], destination=store_a, lines=[(product, 3)], user=boss
    )
    eric = Client()
    eric.force_login(shop["users"]["manager"])  # A's manager
    listed = eric.get("/admin/pos/transfer/").content.decode()
    assert f"/admin/pos/transfer/{transfer.pk}/change/" in listed
    assert f"/admin/pos/transfer/{store_b['transfer'].pk}/change/" not in listed
    before = fingerprint()
    assert eric.get(f"/admin/pos/transfer/{transfer.pk}/send/").status_code == 403
    assert eric.post(f"/admin/pos/transfer/{transfer.pk}/send/").status_code == 403
    eric.post(
        "/admin/pos/transfer/",
        {"action": "send", "_selected_action": [transfer.pk]},
    )  # the list's action: refused by the service, with a message
    assert fingerprint() == before
    assert Transfer.objects.get(pk=transfer.pk).status == "draft"
    bosco = Client()
    bosco.force_login(boss)
    assert bosco.post(f"/admin/pos/transfer/{transfer.pk}/send/").status_code == 302
    line = transfer.lines.get()
    assert bosco.get(f"/admin/pos/transfer/{transfer.pk}/receive/").status_code == 403
    received = eric.post(
        f"/admin/pos/transfer/{transfer.pk}/receive/", {f"line_{line.pk}": "3", "reason": ""}
    )
    assert received.status_code == 302
    assert Transfer.objects.get(pk=transfer.pk).status == "received"
    level_a = StockLevel.objects.get(store=store_a, product=product).on_hand
    assert level_a == 50 - 3 + 3  # the fixture's sales and refunds in A: 3 sold, none back


@pytest.mark.django_db
def test_the_transfer_form_offers_ones_own_stores_as_the_source(shop, store_b):
    from pos.models import Transfer

    product = shop["product"]
    client = Client()
    client.force_login(shop["users"]["manager"])
    transfers = Transfer.objects.count()
    page = client.get("/admin/pos/transfer/add/").content.decode()
    source = page.split('name="source"')[1].split("</select>")[0]
    destination = page.split('name="destination"')[1].split("</select>")[0]
    assert f'value="{store_b["store"].pk}"' not in source
    assert f'value="{store_b["store"].pk}"' in destination
    forged = client.post(
        "/admin/pos/transfer/add/",
        {
            "source": store_b["store"].pk,
            "destination": store_b["register"].store.__class__.objects.first().pk,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": product.pk,
            "lines-0-quantity": "1",
        },
    )
    assert forged.status_code == 200
    assert "Select a valid choice" in forged.content.decode()
    assert Transfer.objects.count() == transfers


# --- Every model, admin page and API view through the scope -------------------------------------

# Store-bearing models the scope does not name, reached only through a parent it does.
THROUGH_THEIR_PARENT = {
    "pos.saleline": "a sale's lines, shown on the sale's pages",
    "pos.refundline": "a refund's lines, shown on the refund's pages",
    "pos.shiftcashier": "who joined a shared till, on the shift's pages",
    "pos.invoicereminder": "an invoice's reminders, on the invoice's pages",
    "fiscal.proformaline": "a quote's lines, on the quote's pages",
}


def test_every_admin_model_says_whose_rows_it_holds():
    """A model added to the admin fails here until it is tried with store B's row (ADMIN_ROWS:
    its model in the scope) or said to be the business's (BUSINESS_WIDE_MODELS)."""
    from django.contrib import admin

    from pos import scoping

    models = {model._meta.label_lower: model for model in admin.site._registry}
    unsaid = sorted(models.keys() - ADMIN_ROWS.keys() - BUSINESS_WIDE_MODELS.keys())
    assert not unsaid, f"Say whose rows these admin models hold: {unsaid}"
    assert not (ADMIN_ROWS.keys() | BUSINESS_WIDE_MODELS.keys()) - models.keys()
    assert [label for label in ADMIN_ROWS if not scoping.is_scoped(models[label])] == []
    assert [label for label in BUSINESS_WIDE_MODELS if scoping.is_scoped(models[label])] == []


def test_every_model_pointing_at_a_stores_row_is_in_the_scope():
    """A new model with a key to a store-bearing row (a till, a sale, a device...) fails here
    until pos.scoping names its way to the store, or it is said to be reached only through its
    parent."""
    from django.apps import apps

    from pos import scoping

    store_bearing = set(scoping.STORE_PATHS) | set(scoping.STORE_SCOPES)
    store_bearing.discard("accounts.user")  # staff: a key to a user names no store
    unscoped = sorted(
        model._meta.label_lower
        for model in apps.get_models()
        if not scoping.is_scoped(model)
        and model._meta.label_lower not in THROUGH_THEIR_PARENT
        and any(
            field.related_model._meta.label_lower in store_bearing
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is not None
        )
    )
    assert not unscoped, f"Add these to pos.scoping.STORE_PATHS (or STORE_SCOPES): {unscoped}"


def test_every_api_view_set_goes_through_the_scope():
    """Every view set of the API narrows its rows (lists and lookups) by pos.scoping, through
    ApiMixin.filter_queryset, which none overrides."""
    from pos.api.urls import router
    from pos.api.views import ApiMixin

    outside = [
        prefix for prefix, viewset, _name in router.registry if not issubclass(viewset, ApiMixin)
    ]
    assert not outside, outside
    overriding = [
        prefix
        for prefix, viewset, _name in router.registry
        if viewset.filter_queryset is not ApiMixin.filter_queryset
    ]
    assert not overriding, overriding


# --- Fiscal, the journal, staff ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_fiscal_day_reports_count_the_devices_of_ones_stores(shop, store_b):
    """Store B's device signed a sale today: the owner's X report counts it, the manager of
    store A's does not."""
    manager, owner = Client(), Client()
    manager.force_login(shop["users"]["manager"])
    owner.force_login(shop["users"]["admin"])
    for kind in ("x", "plu"):
        assert owner.get(f"/fiscal/reports/{kind}/").context["report"].counts["NS"] == 1
        assert manager.get(f"/fiscal/reports/{kind}/").context["report"].counts["NS"] == 0


@pytest.mark.django_db
def test_a_managers_own_quote_stays_theirs_whichever_device_signs_it(shop, store_b):
    from fiscal.models import Proforma

    eric = shop["users"]["manager"]
    Proforma.objects.filter(pk=store_b["proforma"].pk).update(created_by=eric)
    client = Client()
    client.force_login(eric)
    assert client.get(f"/fiscal/proformas/{store_b['proforma'].pk}/").status_code == 200


@pytest.mark.django_db
def test_the_back_office_journal_is_for_those_who_see_every_store(shop):
    """In a one-store shop the manager sees the back office's chain (stock adjusted, counted,
    received) and its integrity check; once a second store opens, only owners and admins do
    (its entries name no store)."""
    from pos.models import BACK_OFFICE_CHAIN, JournalEntry, Store

    entry = JournalEntry.objects.filter(chain=BACK_OFFICE_CHAIN).first()
    client = Client()
    client.force_login(shop["users"]["manager"])
    url = _admin_url("pos.journalentry", entry.pk)
    assert client.get(url).status_code == 200
    assert client.get("/admin/pos/journalentry/integrity/").status_code == 200
    Store.objects.create(name="Musanze", code="MUS", branch_id="01")
    assert _admin_refused(client.get(url))
    assert client.get("/admin/pos/journalentry/integrity/").status_code == 403


@pytest.mark.django_db
def test_a_manager_manages_the_staff_of_their_stores_only(shop, store_b):
    """Store A's manager lists Grace (store A), not Bea (store B) nor the admin; cannot open,
    reset or give an API token to Bea."""
    from rest_framework.authtoken.models import Token

    client = Client()
    client.force_login(shop["users"]["manager"])
    bea, grace = store_b["bea"], shop["users"]["cashier"]
    page = client.get("/admin/accounts/user/").content.decode()
    assert _admin_url("accounts.user", grace.pk) in page
    assert _admin_url("accounts.user", bea.pk) not in page
    assert _admin_url("accounts.user", shop["users"]["admin"].pk) not in page
    before = bea.password
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_temporary_password", "_selected_action": [bea.pk]},
    )
    assert response.status_code in (200, 302)
    bea.refresh_from_db()
    assert bea.password == before
    form = client.get("/admin/authtoken/tokenproxy/add/").context["adminform"].form
    offered = set(form.fields["user"].queryset.values_list("pk", flat=True))
    assert grace.pk in offered
    assert bea.pk not in offered
    forged = client.post("/admin/authtoken/tokenproxy/add/", {"user": bea.pk})
    assert forged.status_code == 200  # the form again, with its error
    assert not Token.objects.filter(user=bea).exists()


@pytest.mark.django_db
def test_nobody_leaves_a_store_while_working_a_shift_open_there(shop, store_b, make_user):
    """Grace, of stores A and B, works the open shift of till 1 (store A): the owner cannot take
    her out of store A, on her page or on the store's (a field error, nothing written); once
    the shift is closed, they can. (Taken out of her only store she would still work in the
    first store, A: that is allowed.)"""
    from accounts.models import AuditLog
    from pos.models import Shift, Store, StoreMembership
    from pos.services.shifts import close_shift
    from pos.services.stores import ShiftStillOpen, set_staff_stores

    owner, grace = shop["users"]["admin"], shop["users"]["cashier"]
    store_a = Store.objects.exclude(pk=store_b["store"].pk).filter(is_active=True).get()
    StoreMembership.objects.create(user=grace, store=store_b["store"])
    both = {store_a.pk, store_b["store"].pk}
    client = Client()
    client.force_login(owner)
    audit = AuditLog.objects.count()
    url = f"/admin/accounts/user/{grace.pk}/change/"
    data = {
        "username": grace.username,
        "first_name": grace.first_name,
        "last_name": "",
        "email": "",
        "role": "cashier",
        "is_active": "on",
        "stores": [store_b["store"].pk],
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "close it first" in response.content.decode()
    store_page = client.post(
        f"/admin/pos/store/{store_a.pk}/change/",
        {
            "name": store_a.name,
            "code": store_a.code,
            "branch_id": store_a.branch_id,
            "is_active": "on",
            "staff": [shop["users"]["manager"].pk],
        },
    )
    assert store_page.status_code == 200
    assert "close it first" in store_page.content.decode()
    with pytest.raises(ShiftStillOpen):
        set_staff_stores(actor=owner, user=grace, stores=[store_b["store"]])
    assert set(StoreMembership.objects.filter(user=grace).values_list("store", flat=True)) == both
    assert AuditLog.objects.count() == audit

    close_shift(
        shift=Shift.objects.get(cashier=grace, status="open"),
        counted={"cash": Decimal(0)},
        user=owner,
    )
    assert client.post(url, data).status_code == 302
    assert list(StoreMembership.objects.filter(user=grace).values_list("store", flat=True)) == [
        store_b["store"].pk
    ]


@pytest.mark.django_db
def test_one_assigns_staff_only_in_the_stores_one_works_in(shop, store_b):
    """A manager of store A given the right to assign staff cannot put anyone in store B or take
    anyone out of it."""
    from django.contrib.auth.models import Permission

    from core.errors import PermissionDenied
    from pos.services.stores import set_staff_stores, set_store_staff

    eric = shop["users"]["manager"]
    eric.user_permissions.add(Permission.objects.get(codename="change_storemembership"))
    eric = type(eric).objects.get(pk=eric.pk)
    grace = shop["users"]["cashier"]
    with pytest.raises(PermissionDenied, match="do not work in"):
        set_staff_stores(actor=eric, user=grace, stores=[store_b["store"]])
    with pytest.raises(PermissionDenied, match="do not work in"):
        set_store_staff(actor=eric, store=store_b["store"], users=[])
    assert store_b["bea"].store_memberships.get().store == store_b["store"]


@pytest.mark.django_db
def test_a_cashier_added_by_a_manager_of_store_b_works_in_store_b(shop, store_b):
    """Added by store B's manager, a new cashier works in store B (not the first store, A), and
    stays on the manager's staff list."""
    from accounts.models import User
    from pos import scoping

    bosco = User.objects.get(username="bosco")
    client = Client()
    client.force_login(bosco)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "first_name": "New",
            "last_name": "",
            "email": "",
            "role": "cashier",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    newbie = User.objects.get(username="newbie")
    assert scoping.store_ids(newbie) == {store_b["store"].pk}
    assert client.get(_admin_url("accounts.user", newbie.pk)).status_code == 200
