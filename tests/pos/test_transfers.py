"""Stock transfers between stores (issue 29): drafted, sent (the source's stock leaves, in
transit), received line by line with what is missing as shrinkage; journalled, scoped, locked.

Store A is the first store (the shop as it was); store B is added. Ernest manages A, Bosco B.
"""

import uuid
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client

from core.errors import PermissionDenied
from pos import errors
from pos.journal.verify import verify
from pos.models import (
    JournalEntry,
    LowStockAlert,
    Sale,
    ShopSettings,
    StockLevel,
    StockMovement,
    Store,
    StoreMembership,
    Transfer,
    TransferLine,
)
from pos.models.stores import default_store_pk
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.shifts import open_shift
from pos.services.stock import adjust_stock
from pos.services.transfers import (
    cancel_transfer,
    create_transfer,
    in_transit,
    receive_transfer,
    send_transfer,
)
from tests.pos.journal.conftest import raw_sql  # noqa: F401 - a fixture
from tests.pos.ledger_checks import assert_ledgers_hold, assert_store_stock_holds
from tests.pos.test_selling_concurrency import race

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def owner(make_user):
    return make_user("owner", "admin", first_name="Aline")


@pytest.fixture
def store_a(db):
    return Store.objects.get(pk=default_store_pk())


@pytest.fixture
def store_b(owner, store_a):
    from pos.services.stores import create_store

    return create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))


@pytest.fixture
def manager_a(make_user, store_a):
    user = make_user("ernest", "manager", first_name="Ernest")
    StoreMembership.objects.create(user=user, store=store_a)
    return user


@pytest.fixture
def manager_b(make_user, store_b):
    user = make_user("bosco", "manager", first_name="Bosco")
    StoreMembership.objects.create(user=user, store=store_b)
    return user


@pytest.fixture
def goods(make_product, store_b, owner):
    """Three products in store A (cables 10, chargers 20, sugar 5 kg); store B holds 1 charger."""
    cable = make_product(stock=10, name="USB-C cable")
    charger = make_product(stock=20, name="Charger")
    sugar = make_product(
        stock=D("5.000"), name="Sugar", unit="kg", quantity_places=3, reorder_level=0
    )
    adjust_stock(product=charger, quantity=1, reason="Delivery", user=owner, store=store_b)
    return cable, charger, sugar


def level(store, product) -> Decimal:
    return StockLevel.objects.get(store=store, product=product).on_hand


def lines_of(transfer) -> dict[int, TransferLine]:
    return {line.product_id: line for line in transfer.lines.all()}


def test_a_transfer_received_one_line_short_adds_up(goods, store_a, store_b, manager_a, manager_b):
    """The acceptance: three lines sent, one received short. For every product the source's
    loss is what is in transit, plus what the destination gained, plus the shrinkage; each
    store's stock is the sum of its movements."""
    cable, charger, sugar = goods
    before = {p.pk: (level(store_a, p), level(store_b, p)) for p in goods}
    transfer = create_transfer(
        source=store_a,
        destination=store_b,
        lines=[(cable, 4), (charger, 6), (sugar, D("2.500"))],
        user=manager_a,
    )
    assert transfer.status == "draft"
    assert {(p.pk, level(store_a, p)) for p in goods} == {
        (p.pk, before[p.pk][0]) for p in goods
    }  # a draft moves nothing

    send_transfer(transfer=transfer, user=manager_a)

    transfer.refresh_from_db()
    assert transfer.status == "sent" and transfer.sent_by == manager_a
    assert [level(store_a, p) for p in goods] == [6, 14, D("2.5")]
    assert [level(store_b, p) for p in goods] == [0, 1, 0]
    moving = {row.product_id: row.quantity for row in in_transit()}
    assert moving == {cable.pk: 4, charger.pk: 6, sugar.pk: D("2.5")}
    assert {p: line.in_transit for p, line in lines_of(transfer).items()} == moving
    assert_ledgers_hold()

    charger_line = lines_of(transfer)[charger.pk]
    received = {line.pk: line.quantity for line in transfer.lines.all()}
    received[charger_line.pk] = D(5)  # one charger did not arrive
    receive_transfer(transfer=transfer, received=received, reason="One box crushed", user=manager_b)

    transfer.refresh_from_db()
    assert (transfer.status, transfer.received_by, transfer.shrinkage_reason) == (
        "received",
        manager_b,
        "One box crushed",
    )
    lines = lines_of(transfer)
    assert [(lines[p.pk].quantity_received, lines[p.pk].quantity_shrinkage) for p in goods] == [
        (4, 0),
        (5, 1),
        (D("2.5"), 0),
    ]
    assert in_transit() == []
    for product in goods:
        line = lines[product.pk]
        source_before, destination_before = before[product.pk]
        source_loss = source_before - level(store_a, product)
        destination_gain = level(store_b, product) - destination_before
        assert line.in_transit == 0
        assert source_loss == line.in_transit + destination_gain + line.quantity_shrinkage
    assert [level(store_b, p) for p in goods] == [4, 6, D("2.5")]
    # The destination's ledger shows all that was sent, then what was lost on the way.
    moved = StockMovement.objects.filter(reference_type="pos.transfer", product=charger)
    assert list(moved.order_by("pk").values_list("store__code", "kind", "quantity", "reason")) == [
        (store_a.code, "transfer_out", -6, ""),
        ("MSZ", "transfer_in", 6, ""),
        ("MSZ", "shrinkage", -1, "One box crushed"),
    ]
    assert set(moved.values_list("reference_label", flat=True)) == {str(transfer)}
    # The business's total lost exactly the shrinkage.
    for product in goods:
        product.refresh_from_db()
    assert [p.stock_on_hand for p in goods] == [10, 20, D("5")]
    assert_ledgers_hold()
    assert_store_stock_holds()
    report = verify()
    assert report.ok, report.breaks


