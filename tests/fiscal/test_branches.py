"""Fiscal per branch (issues 25 and 29): each store's tills sign through the store's own device
with its branch id (bhfId) and counters, items are registered with every branch's device
through its own outbox, stock is reported by the store whose stock moved; and a refund's
ESC/POS slip prints a minus before every amount."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fiscal import device as devices
from fiscal import sending
from fiscal.models import ItemRegistration, OutboxItem, Till
from pos.models import Register
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.shifts import open_shift
from tests.support.fake_printer import fake_printer  # noqa: F401
from tests.support.fixtures import branch_store

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def selling_below_zero():
    """Stock is per store (issue 29) and `goods` are stocked in the first store only; these tests
    are about signing, so branch B may sell what it does not hold."""
    from pos.models import ShopSettings

    shop = ShopSettings.load()
    shop.allow_negative_stock = True
    shop.save()


@pytest.fixture
def branch_b(fiscal_device, vsdc):
    """A second store, branch 01, with its own device (the first store's is `fiscal_device`,
    branch 00)."""
    store = branch_store("01", code="HUYE")
    device = devices.initialise_device(store=store, tin=vsdc.tin, serial_number="VSDC-HUYE")
    return store, device


def _till(store, code, make_user):
    from pos.models import StoreMembership

    register = Register.objects.create(code=code, name=f"Till {code}", store=store)
    cashier = make_user(username=f"cashier-{code.lower()}", role="cashier")
    StoreMembership.objects.create(user=cashier, store=store)  # staff per store: works there
    return open_shift(register=register, cashier=cashier, opening_float=Decimal(0)), cashier


def _sell(till, product, qty=1):
    shift, cashier = till
    return checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(product.pk, qty)]),
        tenders=[TenderLine("cash", Decimal(100000))],
        idempotency_key=uuid.uuid4(),
    )


def _sales(vsdc, branch):
    return [r.body for r in vsdc.received_for("sales") if r.body["bhfId"] == branch]


def test_each_stores_sales_are_signed_by_its_own_device_with_its_branch_id(
    fiscal_device, branch_b, vsdc, goods, make_user
):
    store_b, device_b = branch_b
    main_till = _till(fiscal_device.store, "K1", make_user)
    huye_till = _till(store_b, "H1", make_user)
    sold = [_sell(main_till, goods), _sell(huye_till, goods), _sell(huye_till, goods)]
    queued = [OutboxItem.objects.get(sale=sale, kind="sale") for sale in sold]
    assert [(i.device_id, i.invoice_number) for i in queued] == [
        (fiscal_device.pk, 1),
        (device_b.pk, 1),
        (device_b.pk, 2),
    ]
    sending.drain()
    assert [b["invcNo"] for b in _sales(vsdc, "00")] == [1]
    assert [b["invcNo"] for b in _sales(vsdc, "01")] == [1, 2]
    assert vsdc.branch("00").counters == {"S": 1, "R": 0}
    assert vsdc.branch("01").counters == {"S": 2, "R": 0}  # its own counters
    assert {b["tin"] for b in _sales(vsdc, "01")} == {vsdc.tin}
    huye = sold[1].fiscal_items.get().signature
    assert (huye.receipt_number, huye.total_receipt_number) == (1, 1)
    # Each sale's own stock-out is reported by the device that signed it.
    assert [r.body["bhfId"] for r in vsdc.received_for("stock")][-3:] == ["00", "01", "01"]


def test_a_product_added_once_is_registered_with_every_branchs_device(
    fiscal_device, branch_b, vsdc, make_product
):
    _store_b, device_b = branch_b
    product = make_product(stock=0)
    assert devices.register_due_items() == {"queued": 2}  # one row in each device's outbox
    rows = OutboxItem.objects.filter(kind="item", item__product=product)
    assert sorted(rows.values_list("device_id", flat=True)) == [fiscal_device.pk, device_b.pk]
    sending.drain()
    code = product.fiscal_item.item_code
    assert code in vsdc.branch("00").items and code in vsdc.branch("01").items
    assert vsdc.branch("01").items[code]["bhfId"] == "01"
    assert set(
        ItemRegistration.objects.filter(registered_at__isnull=False).values_list(
            "device_id", flat=True
        )
    ) == {fiscal_device.pk, device_b.pk}
    assert devices.register_due_items() == {"queued": 0}  # not again while unchanged


def test_a_sale_at_a_branch_that_lacks_the_item_goes_after_its_registration_there(
    fiscal_device, branch_b, vsdc, goods, make_user
):
    store_b, _device_b = branch_b
    code = goods.fiscal_item.item_code
    assert code in vsdc.branch("00").items and code not in vsdc.branch("01").items
    _sell(_till(store_b, "H1", make_user), goods)
    assert sending.drain()["signed"] == 1
    sent = [
        (r.endpoint, r.body.get("itemCd") or r.body.get("invcNo"))
        for r in vsdc.received
        if r.body.get("bhfId") == "01" and r.endpoint in ("items", "sales")
    ]
    assert sent == [("items", code), ("sales", 1)]  # registered there first, then the sale


def test_a_refund_at_branch_b_of_its_sale_goes_through_bs_device(
    fiscal_device, branch_b, vsdc, goods, make_user, manager
):
    store_b, device_b = branch_b
    shift, cashier = till = _till(store_b, "H1", make_user)
    sale = _sell(till, goods, qty=2)
    refund = refund_sale(
        sale=sale,
        shift=shift,
        user=cashier,
        approved_by=manager,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Broken",
        reason_code="10",
    )
    item = OutboxItem.objects.get(refund=refund)
    assert (item.device_id, item.invoice_number) == (device_b.pk, 2)
    sending.drain()
    body = _sales(vsdc, "01")[-1]
    assert (body["rcptTyCd"], body["orgInvcNo"], body["rfdRsnCd"]) == ("R", 1, "10")
    assert vsdc.branch("01").counters == {"S": 1, "R": 1}
    assert vsdc.branch("00").counters == {"S": 0, "R": 0}


def test_a_till_is_assigned_only_a_device_of_its_own_store(
    fiscal_device, branch_b, register, admin_client
):
    _store_b, device_b = branch_b
    with pytest.raises(ValidationError, match="can only sign through a device of that store"):
        Till(register=register, device=device_b).full_clean()
    url = reverse("admin:fiscal_device_change", args=[device_b.pk])
    form = {
        "tills-TOTAL_FORMS": "1",
        "tills-INITIAL_FORMS": "0",
        "tills-MIN_NUM_FORMS": "0",
        "tills-MAX_NUM_FORMS": "1000",
        "tills-0-register": str(register.pk),
        "tills-0-device": str(device_b.pk),
    }
    page = admin_client.post(url, form)
    assert page.status_code == 200  # the form again, with the error
    assert "can only sign through a device of that store" in page.content.decode()
    assert not Till.objects.exists()


def test_needs_attention_names_the_branch(fiscal_device, branch_b, vsdc, goods, admin_client):
    store_b, _device_b = branch_b
    assert devices.register_due_items() == {"queued": 1}  # `goods`, at branch 01 only
    vsdc.queue_result("items", "910", "Request parameter error: itemClsCd")
    assert sending.drain()["stopped"] == 1
    stopped = OutboxItem.objects.get(status="attention")
    assert (stopped.kind, stopped.device.store) == ("item", store_b)
    page = admin_client.get(
        reverse("admin:fiscal_outboxitem_changelist"), {"status__exact": "attention"}
    ).content.decode()
    assert f"{store_b.name} (01)" in page and "Request parameter error" in page


def test_a_refused_item_is_settled_once_its_branch_registers_it(
    fiscal_device, branch_b, vsdc, goods, make_user
):
    store_b, _device_b = branch_b
    devices.register_due_items()
    vsdc.queue_result("items", "910", "Request parameter error: itemClsCd")
    sending.drain()
    _sell(_till(store_b, "H1", make_user), goods)  # its sender registers the item again first
    assert sending.drain()["signed"] == 1
    assert not OutboxItem.objects.filter(status="attention").exists()
    assert goods.fiscal_item.item_code in vsdc.branch("01").items


def test_stock_reports_go_through_the_device_of_the_store_whose_stock_moved(
    fiscal_device, branch_b, vsdc, goods, manager
):
    """A movement naming a store (issue 29's stock per store gives movements their store) is
    reported by that store's device; one naming none, by the main device."""
    from fiscal import outbox
    from pos.services.stock import adjust_stock

    store_b, device_b = branch_b
    moved = adjust_stock(product=goods, quantity=Decimal(-2), reason="Broken", user=manager)
    at_huye = adjust_stock(product=goods, quantity=Decimal(-1), reason="Theft", user=manager)
    at_huye.store_id = store_b.pk  # as a movement of stock per store names its store
    OutboxItem.objects.filter(kind__in=["stock", "stock_master"]).delete()
    outbox.enqueue_stock([moved, at_huye])
    rows = OutboxItem.objects.filter(kind__in=["stock", "stock_master"])
    assert sorted(rows.values_list("kind", "device_id")) == sorted(
        [
            ("stock", fiscal_device.pk),
            ("stock_master", fiscal_device.pk),
            ("stock", device_b.pk),
            ("stock_master", device_b.pk),
        ]
    )
    sending.drain()
    assert [r.body["sarTyCd"] for r in vsdc.received_for("stock") if r.body["bhfId"] == "01"] == [
        "16"
    ]


def test_a_store_whose_tin_is_not_nine_digits_gets_no_device(vsdc):
    store = branch_store("02")
    store.tin = "TIN-OF-HUYE-LTD"
    with pytest.raises(ValueError, match="is not 9 digits"):
        devices.initialise_device(store=store, serial_number="VSDC-X")
    assert vsdc.received_for("init") == []


def test_a_quote_made_at_branch_bs_till_is_signed_by_bs_device(
    fiscal_device, branch_b, vsdc, goods, make_user
):
    from fiscal.proformas import QuoteLine, create_proforma

    store_b, device_b = branch_b
    (shift, cashier) = _till(store_b, "H1", make_user)
    lines = [QuoteLine(goods, Decimal(2))]
    at_b = create_proforma(user=cashier, lines=lines, register_id=shift.register_id)
    in_office = create_proforma(user=cashier, lines=lines)
    by_quote = {i.proforma_id: i for i in OutboxItem.objects.filter(kind="proforma")}
    assert (by_quote[at_b.pk].device_id, by_quote[at_b.pk].invoice_number) == (device_b.pk, 1)
    assert (by_quote[in_office.pk].device_id, by_quote[in_office.pk].invoice_number) == (
        fiscal_device.pk,
        1,
    )
    sending.drain()
    assert sorted(r.body["bhfId"] for r in vsdc.received_for("sales")) == ["00", "01"]
