"""What issue 25 left: a sale's, refund's and void's own stock reported after its receipt
(saveStockItems, then saveStockMaster), a void sent as an R receipt, the buyer's TIN and
purchase code, and several devices, one per till, each with its own gap-free counter."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from fiscal import device as devices
from fiscal import sending
from fiscal.models import Device, OutboxItem, Till
from pos.models import Register, Sale, ShopSettings, StoreMembership
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.shifts import open_shift
from pos.services.voids import void_sale
from tests.api.test_selling import post_sale
from tests.support.fixtures import branch_store, first_store

pytestmark = pytest.mark.django_db


def _sales_body(vsdc, number, branch="00"):
    return next(
        r.body
        for r in vsdc.received_for("sales")
        if r.body["invcNo"] == number and r.body["bhfId"] == branch
    )


def test_a_sales_stock_out_follows_its_signed_receipt(fiscal_device, vsdc, sell, goods):
    sell((goods, 3))
    assert list(OutboxItem.objects.exclude(status="signed").values_list("kind", flat=True)) == [
        "sale"
    ]  # checkout wrote the receipt only: its stock is queued once it is signed
    assert sending.drain() == {"signed": 1, "reported": 2, "stopped": 0, "retry": 0}
    endpoints = [
        r.endpoint for r in vsdc.received if r.endpoint in ("sales", "stock", "stock_master")
    ]
    assert endpoints[-3:] == ["sales", "stock", "stock_master"]
    stock = vsdc.received_for("stock")[-1].body
    assert stock["sarTyCd"] == "11"  # out: sale
    assert [(i["itemCd"], i["qty"]) for i in stock["itemList"]] == [
        (goods.fiscal_item.item_code, 3)
    ]
    assert vsdc.stock_levels == {goods.fiscal_item.item_code: 7}  # 10 - 3


def test_a_receipt_signed_twice_over_queues_its_stock_once(fiscal_device, vsdc, sell, goods):
    sale = sell((goods, 1))
    item = OutboxItem.objects.get(sale=sale)
    sending.send_one(item, fiscal_device, None)
    item.refresh_from_db()
    sending._store_signature(item, vsdc.signed[1], "S")  # a late second answer: kept once
    assert OutboxItem.objects.filter(kind="stock", stock_type_code="11").count() == 1


def test_a_refund_reports_its_stock_back_in(fiscal_device, vsdc, sell, goods, refund_one):
    sale = sell((goods, 2))
    refund_one(sale, reason="Wrong size", reason_code="09")
    sending.drain()
    assert [r.body["sarTyCd"] for r in vsdc.received_for("stock")][-2:] == ["11", "03"]
    assert vsdc.stock_levels[goods.fiscal_item.item_code] == 9


def test_a_void_of_a_signed_sale_goes_as_an_R_receipt_for_the_whole_sale(
    fiscal_device, vsdc, sell, goods, manager
):
    sale = sell((goods, 2))
    sending.drain()
    void_sale(sale=sale, user=manager, reason="Rang up twice")
    void = OutboxItem.objects.get(kind="void")
    assert (void.sale_id, void.invoice_number, void.refund_reason_code) == (sale.pk, 2, "12")
    assert sending.drain()["signed"] == 1
    body = _sales_body(vsdc, 2)
    sold = _sales_body(vsdc, 1)
    assert {k: body[k] for k in ("rcptTyCd", "orgInvcNo", "rfdRsnCd", "pmtTyCd")} == {
        "rcptTyCd": "R",
        "orgInvcNo": 1,
        "rfdRsnCd": "12",  # cancelled sale
        "pmtTyCd": "01",
    }
    assert body["itemList"] == sold["itemList"] and body["totAmt"] == sold["totAmt"]
    assert body["regrId"] == manager.username
    assert vsdc.counters == {"S": 1, "R": 1}
    assert vsdc.received_for("stock")[-1].body["sarTyCd"] == "03"  # the stock came back
    assert vsdc.stock_levels[goods.fiscal_item.item_code] == 10


def test_a_void_of_a_pending_sale_follows_it_in_order(fiscal_device, vsdc, sell, goods, manager):
    sale = sell((goods, 1))
    void_sale(sale=sale, user=manager, reason="Mistake")
    sending.drain()
    assert vsdc.sales_in_order == [1, 2]
    assert [_sales_body(vsdc, n)["rcptTyCd"] for n in (1, 2)] == ["S", "R"]


def test_a_void_of_a_sale_never_queued_sends_nothing(vsdc, sell, product, manager):
    sale = sell((product, 1))  # no device yet
    devices.sync_codes(
        devices.initialise_device(store=first_store(), tin=vsdc.tin, serial_number="LATE-0001")
    )
    void_sale(sale=sale, user=manager, reason="Mistake")
    assert not OutboxItem.objects.filter(kind__in=["sale", "void"]).exists()


def test_the_buyers_tin_and_purchase_code_go_to_rra_and_on_the_receipt(
    fiscal_device, vsdc, as_cashier, shift, goods, client
):
    body = {
        "lines": [{"product": goods.pk, "quantity": 1}],
        "tenders": [{"tender": "cash", "amount": "100000"}],
        "buyer_tin": "101234567",
        "purchase_code": "480312",
    }
    response = post_sale(as_cashier, body)
    assert response.status_code == 201, response.json()
    assert (response.json()["buyer_tin"], response.json()["purchase_code"]) == (
        "101234567",
        "480312",
    )
    sending.drain()
    sent = _sales_body(vsdc, 1)
    assert (sent["custTin"], sent["prcOrdCd"], sent["receipt"]["custTin"]) == (
        "101234567",
        "480312",
        "101234567",
    )
    client.force_login(Sale.objects.get(pk=response.json()["id"]).cashier)
    page = client.get(reverse("pos:receipt", args=[response.json()["id"]])).content.decode()
    assert "data-buyer-tin>101234567<" in page and "data-purchase-code>480312<" in page


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"buyer_tin": "12345"}, "buyer_tin"),
        ({"buyer_tin": "101234567", "purchase_code": "48-03"}, "purchase_code"),
        ({"purchase_code": "480312"}, "buyer_tin"),
    ],
)
def test_a_bad_buyer_tin_or_purchase_code_is_refused_and_nothing_written(
    fiscal_device, as_cashier, shift, goods, extra, field
):
    body = {
        "lines": [{"product": goods.pk, "quantity": 1}],
        "tenders": [{"tender": "cash", "amount": "100000"}],
        **extra,
    }
    response = post_sale(as_cashier, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not OutboxItem.objects.filter(kind="sale").exists()


def _till_on_device(n: int, device, make_user):
    register = Register.objects.create(  # in the device's store (unassigned: the first)
        code=f"B{n}", name=f"Branch till {n}", **({"store": device.store} if device else {})
    )
    if device is not None:
        Till.objects.create(register=register, device=device)
    cashier = make_user(username=f"branch{n}", role="cashier")
    StoreMembership.objects.create(user=cashier, store=register.store)  # works at that store
    return open_shift(register=register, cashier=cashier, opening_float=Decimal(0)), cashier


def _sell_at(till, product):
    shift, cashier = till
    return checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(product.pk, 1)]),
        tenders=[TenderLine("cash", Decimal(100000))],
        idempotency_key=uuid.uuid4(),
    )


def test_two_tills_on_two_devices_keep_separate_gap_free_counters(
    fiscal_device, vsdc, goods, make_user, shift, cashier, manager
):
    second = devices.initialise_device(
        store=branch_store("01"), tin=vsdc.tin, serial_number="VSDC-0002"
    )
    shop = ShopSettings.load()  # stock is per store: branch 01 sells goods it does not hold
    shop.allow_negative_stock = True
    shop.save()
    one = _till_on_device(1, fiscal_device, make_user)
    two = _till_on_device(2, second, make_user)
    StoreMembership.objects.create(user=manager, store=second.store)  # voids at branch 01 too
    unassigned = _till_on_device(3, None, make_user)  # the main device's
    sales = [
        _sell_at(one, goods),
        _sell_at(two, goods),
        _sell_at(two, goods),
        _sell_at(unassigned, goods),
        _sell_at(one, goods),
    ]
    numbers = {
        s.pk: (i.device_id, i.invoice_number)
        for s in sales
        for i in OutboxItem.objects.filter(sale=s, kind="sale")
    }
    a, b = fiscal_device.pk, second.pk
    assert [numbers[s.pk] for s in sales] == [(a, 1), (b, 1), (b, 2), (a, 2), (a, 3)]
    void_sale(sale=sales[2], user=manager, reason="Mistake")  # the void: the sale's device
    assert OutboxItem.objects.get(kind="void").device_id == b
    assert list(Device.objects.order_by("pk").values_list("last_invoice_number", flat=True)) == [
        3,
        3,
    ]
    sending.drain()
    assert vsdc.branch("00").sales_in_order == [1, 2, 3]
    assert vsdc.branch("01").sales_in_order == [1, 2, 3]
    assert vsdc.branch("01").counters == {"S": 2, "R": 1}
    assert _sales_body(vsdc, 3, branch="01")["orgInvcNo"] == 2


def test_a_manager_assigns_a_till_to_a_device_in_the_admin(fiscal_device, admin_client, register):
    url = reverse("admin:fiscal_device_change", args=[fiscal_device.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "Tills on this device" in page.content.decode()
    form = {
        "tills-TOTAL_FORMS": "1",
        "tills-INITIAL_FORMS": "0",
        "tills-MIN_NUM_FORMS": "0",
        "tills-MAX_NUM_FORMS": "1000",
        "tills-0-register": str(register.pk),
        "tills-0-device": str(fiscal_device.pk),
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Till.objects.get().register == register


def test_a_refund_of_a_sale_signed_by_a_retired_device_goes_to_its_successor(
    fiscal_device, vsdc, sell, goods, refund_one
):
    sale = sell((goods, 1))
    sending.drain()
    successor = devices.initialise_device(
        store=first_store(), tin=vsdc.tin, serial_number="VSDC-REPLACEMENT"
    )  # the same branch: the old device is deactivated
    refund = refund_one(sale)
    item = OutboxItem.objects.get(refund=refund)
    assert (item.device_id, item.invoice_number) == (successor.pk, 2)