def test_what_is_in_transit_is_seen_per_store_and_product(goods, store_a, store_b, manager_a):
    cable, charger, _sugar = goods
    one = create_transfer(source=store_a, destination=store_b, lines=[(cable, 2)], user=manager_a)
    two = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 3), (charger, 1)], user=manager_a
    )
    send_transfer(transfer=one, user=manager_a)
    send_transfer(transfer=two, user=manager_a)

    assert [(r.product_id, r.quantity) for r in in_transit(store=store_b)] == [
        (cable.pk, 5),
        (charger.pk, 1),
    ]
    assert [(r.product_id, r.quantity) for r in in_transit(product_ids=[charger.pk])] == [
        (charger.pk, 1)
    ]
    other = Store.objects.create(name="Huye", code="HYE", branch_id="02")
    assert in_transit(store=other) == []


def test_sending_more_than_the_source_holds_is_refused_and_moves_nothing(
    goods, store_a, store_b, manager_a
):
    cable, charger, _sugar = goods
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 11), (charger, 21)], user=manager_a
    )
    movements = StockMovement.objects.count()

    with pytest.raises(errors.InsufficientStock) as refused:
        send_transfer(transfer=transfer, user=manager_a)

    # Both short lines named at once.
    assert cable.name in refused.value.message and charger.name in refused.value.message
    transfer.refresh_from_db()
    assert transfer.status == "draft"
    assert StockMovement.objects.count() == movements
    assert not JournalEntry.objects.filter(kind="transfer_sent").exists()
    assert level(store_a, cable) == 10


def test_a_shop_that_allows_negative_stock_may_send_more_than_it_holds(
    goods, store_a, store_b, manager_a
):
    shop = ShopSettings.load()
    shop.allow_negative_stock = True
    shop.save()
    cable = goods[0]
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 12)], user=manager_a
    )
    send_transfer(transfer=transfer, user=manager_a)
    assert level(store_a, cable) == -2
    assert_ledgers_hold()


def test_a_transfer_needs_two_different_open_stores_and_sensible_lines(
    goods, store_a, store_b, manager_a
):
    cable, charger, sugar = goods
    with pytest.raises(errors.InvalidTransfer, match="two different stores"):
        create_transfer(source=store_a, destination=store_a, lines=[(cable, 1)], user=manager_a)
    with pytest.raises(errors.InvalidTransfer, match="at least one product"):
        create_transfer(source=store_a, destination=store_b, lines=[], user=manager_a)
    with pytest.raises(errors.InvalidTransfer, match="twice"):
        create_transfer(
            source=store_a, destination=store_b, lines=[(cable, 1), (cable, 2)], user=manager_a
        )
    with pytest.raises(errors.InvalidQuantity, match="more than 0"):
        create_transfer(source=store_a, destination=store_b, lines=[(cable, 0)], user=manager_a)
    with pytest.raises(errors.InvalidQuantity, match="whole number"):
        create_transfer(
            source=store_a, destination=store_b, lines=[(cable, D("1.5"))], user=manager_a
        )
    with pytest.raises(errors.InvalidQuantity, match="decimal places"):
        create_transfer(
            source=store_a, destination=store_b, lines=[(sugar, D("0.0004"))], user=manager_a
        )
    Store.objects.filter(pk=store_b.pk).update(is_active=False)
    with pytest.raises(errors.InvalidTransfer, match="open"):
        create_transfer(source=store_a, destination=store_b, lines=[(cable, 1)], user=manager_a)
    assert not Transfer.objects.exists()


