"""Offline selling, server side (issue 26): the till's device takes receipt numbers from blocks
the server reserved, sends its sales in batches, and each is stored exactly once."""

import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pos import errors
from pos.models import OfflineSale, Sale, SaleLine, StockMovement, TillDevice

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def till(client, cashier, shift):
    """The cashier's browser, set up as a device of the till with a block of numbers."""
    client.force_login(cashier)
    key = str(uuid.uuid4())
    answer = post(client, "offline_device", {"device": key})
    assert answer.status_code == 200, answer.content
    block = post(client, "offline_block", {"device": key}).json()
    assert block == {"first": 1, "last": 100}
    return {"client": client, "device": key, "shift": shift, "prefix": answer.json()["prefix"]}


def post(client, name, body, **kwargs):
    return client.post(
        reverse(f"register:{name}", **kwargs), json.dumps(body), content_type="application/json"
    )


def a_sale(till, number, *lines, tenders=None, sold_at=None, key=None, as_of=None):
    lines = [{"product": p.pk, "quantity": str(q), "price": str(price)} for p, q, price in lines]
    total = sum(D(line["price"]) * D(line["quantity"]) for line in lines)
    return {
        "key": key or str(uuid.uuid4()),
        "number": number,
        "shift": till["shift"].pk,
        "sold_at": (sold_at or timezone.now()).isoformat(),
        "prices_as_of": (as_of or timezone.now() - timedelta(minutes=30)).isoformat(),
        "lines": lines,
        "tenders": tenders or [{"tender": "cash", "amount": str(total)}],
    }


def sync(till, *sales):
    answer = post(till["client"], "offline_sync", {"device": till["device"], "sales": list(sales)})
    assert answer.status_code == 200, answer.content
    return answer.json()["results"]


def test_blocks_follow_each_other_per_device_and_devices_never_share_numbers(till, cashier):
    client = till["client"]
    assert post(client, "offline_block", {"device": till["device"]}).json() == {
        "first": 101,
        "last": 200,
    }
    other = str(uuid.uuid4())
    second = post(client, "offline_device", {"device": other}).json()
    assert post(client, "offline_block", {"device": other}).json() == {"first": 1, "last": 100}
    assert till["prefix"] == "R1-T1-" and second["prefix"] == "R1-T2-"
    # The same browser again is the same device.
    assert post(client, "offline_device", {"device": till["device"]}).json()["code"] == 1
    assert TillDevice.objects.count() == 2


def test_a_batch_stores_each_sale_once_with_its_number_and_moves_stock_once(till, product):
    sold_at = timezone.now() - timedelta(minutes=20)
    sales = [a_sale(till, n, (product, 1, 12000), sold_at=sold_at) for n in (1, 2, 3)]
    results = sync(till, *sales)
    assert [(r["status"], r["number"]) for r in results] == [
        ("stored", "R1-T1-000001"),
        ("stored", "R1-T1-000002"),
        ("stored", "R1-T1-000003"),
    ]
    # The same batch again (the answer was lost): nothing is stored twice.
    again = sync(till, *sales)
    assert [r["status"] for r in again] == ["already_stored"] * 3
    assert Sale.objects.count() == 3
    product.refresh_from_db()
    assert product.stock_on_hand == 7
    assert StockMovement.objects.filter(product=product, kind="sale").count() == 3
    sale = Sale.objects.get(number="R1-T1-000001")
    assert sale.created_at == sold_at  # the till's (corrected) time, not the sync's
    assert sale.offline.status == OfflineSale.Status.STORED


def test_the_server_dying_after_commit_before_answering_stores_nothing_twice(
    till, product, monkeypatch
):
    from pos.services import offline

    sales = [a_sale(till, n, (product, 2, 12000)) for n in (1, 2)]

    def die(self):
        raise ConnectionResetError("the process died before answering")

    monkeypatch.setattr(offline.SyncResult, "as_dict", die)
    dying = Client(raise_request_exception=False)
    dying.force_login(till["shift"].cashier)
    lost = post(dying, "offline_sync", {"device": till["device"], "sales": sales})
    assert lost.status_code == 500  # the till saw no answer: it keeps the sales and retries
    assert Sale.objects.count() == 2  # but they committed
    monkeypatch.undo()

    results = sync(till, *sales)
    assert [r["status"] for r in results] == ["already_stored", "already_stored"]
    assert Sale.objects.count() == 2
    product.refresh_from_db()
    assert product.stock_on_hand == 6


