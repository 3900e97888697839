"""The fiscal outbox: queued in the sale's transaction, drained in order, one request in flight,
signed once whatever fails on the way."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from fiscal import sending
from fiscal.models import Device, OutboxItem, Signature
from fiscal.tasks import send_fiscal_documents
from pos import errors
from pos.models.journal import AppendOnlyError
from pos.services.stock import adjust_stock

pytestmark = pytest.mark.django_db


def test_without_the_backend_a_sale_writes_nothing_fiscal(settings, sell, product):
    settings.FISCAL_BACKEND = "none"
    sell((product, 1))
    assert not OutboxItem.objects.exists()
    assert send_fiscal_documents.enqueue().return_value == {}


def test_each_sale_takes_the_next_invoice_number_in_its_own_transaction(fiscal_device, sell, goods):
    first, second = sell((goods, 1)), sell((goods, 2))
    sales = OutboxItem.objects.filter(kind="sale")
    rows = list(sales.values_list("sale", "invoice_number", "status"))
    assert rows == [(first.pk, 1, "pending"), (second.pk, 2, "pending")]
    assert Device.objects.get().last_invoice_number == 2


def test_a_refused_sale_takes_no_invoice_number(fiscal_device, sell, goods):
    with pytest.raises(errors.InsufficientStock):
        sell((goods, 50))
    sell((goods, 1))
    assert list(
        OutboxItem.objects.filter(kind="sale").values_list("invoice_number", flat=True)
    ) == [1]


def test_without_an_initialised_device_the_sale_is_taken_unsigned(vsdc, sell, product):
    sale = sell((product, 1))
    assert sale.pk and not OutboxItem.objects.exists()  # the product's opening stock neither


def test_the_worker_signs_in_order_and_keeps_the_answer(fiscal_device, vsdc, sell, goods):
    sales = [sell((goods, 1)) for _ in range(3)]
    outcome = send_fiscal_documents.enqueue().return_value
    assert outcome == {"signed": 3, "reported": 6, "stopped": 0, "retry": 0}
    assert vsdc.sales_in_order == [1, 2, 3]
    signature = Signature.objects.get(item__sale=sales[0])
    answer = vsdc.signed[1]
    assert (signature.receipt_number, signature.total_receipt_number) == (1, 1)
    assert signature.internal_data == answer["intrlData"] and len(signature.internal_data) == 26
    assert signature.receipt_signature == answer["rcptSign"] and len(answer["rcptSign"]) == 16
    assert (signature.sdc_id, signature.mrc) == (answer["sdcId"], answer["mrcNo"])


def test_a_signature_is_never_changed_or_deleted(fiscal_device, sell, goods):
    sell((goods, 1))
    sending.drain()
    signature = Signature.objects.get()
    signature.receipt_signature = "FORGED"
    with pytest.raises(AppendOnlyError):
        signature.save()
    with pytest.raises(AppendOnlyError):
        Signature.objects.all().delete()


def test_an_unreachable_vsdc_leaves_the_sale_pending_with_back_off(
    fiscal_device, vsdc, sell, goods
):
    sale = sell((goods, 1))
    vsdc.down = True
    assert sending.drain() == {"signed": 0, "reported": 0, "stopped": 0, "retry": 1}
    item = OutboxItem.objects.get(sale=sale)
    assert item.status == "pending" and item.attempts == 1
    assert item.next_attempt_at > timezone.now()

    vsdc.down = False
    assert sending.drain() == {
        "signed": 0,
        "reported": 0,
        "stopped": 0,
        "retry": 0,
    }  # still backing off
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        assert sending.drain()["signed"] == 1
    assert vsdc.signings == {1: 1}


def test_the_back_off_doubles_up_to_ten_minutes(settings):
    settings.FISCAL_RETRY_BASE_SECONDS = 5
    assert [sending.backoff(n).total_seconds() for n in (1, 2, 3, 4, 12)] == [5, 10, 20, 40, 600]


def test_a_slow_vsdc_times_out_and_the_sale_waits(fiscal_device, vsdc, sell, goods):
    sell((goods, 1))
    vsdc.delay = 1.0  # longer than FISCAL_TIMEOUT_SECONDS
    assert sending.drain()["retry"] == 1
    vsdc.delay = 0
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        sending.drain()
    # The slow answer may have signed it already: the resend then took the VSDC's data (994).
    assert OutboxItem.objects.get(kind="sale").status == "signed"
    assert vsdc.signings == {1: 1}


@pytest.mark.parametrize("code", ["894", "999", "996"])
def test_server_side_codes_are_retried(fiscal_device, vsdc, sell, goods, code):
    sell((goods, 1))
    vsdc.queue_result("sales", code)
    assert sending.drain()["retry"] == 1
    assert OutboxItem.objects.get(kind="sale").result_code == code


@pytest.mark.parametrize("code", ["881", "891", "899", "900", "910", "912"])
def test_a_client_error_stops_the_item_and_the_queue_goes_on(
    fiscal_device, vsdc, sell, goods, code
):
    refused, next_sale = sell((goods, 1)), sell((goods, 1))
    vsdc.queue_result("sales", code, "Invalid customer TIN")
    assert sending.drain() == {"signed": 1, "reported": 2, "stopped": 1, "retry": 0}
    item = OutboxItem.objects.get(sale=refused)
    assert item.status == "attention" and item.result_code == code
    assert "Invalid customer TIN" in item.error
    assert OutboxItem.objects.get(sale=next_sale).status == "signed"


def test_a_manager_resends_after_fixing_and_the_number_is_kept(
    fiscal_device, vsdc, sell, goods, manager
):
    sale = sell((goods, 1))
    vsdc.queue_result("sales", "910")
    sending.drain()
    item = OutboxItem.objects.get(sale=sale)
    sending.resend(item, user=manager)
    assert sending.drain()["signed"] == 1
    item.refresh_from_db()
    assert (item.status, item.invoice_number, item.resent_by) == ("signed", 1, manager)


def test_an_answer_lost_on_the_way_is_taken_from_the_vsdc_not_signed_twice(
    fiscal_device, vsdc, sell, goods
):
    sell((goods, 1))
    vsdc.sign_then_drop = True  # signed by the VSDC; the answer never arrives
    assert sending.drain()["retry"] == 1
    assert not Signature.objects.exists()
    first_body = vsdc.received_for("sales")[0].body
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        assert sending.drain()["signed"] == 1  # 994: the VSDC's stored data
    assert vsdc.signings == {1: 1}
    assert vsdc.received_for("sales")[1].body == first_body  # the same body, resent
    assert Signature.objects.get().receipt_signature == vsdc.signed[1]["rcptSign"]


def test_one_request_in_flight_per_device(fiscal_device, vsdc, sell, goods):
    sell((goods, 1))
    Device.objects.update(sending_until=timezone.now() + timedelta(seconds=60), sender="other")
    assert sending.drain() == {"signed": 0, "reported": 0, "stopped": 0, "retry": 0}
    assert vsdc.received_for("sales") == []
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):  # the lease ran out
        assert sending.drain()["signed"] == 1


def test_unregistered_items_are_registered_before_the_sale(fiscal_device, vsdc, sell, goods):
    sell((goods, 1))
    sending.drain()
    assert [r.endpoint for r in vsdc.received if r.endpoint in ("items", "sales")] == [
        "items",
        "sales",
    ]


def test_stock_adjustments_are_reported_as_stock_out(fiscal_device, vsdc, goods, manager):
    adjust_stock(
        product=goods, quantity=Decimal(-2), kind="damaged", reason="Dropped", user=manager
    )
    opening, item = OutboxItem.objects.filter(kind="stock")
    assert (opening.kind, opening.stock_type_code) == ("stock", "06")  # opening stock: in
    assert (item.kind, item.stock_type_code, item.invoice_number) == ("stock", "15", None)
    sending.drain()
    body = vsdc.received_for("stock")[1].body
    assert body["sarTyCd"] == "15" and body["itemList"][0]["qty"] == 2
    assert set(OutboxItem.objects.values_list("status", flat=True)) == {"signed"}
    # Each report is followed by the product's stock level after it (saveStockMaster).
    levels = [r.body["rsdQty"] for r in vsdc.received_for("stock_master")]
    assert levels == [10, 8]
    assert vsdc.stock_levels == {body["itemList"][0]["itemCd"]: 8}