def test_receiving_more_than_sent_or_short_without_a_reason_is_refused(
    goods, store_a, store_b, manager_a, manager_b
):
    cable, charger, _sugar = goods
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 4), (charger, 2)], user=manager_a
    )
    send_transfer(transfer=transfer, user=manager_a)
    lines = lines_of(transfer)
    movements = StockMovement.objects.count()

    with pytest.raises(errors.OverReceipt, match="4 sent, 5 cannot have arrived"):
        receive_transfer(
            transfer=transfer,
            received={lines[cable.pk].pk: 5, lines[charger.pk].pk: 2},
            user=manager_b,
        )
    with pytest.raises(errors.ReasonRequired):
        receive_transfer(
            transfer=transfer,
            received={lines[cable.pk].pk: 3, lines[charger.pk].pk: 2},
            reason="  ",
            user=manager_b,
        )
    with pytest.raises(errors.InvalidQuantity, match="enter the quantity received"):
        receive_transfer(transfer=transfer, received={lines[cable.pk].pk: 4}, user=manager_b)
    with pytest.raises(errors.InvalidQuantity, match="negative"):
        receive_transfer(
            transfer=transfer,
            received={lines[cable.pk].pk: -1, lines[charger.pk].pk: 2},
            reason="x",
            user=manager_b,
        )
    assert StockMovement.objects.count() == movements
    transfer.refresh_from_db()
    assert transfer.status == "sent"

    receive_transfer(
        transfer=transfer,
        received={lines[cable.pk].pk: 4, lines[charger.pk].pk: 2},
        user=manager_b,
    )  # all arrived: no reason needed, no shrinkage
    assert not StockMovement.objects.filter(kind="shrinkage").exists()
    with pytest.raises(errors.InvalidStatusTransition, match="received"):
        receive_transfer(
            transfer=transfer,
            received={lines[cable.pk].pk: 4, lines[charger.pk].pk: 2},
            user=manager_b,
        )
    with pytest.raises(errors.InvalidStatusTransition):
        send_transfer(transfer=transfer, user=manager_a)


def test_a_line_that_arrived_not_at_all_is_all_shrinkage(
    goods, store_a, store_b, manager_a, manager_b
):
    cable = goods[0]
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 3)], user=manager_a
    )
    send_transfer(transfer=transfer, user=manager_a)
    line = transfer.lines.get()
    receive_transfer(transfer=transfer, received={line.pk: 0}, reason="Stolen", user=manager_b)
    assert level(store_b, cable) == 0
    assert level(store_a, cable) == 7
    line.refresh_from_db()
    assert (line.quantity_received, line.quantity_shrinkage, line.in_transit) == (0, 3, 0)
    assert_ledgers_hold()


def test_only_a_draft_is_sent_or_cancelled(goods, store_a, store_b, manager_a):
    cable = goods[0]
    draft = create_transfer(source=store_a, destination=store_b, lines=[(cable, 1)], user=manager_a)
    cancel_transfer(transfer=draft, user=manager_a)
    draft.refresh_from_db()
    assert draft.status == "cancelled"
    with pytest.raises(errors.InvalidStatusTransition, match="only a draft can be sent"):
        send_transfer(transfer=draft, user=manager_a)
    sent = create_transfer(source=store_a, destination=store_b, lines=[(cable, 1)], user=manager_a)
    send_transfer(transfer=sent, user=manager_a)
    with pytest.raises(errors.InvalidStatusTransition, match="only a draft can be cancelled"):
        cancel_transfer(transfer=sent, user=manager_a)
    with pytest.raises(errors.InvalidStatusTransition, match="only a draft can be sent"):
        send_transfer(transfer=sent, user=manager_a)
    assert level(store_a, cable) == 9