def test_dying_between_the_sale_and_its_record_the_retry_records_it_once(
    till, product, monkeypatch
):
    from pos.services import offline

    sale = a_sale(till, 1, (product, 1, 12000))
    monkeypatch.setattr(offline, "_record", lambda *a, **k: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        offline.sync_sales(
            device=TillDevice.objects.get(), user=till["shift"].cashier, sales=[sale]
        )
    monkeypatch.undo()
    assert Sale.objects.count() == 1 and not OfflineSale.objects.exists()
    assert sync(till, sale)[0]["status"] == "already_stored"
    assert OfflineSale.objects.get().sale == Sale.objects.get()
    assert sync(till, sale)[0]["status"] == "already_stored"
    assert Sale.objects.count() == 1


def test_a_batch_with_one_invalid_sale_stores_the_others_and_lists_the_reason(
    till, product, manager
):
    good = [a_sale(till, n, (product, 1, 12000)) for n in (1, 3)]
    unknown = a_sale(till, 2, (product, 1, 12000))
    unknown["lines"][0]["product"] = 999_999
    never_reserved = a_sale(till, 500, (product, 1, 12000))
    results = sync(till, good[0], unknown, good[1], never_reserved)
    assert [r["status"] for r in results] == ["stored", "refused", "stored", "refused"]
    assert "Unknown product 999999" in results[1]["reason"]
    assert "never reserved" in results[3]["reason"]
    assert Sale.objects.count() == 2

    page = Client()
    page.force_login(manager)
    html = page.get(reverse("register:offline_tills")).content.decode()
    assert "R1-T1-000002" in html and "Unknown product 999999" in html
    # Sent again, a refused sale is tried again and still refused (not duplicated).
    assert sync(till, unknown)[0]["status"] == "refused"
    assert OfflineSale.objects.filter(status="refused").count() == 2


def test_sold_offline_below_zero_the_sale_is_stored_flagged_and_alerted(till, make_product):
    from pos.monitoring import check_offline_oversold

    last = make_product(stock=1, name="Tecno charger")
    results = sync(till, a_sale(till, 1, (last, 2, 12000)))
    assert results[0]["status"] == "stored"
    last.refresh_from_db()
    assert last.stock_on_hand == -1
    line = SaleLine.objects.get(product=last)
    assert line.oversold
    alerts = check_offline_oversold({"lookback_hours": 24})
    assert list(alerts) == [str(line.pk)]
    assert "Tecno charger" in alerts[str(line.pk)]


def test_prices_are_the_snapshots_and_recorded_as_such(till, product, manager):
    from pos.services.catalogue import update_product

    update_product(product=product, retail_price=D("13000"), user=manager)
    as_of = timezone.now() - timedelta(hours=1)
    results = sync(till, a_sale(till, 1, (product, 1, 12000), as_of=as_of))
    assert results[0]["status"] == "stored", results
    line = SaleLine.objects.get()
    assert (line.unit_price, line.total) == (D("12000"), D("12000"))
    assert line.price_source == f"Offline prices of {timezone.localtime(as_of):%Y-%m-%d %H:%M}"


def test_only_cash_and_typed_mobile_money_are_taken_offline(till, product):
    card = a_sale(till, 1, (product, 1, 12000), tenders=[{"tender": "card", "amount": "12000"}])
    momo_untyped = a_sale(
        till, 2, (product, 1, 12000), tenders=[{"tender": "mobile_money", "amount": "12000"}]
    )
    momo = a_sale(
        till,
        3,
        (product, 1, 12000),
        tenders=[{"tender": "mobile_money", "amount": "12000", "reference": "MP2612041"}],
    )
    results = sync(till, card, momo_untyped, momo)
    assert [r["status"] for r in results] == ["refused", "refused", "stored"]
    assert "Only cash and Mobile Money" in results[0]["reason"]
    assert "transaction id" in results[1]["reason"]


def test_a_shift_cannot_close_while_its_till_has_unsynced_sales(till, product, cashier, manager):
    from pos.services.offline import resolve_refused
    from pos.services.shifts import close_shift, review_close

    shift = till["shift"]
    client = till["client"]
    beat = post(
        client,
        "offline_heartbeat",
        {
            "device": till["device"],
            "pending": 2,
            "oldest_pending_at": (timezone.now() - timedelta(minutes=45)).isoformat(),
            "clock_offset_ms": -1500,
        },
    ).json()
    assert beat["shift"]["id"] == shift.pk and beat["server_time"]
    device = TillDevice.objects.get()
    assert (device.pending_count, device.clock_offset_ms) == (2, -1500)
    with pytest.raises(errors.UnsyncedSales, match="2 sale"):
        close_shift(shift=shift, counted={"cash": D("20000")}, user=cashier)

    from pos.monitoring import check_offline_pending

    assert list(check_offline_pending({"after_minutes": 30})) == [str(device.pk)]
    assert check_offline_pending({"after_minutes": 60}) == {}

    bad = a_sale(till, 2, (product, 1, 12000))
    bad["lines"][0]["product"] = 999_999
    sync(till, a_sale(till, 1, (product, 1, 12000)), bad)
    post(client, "offline_heartbeat", {"device": till["device"], "pending": 0})
    with pytest.raises(errors.UnsyncedSales, match="1 sale"):  # the refused one
        close_shift(shift=shift, counted={"cash": D("20000")}, user=cashier)
    refused = OfflineSale.objects.get(status="refused")
    with pytest.raises(errors.ReasonRequired):
        resolve_refused(offline_sale=refused, user=manager, action="dismiss")
    with pytest.raises(errors.NotAllowed):
        resolve_refused(offline_sale=refused, user=cashier, action="dismiss", note="typo")
    resolve_refused(offline_sale=refused, user=manager, action="dismiss", note="Never sold")
    ended = close_shift(shift=shift, counted={"cash": D("32000")}, user=cashier)
    closed = review_close(shift=ended, user=manager)  # a manager reviews the cashier's count
    assert closed.status == "closed" and closed.over_short == 0


def test_a_manager_resolves_a_refused_sale_by_storing_it(till, product, manager):
    from pos.services.catalogue import update_product

    update_product(product=product, status="inactive", user=manager)
    results = sync(till, a_sale(till, 1, (product, 1, 12000)))
    assert results[0]["status"] == "refused"
    update_product(product=product, status="active", user=manager)
    page = Client()
    page.force_login(manager)
    refused = OfflineSale.objects.get()
    answer = page.post(
        reverse("register:offline_resolve", args=[refused.pk]), {"action": "retry"}, follow=True
    )
    assert "resolved" in answer.content.decode()
    refused.refresh_from_db()
    assert refused.status == "stored" and refused.resolved_by == manager
    assert refused.sale.number == "R1-T1-000001"
    assert sync(till, refused.payload)[0]["status"] == "already_stored"


def test_the_snapshot_holds_the_catalogue_and_is_versioned(till, product):
    client = till["client"]
    answer = client.get(reverse("register:offline_snapshot"))
    snap = answer.json()
    assert answer["ETag"] == f'"{snap["version"]}"'
    assert snap["shop"]["vat_rate"] == "18.00" and snap["shop"]["prices_include_vat"]
    [row] = snap["products"]
    assert (row["id"], row["barcode"], row["price"]) == (product.pk, product.barcode, "12000.00")
    assert {"units", "price_lists", "price_rules", "scale_labels", "taken_at"} <= snap.keys()
    unchanged = client.get(reverse("register:offline_snapshot"), HTTP_IF_NONE_MATCH=answer["ETag"])
    assert unchanged.status_code == 304


def test_the_offline_endpoints_need_a_cashier(client, product):
    assert client.get(reverse("register:offline_snapshot")).status_code == 401
    assert client.post(reverse("register:offline_sync")).status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_pushing_the_same_outbox_at_once_store_each_sale_once(
    cashier, shift, make_product
):
    from pos.services.offline import register_device, reserve_block, sync_sales

    product = make_product(stock=50)
    device = register_device(register=shift.register, user=cashier, key=uuid.uuid4())
    reserve_block(device=device)
    till = {"shift": shift}
    sales = [a_sale(till, n, (product, 1, 12000)) for n in range(1, 6)]
    outcomes, failures = [], []
    barrier = threading.Barrier(4)

    def tab():
        try:
            barrier.wait()
            results = sync_sales(device=device, user=cashier, sales=sales)
            outcomes.append([r.status for r in results])
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert all(status in ("stored", "already_stored") for run in outcomes for status in run)
    assert Sale.objects.count() == 5
    product.refresh_from_db()
    assert product.stock_on_hand == 45


def test_a_manager_forgets_the_pending_sales_of_a_device_gone_for_good(till, cashier, manager):
    from accounts.models import AuditLog
    from pos.services.shifts import close_shift, review_close

    post(till["client"], "offline_heartbeat", {"device": till["device"], "pending": 4})
    page = Client()
    page.force_login(manager)
    device = TillDevice.objects.get()
    url = reverse("register:offline_forget", args=[device.pk])
    assert "4 sales waiting" in page.get(reverse("register:offline_tills")).content.decode()
    refused = page.post(url, {"note": ""}, follow=True).content.decode()
    assert "Say why" in refused
    assert TillDevice.objects.get().pending_count == 4
    cashier_page = till["client"]
    assert cashier_page.post(url, {"note": "gone"}).status_code == 403
    page.post(url, {"note": "Tablet stolen"})
    assert TillDevice.objects.get().pending_count == 0
    entry = AuditLog.objects.get(action="offline.pending_forgotten")
    assert entry.details == {"pending": 4, "note": "Tablet stolen"}
    ended = close_shift(shift=till["shift"], counted={"cash": D("20000")}, user=cashier)
    closed = review_close(shift=ended, user=manager)  # a manager reviews the cashier's count
    assert closed.status == "closed"


def _accepted_and_journalled(offline_sale, manager, seller, shift):
    from accounts.models import AuditLog
    from pos.models import JournalEntry

    offline_sale.refresh_from_db()
    assert offline_sale.status == "stored" and offline_sale.resolved_by == manager
    sale = offline_sale.sale
    assert (sale.cashier, sale.shift, sale.number) == (seller, shift, offline_sale.number)
    assert JournalEntry.objects.filter(kind="sale", reference=f"pos.sale:{sale.pk}").count() == 1
    accepted = AuditLog.objects.get(action="offline.sale_accepted")
    assert accepted.actor == manager
    assert accepted.details["into_shift"] == shift.pk and accepted.details["seller"] == "cashier"
    return sale


def test_a_sale_synced_by_another_cashier_is_accepted_for_its_seller_in_its_shift(
    till, product, cashier, manager, make_user
):
    """Grace sold offline; Bob signed in on the same browser and it synced: refused. A manager
    accepts it: it is Grace's sale, on her shift, stock moved once, journalled, audited."""
    bob = make_user("bob", "cashier")
    till["client"].force_login(bob)
    results = sync(till, a_sale(till, 1, (product, 2, 12000)))
    assert results[0]["status"] == "refused"
    assert "another cashier" in results[0]["reason"]
    refused = OfflineSale.objects.get()
    page = Client()
    page.force_login(manager)
    listed = page.get(reverse("register:offline_tills")).content.decode()
    assert "Accept the sale" in listed and "another cashier" in listed

    answer = page.post(
        reverse("register:offline_resolve", args=[refused.pk]),
        {"action": "accept", "note": "Bob signed in before it synced"},
        follow=True,
    )
    assert "Offline sale R1-T1-000001 resolved." in answer.content.decode()
    sale = _accepted_and_journalled(refused, manager, cashier, till["shift"])
    assert sale.total == D(24000)
    assert StockMovement.objects.filter(product=product, kind="sale").count() == 1
    product.refresh_from_db()
    assert product.stock_on_hand == 8
    assert sync(till, refused.payload)[0]["status"] == "already_stored"  # the device retries


def test_a_sale_whose_shift_closed_is_accepted_into_the_tills_open_shift_or_dismissed(
    till, product, cashier, manager, make_user
):
    """The device was forgotten and the shift closed; it comes back with two sales: refused.
    With no shift open on the till the sale cannot be accepted; once one is, it goes there,
    still Grace's sale; the other is dismissed with a reason."""
    from pos.services.offline import forget_pending, resolve_refused
    from pos.services.shifts import close_shift, open_shift

    shift = till["shift"]
    device = TillDevice.objects.get()
    post(till["client"], "offline_heartbeat", {"device": till["device"], "pending": 2})
    forget_pending(device=device, user=manager, note="Tablet lost")
    close_shift(shift=shift, counted={"cash": D("20000")}, user=manager)
    sales = [a_sale(till, 1, (product, 1, 12000)), a_sale(till, 2, (product, 1, 12000))]
    assert [r["status"] for r in sync(till, *sales)] == ["refused", "refused"]
    first, second = OfflineSale.objects.order_by("number")

    with pytest.raises(errors.ShiftClosed, match="no open shift"):
        resolve_refused(offline_sale=first, user=manager, action="accept")
    with pytest.raises(errors.NotAllowed):
        resolve_refused(offline_sale=first, user=cashier, action="accept")
    first.refresh_from_db()
    assert first.status == "refused" and Sale.objects.count() == 0

    alice = make_user("alice", "cashier")
    later = open_shift(register=shift.register, cashier=alice, opening_float=D(0))
    resolve_refused(offline_sale=first, user=manager, action="accept", note="Found in the drawer")
    _accepted_and_journalled(first, manager, cashier, later)

    with pytest.raises(errors.ReasonRequired):
        resolve_refused(offline_sale=second, user=manager, action="dismiss")
    resolve_refused(offline_sale=second, user=manager, action="dismiss", note="Entered by hand")
    second.refresh_from_db()
    assert (second.status, second.resolved_by, second.sale) == ("dismissed", manager, None)
    assert second.resolution_note == "Entered by hand"
    assert Sale.objects.count() == 1
    assert sync(till, sales[1])[0]["reason"] == second.reason  # stays dismissed on a retry