def test_the_source_sends_and_the_destination_receives(
    goods, store_a, store_b, manager_a, manager_b, cashier, owner
):
    cable = goods[0]
    with pytest.raises(PermissionDenied):  # B's manager cannot take A's stock
        create_transfer(source=store_a, destination=store_b, lines=[(cable, 1)], user=manager_b)
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 2)], user=manager_a
    )
    for who in (manager_b, cashier):
        with pytest.raises(PermissionDenied):
            send_transfer(transfer=transfer, user=who)
        with pytest.raises(PermissionDenied):
            cancel_transfer(transfer=transfer, user=who)
    send_transfer(transfer=transfer, user=manager_a)
    line = transfer.lines.get()
    for who in (manager_a, cashier):
        with pytest.raises(PermissionDenied):
            receive_transfer(transfer=transfer, received={line.pk: 2}, user=who)
    assert level(store_b, cable) == 0
    receive_transfer(transfer=transfer, received={line.pk: 2}, user=owner)  # any store
    assert level(store_b, cable) == 2


def test_sending_raises_the_source_stores_low_stock_alert(
    goods, store_a, store_b, manager_a, django_capture_on_commit_callbacks
):
    cable = goods[0]  # 10 in A, reorder level 2
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 8)], user=manager_a
    )
    with django_capture_on_commit_callbacks(execute=True):
        send_transfer(transfer=transfer, user=manager_a)
    alert = LowStockAlert.objects.get(product=cable)
    assert (alert.store_id, alert.stock_on_hand) == (store_a.pk, 2)


# --- The journal ---------------------------------------------------------------------------


@pytest.fixture
def received(goods, store_a, store_b, manager_a, manager_b):
    cable, charger, _sugar = goods
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 4), (charger, 6)], user=manager_a
    )
    send_transfer(transfer=transfer, user=manager_a)
    lines = lines_of(transfer)
    receive_transfer(
        transfer=transfer,
        received={lines[cable.pk].pk: 4, lines[charger.pk].pk: 5},
        reason="One lost",
        user=manager_b,
    )
    return transfer


def test_a_transfer_sent_and_received_is_two_journal_events(received, manager_a, manager_b):
    entries = JournalEntry.objects.filter(reference=f"pos.transfer:{received.pk}")
    assert list(entries.order_by("seq").values_list("kind", "chain")) == [
        ("transfer_sent", "back_office"),
        ("transfer_received", "back_office"),
    ]
    import orjson

    sent, got = (orjson.loads(e.payload)["data"] for e in entries.order_by("seq"))
    assert sent["user_id"] == manager_a.pk and got["user_id"] == manager_b.pk
    assert [m["kind"] for m in sent["movements"]] == ["transfer_out", "transfer_out"]
    assert [m["kind"] for m in got["movements"]] == ["transfer_in", "transfer_in", "shrinkage"]
    assert [line["quantity_shrinkage"] for line in got["lines"]] == ["0.000", "1.000"]
    assert got["shrinkage_reason"] == "One lost"
    report = verify()
    assert report.ok, report.breaks


def only_break(report):
    assert len(report.breaks) == 1, report.breaks
    return report.breaks[0]


def test_a_received_quantity_changed_in_the_database_is_named(received, raw_sql):  # noqa: F811 - the fixture
    line = received.lines.order_by("pk").last()
    raw_sql("UPDATE pos_transferline SET quantity_received = 6 WHERE id = %s", [line.pk])

    problem = only_break(verify())

    assert (problem.kind, problem.reference) == ("transfer_received", f"pos.transfer:{received.pk}")
    assert problem.problem == (
        "lines.1.quantity_received is 5.000 in the journal but 6.000 in the database"
    )


def test_a_transfer_movement_moved_to_another_store_is_named(received, raw_sql, store_a):  # noqa: F811 - the fixture
    out = StockMovement.objects.filter(kind="transfer_in").order_by("pk").first()
    raw_sql("UPDATE pos_stockmovement SET store_id = %s WHERE id = %s", [store_a.pk, out.pk])

    problem = only_break(verify())

    assert (problem.kind, problem.reference) == ("transfer_received", f"pos.transfer:{received.pk}")
    assert problem.problem.startswith("movements.0.store_id is ")


def test_a_shrinkage_removed_in_the_database_is_named(received, raw_sql):  # noqa: F811 - the fixture
    raw_sql("DELETE FROM pos_stockmovement WHERE kind = 'shrinkage'")

    problem = only_break(verify())

    assert (problem.kind, problem.reference) == ("transfer_received", f"pos.transfer:{received.pk}")
    assert problem.problem == "the number of movements is 3 in the journal but 2 in the database"


def test_a_transfer_marked_sent_past_the_services_is_named(goods, store_a, store_b, manager_a):
    cable = goods[0]
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 1)], user=manager_a
    )
    from django.utils import timezone

    Transfer.objects.filter(pk=transfer.pk).update(status="sent", sent_at=timezone.now())

    problem = only_break(verify())

    assert (problem.kind, problem.reference) == ("transfer_sent", f"pos.transfer:{transfer.pk}")
    assert problem.problem == "no journal entry records the sending of this stock transfer"


# --- The admin -----------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_drafts_sends_and_the_other_receives_in_the_admin(
    goods, store_a, store_b, manager_a, manager_b
):
    cable, charger, _sugar = goods
    client = signed_in(manager_a)
    page = client.get("/admin/pos/transfer/add/")
    assert page.status_code == 200
    body = page.content.decode()
    # The source among A's manager's stores; the destination any open store.
    assert body.count(f'value="{store_b.pk}"') == 1
    added = client.post(
        "/admin/pos/transfer/add/",
        {
            "source": store_a.pk,
            "destination": store_b.pk,
            "notes": "For the weekend",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": cable.pk,
            "lines-0-quantity": "4",
            "lines-1-product": charger.pk,
            "lines-1-quantity": "6",
        },
    )
    assert added.status_code == 302, added.content.decode()[:3000]
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.created_by) == ("draft", manager_a)

    change = client.get(f"/admin/pos/transfer/{transfer.pk}/change/").content.decode()
    assert f"/admin/pos/transfer/{transfer.pk}/send/" in change
    assert f"/admin/pos/transfer/{transfer.pk}/delivery-note/" in change
    confirm = client.get(f"/admin/pos/transfer/{transfer.pk}/send/")
    assert confirm.status_code == 200
    assert "USB-C cable" in confirm.content.decode()
    sent = client.post(f"/admin/pos/transfer/{transfer.pk}/send/")
    assert sent.status_code == 302
    assert level(store_a, cable) == 6

    # A's manager cannot receive; B's does.
    assert client.get(f"/admin/pos/transfer/{transfer.pk}/receive/").status_code == 403
    other = signed_in(manager_b)
    lines = lines_of(transfer)
    form = other.get(f"/admin/pos/transfer/{transfer.pk}/receive/")
    assert form.status_code == 200
    # Each line starts at what was sent, as its unit writes it: a piece's input takes "4" only.
    assert 'value="4"' in form.content.decode()
    assert 'value="4.000"' not in form.content.decode()
    url = f"/admin/pos/transfer/{transfer.pk}/receive/"
    too_many = other.post(
        url, {f"line_{lines[cable.pk].pk}": "5", f"line_{lines[charger.pk].pk}": "6"}
    )
    assert too_many.status_code == 200
    assert "less than or equal to 4" in too_many.content.decode()
    no_reason = other.post(
        url, {f"line_{lines[cable.pk].pk}": "4", f"line_{lines[charger.pk].pk}": "5"}
    )
    assert no_reason.status_code == 200
    assert "give the reason for the shrinkage" in no_reason.content.decode()
    assert level(store_b, cable) == 0
    done = other.post(
        url,
        {
            f"line_{lines[cable.pk].pk}": "4",
            f"line_{lines[charger.pk].pk}": "5",
            "reason": "One broken",
        },
    )
    assert done.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert (level(store_b, cable), level(store_b, charger)) == (4, 6)

    note = other.get(f"/admin/pos/transfer/{transfer.pk}/delivery-note/")
    assert note.status_code == 200
    text = note.content.decode()
    assert "DELIVERY NOTE" in text and str(transfer) in text
    assert 'name="viewport" content="width=device-width' in text
    assert "delivery_note.css" in text
    assert "Shrinkage: One broken" in text
    assert "Musanze" in text and "USB-C cable" in text


def test_the_admin_refuses_the_same_store_twice_and_a_send_short_of_stock(
    goods, store_a, store_b, manager_a
):
    cable = goods[0]
    client = signed_in(manager_a)
    same = client.post(
        "/admin/pos/transfer/add/",
        {
            "source": store_a.pk,
            "destination": store_a.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": cable.pk,
            "lines-0-quantity": "1",
        },
    )
    assert same.status_code == 200
    assert "choose two different stores" in same.content.decode()
    assert not Transfer.objects.exists()
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 50)], user=manager_a
    )
    short = client.post(f"/admin/pos/transfer/{transfer.pk}/send/")
    assert short.status_code == 200
    assert "10 available" in short.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == "draft"


def test_the_in_transit_list_shows_each_line(goods, store_a, store_b, manager_a):
    cable = goods[0]
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 3)], user=manager_a
    )
    send_transfer(transfer=transfer, user=manager_a)
    page = signed_in(manager_a).get("/admin/pos/transferline/", {"transfer__status__exact": "sent"})
    assert page.status_code == 200
    assert "USB-C cable" in page.content.decode()


# --- Concurrency (PostgreSQL) --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_send_racing_checkouts_of_the_last_units_leaves_no_negative_stock(
    make_product, make_user, register
):
    from pos.services.stores import create_store

    owner = make_user("owner", "admin")
    store_a = register.store
    store_b = create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))
    seller = make_user("seller", "cashier")
    shift = open_shift(register=register, cashier=seller, opening_float=D(0))
    product = make_product(stock=10)
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(product, 5)], user=owner
    )

    def work(i):
        if i == 0:
            return send_transfer(transfer=Transfer.objects.get(pk=transfer.pk), user=owner)
        return checkout(
            shift=shift,
            cashier=seller,
            cart=Cart([CartLine(product.pk, 1)]),
            tenders=[TenderLine("cash", D(10**6))],
            idempotency_key=uuid.uuid4(),
        )

    results = race(12, work)

    unexpected = [
        r for r in results if not isinstance(r, Sale | Transfer | errors.InsufficientStock)
    ]
    assert not unexpected, unexpected
    sold = sum(isinstance(r, Sale) for r in results)
    sent = 5 if isinstance(results[0], Transfer) else 0
    # More is asked for than there is: every unit goes, to a sale or the transfer, none twice.
    assert sold + sent == 10
    assert level(store_a, product) == 0
    assert level(store_b, product) == 0
    transfer.refresh_from_db()
    assert transfer.status == ("sent" if sent else "draft")
    assert StockMovement.objects.filter(store=store_a, product=product).aggregate(
        t=Sum("quantity")
    )["t"] == level(store_a, product)
    product.refresh_from_db()
    assert product.stock_on_hand == level(store_a, product)
    assert_ledgers_hold()
    report = verify()
    assert report.ok, report.breaks


def test_a_transfer_is_reported_to_rra_as_a_transfer_and_shrinkage_as_discarded():
    from fiscal.documents import stock_type

    assert [stock_type("transfer_out", D(-5)), stock_type("transfer_in", D(5))] == ["13", "04"]
    assert stock_type("shrinkage", D(-1)) == "15"


def test_sending_and_receiving_are_audited(
    goods, store_a, store_b, manager_a, manager_b, django_capture_on_commit_callbacks
):
    from accounts.models import AuditLog

    cable = goods[0]
    transfer = create_transfer(
        source=store_a, destination=store_b, lines=[(cable, 3)], user=manager_a
    )
    with django_capture_on_commit_callbacks(execute=True):
        send_transfer(transfer=transfer, user=manager_a)
    line = transfer.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        receive_transfer(transfer=transfer, received={line.pk: 2}, reason="Lost", user=manager_b)

    rows = AuditLog.objects.filter(action__startswith="transfer.").order_by("pk")
    assert [(r.action, r.actor_id) for r in rows] == [
        ("transfer.sent", manager_a.pk),
        ("transfer.received", manager_b.pk),
    ]
    assert rows[1].details["shrinkage"] == {str(cable.pk): 1}
    assert rows[1].details["reason"] == "Lost"


def test_a_draft_is_cancelled_from_the_list_and_a_sent_one_is_not(
    goods, store_a, store_b, manager_a
):
    cable = goods[0]
    draft = create_transfer(source=store_a, destination=store_b, lines=[(cable, 1)], user=manager_a)
    sent = create_transfer(source=store_a, destination=store_b, lines=[(cable, 1)], user=manager_a)
    send_transfer(transfer=sent, user=manager_a)
    client = signed_in(manager_a)
    page = client.post(
        "/admin/pos/transfer/",
        {"action": "cancel", "_selected_action": [draft.pk, sent.pk]},
        follow=True,
    )
    text = page.content.decode()
    assert f"{draft}: cancelled" in text
    assert f"{sent} is sent (in transit): only a draft can be cancelled." in text
    draft.refresh_from_db()
    sent.refresh_from_db()
    assert (draft.status, sent.status) == ("cancelled", "sent")
