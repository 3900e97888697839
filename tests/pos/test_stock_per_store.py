"""Stock per store (issue 29): every sale, refund, void, delivery, count and adjustment moves the
stock of one store (the till's; on back-office screens the chosen one), each store's level is
the sum of its movements, and a low-stock alert names its store. Store A is the first store
(till R1); store B has its own till (R2)."""

import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from pos import errors
from pos.models import (
    LowStockAlert,
    Product,
    Register,
    Sale,
    StockLevel,
    StockMovement,
    Store,
    StoreMembership,
)
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.shifts import open_shift
from pos.services.stock import adjust_stock
from tests.pos.ledger_checks import assert_ledgers_hold, assert_store_stock_holds
from tests.pos.test_selling_concurrency import race

pytestmark = pytest.mark.django_db


@pytest.fixture
def store_a(register):
    return register.store


@pytest.fixture
def store_b(make_user):
    from pos.services.stores import create_store

    owner = make_user("owner", "admin")
    return create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))


@pytest.fixture
def shift_b(store_b, make_user):
    till = Register.objects.create(code="R2", name="Musanze till", store=store_b)
    bea = make_user("bea", "cashier", first_name="Bea")
    StoreMembership.objects.create(user=bea, store=store_b)  # she works in store B
    return open_shift(register=till, cashier=bea, opening_float=Decimal(20000))


def level(store, product) -> Decimal:
    return StockLevel.objects.get(store=store, product=product).on_hand


def sell_one(shift, product, quantity=1):
    return checkout(
        shift=shift,
        cashier=shift.cashier,
        cart=Cart([CartLine(product.pk, quantity)]),
        tenders=[TenderLine("cash", Decimal(10**6))],
        idempotency_key=uuid.uuid4(),
    )


@pytest.fixture
def stocked(make_product, store_a, store_b, manager):
    """A product with 10 in store A and 100 in store B."""
    product = make_product(stock=10)
    adjust_stock(product=product, quantity=100, reason="Delivery", user=manager, store=store_b)
    return product


def test_a_new_store_and_a_new_product_start_with_a_level_of_zero_everywhere(
    make_product, store_a, store_b
):
    product = make_product(stock=4)

    assert (level(store_a, product), level(store_b, product)) == (4, 0)
    assert StockLevel.objects.filter(store=store_b).count() == Product.objects.count()


def test_a_sale_takes_the_stock_of_its_tills_store_only(stocked, shift, shift_b, store_a, store_b):
    sell_one(shift_b, stocked, 3)

    assert (level(store_a, stocked), level(store_b, stocked)) == (10, 97)
    stocked.refresh_from_db()
    assert stocked.stock_on_hand == 107  # the total over the stores
    movement = StockMovement.objects.filter(kind="sale").get()
    assert (movement.store, movement.stock_before, movement.stock_after) == (store_b, 100, 97)
    assert_ledgers_hold()


def test_a_store_without_enough_refuses_the_sale_whatever_the_other_has(
    stocked, shift, shift_b, store_a, store_b
):
    sell_one(shift, stocked, 10)

    with pytest.raises(errors.InsufficientStock) as refused:
        sell_one(shift, stocked, 1)

    assert "lines.0" in refused.value.fields
    assert (level(store_a, stocked), level(store_b, stocked)) == (0, 100)


def test_refunds_and_voids_put_stock_back_into_their_tills_store(
    stocked, shift_b, store_a, store_b, manager
):
    from pos.services.refunds import RefundLineInput, refund_sale
    from pos.services.voids import void_sale

    refunded = sell_one(shift_b, stocked, 4)
    voided = sell_one(shift_b, stocked, 2)
    refund_sale(
        sale=refunded,
        shift=shift_b,
        user=manager,
        lines=[RefundLineInput(refunded.lines.get().pk, 3)],
        reason="Wrong colour",
    )
    void_sale(sale=voided, user=manager, reason="Rang up twice")

    assert (level(store_a, stocked), level(store_b, stocked)) == (10, 99)  # 100 - 4 + 3
    kinds = StockMovement.objects.filter(store=store_b).values_list("kind", flat=True)
    assert sorted(kinds) == ["adjustment", "refund", "refund", "sale", "sale"]
    assert_ledgers_hold()


def test_a_purchase_order_delivered_to_a_store_stocks_that_store(
    stocked, store_a, store_b, supplier, manager
):
    from pos.services import purchasing

    order = purchasing.create_purchase_order(
        supplier=supplier,
        lines=[(stocked, 20, Decimal(5000))],
        user=manager,
        store=store_b,
    )
    purchasing.mark_ordered(order=order, user=manager)
    purchasing.receive_purchase_order(
        order=order, quantities={order.lines.get().pk: 20}, user=manager
    )

    assert (level(store_a, stocked), level(store_b, stocked)) == (10, 120)
    receipt = StockMovement.objects.get(kind="receipt")
    assert (receipt.store, receipt.stock_before, receipt.stock_after) == (store_b, 100, 120)
    # The product's cost is the business's: averaged over the stock of every store (110 at
    # 6,000 and 20 at 5,000), in whole francs.
    stocked.refresh_from_db()
    assert stocked.cost_price == Decimal(5846)


def test_a_count_corrects_the_counted_store_only(stocked, store_a, store_b, manager):
    from pos.services.counts import count_differences, post_stock_count

    review = count_differences({stocked.pk: Decimal(95)}, store=store_b)
    assert [(r["expected"], r["difference"]) for r in review] == [(100, -5)]

    count = post_stock_count(counted={stocked.pk: 95}, user=manager, store=store_b)

    assert count.store == store_b
    assert count.lines.get().expected_quantity == 100
    assert (level(store_a, stocked), level(store_b, stocked)) == (10, 95)
    assert_store_stock_holds()


def test_a_low_stock_alert_names_its_store_and_a_store_may_set_its_own_reorder_level(
    make_product, store_a, store_b, shift_b, manager, django_capture_on_commit_callbacks
):
    from pos.services.stock import low_stock, set_reorder_level

    product = make_product(stock=50, reorder_level=2)
    adjust_stock(product=product, quantity=8, reason="Delivery", user=manager, store=store_b)
    set_reorder_level(
        level=StockLevel.objects.get(store=store_b, product=product),
        reorder_level=Decimal(6),
        user=manager,
    )

    with django_capture_on_commit_callbacks(execute=True):
        sell_one(shift_b, product, 2)  # 8 -> 6 in B: at B's own level

    (alert,) = LowStockAlert.objects.all()
    assert (alert.store, alert.stock_on_hand, alert.reorder_level) == (store_b, 6, 6)
    assert [(lv.store, lv.on_hand, lv.reorder_at) for lv in low_stock()] == [(store_b, 6, 6)]
    assert list(low_stock(store_a)) == []


def test_the_till_shows_and_checks_its_own_stores_stock(client, stocked, shift_b, store_b, manager):
    client.force_login(shift_b.cashier)
    adjust_stock(product=stocked, quantity=-100, reason="Back room", user=manager, store=store_b)

    found = client.get(reverse("register:search"), {"code": stocked.name[:12]}).content.decode()
    scanned = client.post(reverse("register:scan"), {"code": stocked.sku})

    assert "0 in stock" in found  # store A still has 10: the till is in B
    assert scanned.status_code == 409
    assert "Out of stock" in scanned.content.decode()


def test_check_stock_names_the_store_whose_level_drifted(stocked, store_b, capsys):
    call_command("check_stock")
    assert "consistent" in capsys.readouterr().out
    StockLevel.objects.filter(store=store_b, product=stocked).update(on_hand=90)

    with pytest.raises(SystemExit):
        call_command("check_stock")

    out = capsys.readouterr().out
    assert f"{stocked.sku} {stocked.name} in store MSZ: stock 90, ledger 100 (drift -10)" in out


def test_the_api_shows_each_products_stock_per_store(stocked, store_a, store_b, manager):
    """To a manager of both stores (one of store A only sees A's: test_store_scoping)."""
    from rest_framework.test import APIClient

    from pos.models import StoreMembership

    for store in (store_a, store_b):
        StoreMembership.objects.create(user=manager, store=store)
    api = APIClient()
    api.force_authenticate(manager)

    product = api.get(f"/api/v1/products/{stocked.pk}/").json()
    low = api.get("/api/v1/products/", {"low_stock": "1", "store": store_b.pk}).json()

    assert product["stock_on_hand"] == "110"
    assert [(s["store_code"], s["on_hand"]) for s in product["stock"]] == [
        (store_a.code, "10"),
        ("MSZ", "100"),
    ]
    assert low["results"] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_of_the_last_ten_in_store_a_leave_store_b_untouched(
    make_product, store_a, store_b, shift, manager
):
    product = make_product(stock=10)
    adjust_stock(product=product, quantity=100, reason="Delivery", user=manager, store=store_b)

    results = race(50, lambda i: sell_one(shift, product))

    sold = [r for r in results if isinstance(r, Sale)]
    refused = [r for r in results if isinstance(r, errors.InsufficientStock)]
    assert (len(sold), len(refused)) == (10, 40), [
        r for r in results if not isinstance(r, Sale | errors.InsufficientStock)
    ]
    assert (level(store_a, product), level(store_b, product)) == (0, 100)
    in_b = StockMovement.objects.filter(store=store_b, product=product)
    assert list(in_b.values_list("kind", "quantity")) == [("adjustment", 100)]
    in_a = StockMovement.objects.filter(store=store_a, product=product)
    assert in_a.aggregate(total=Sum("quantity"))["total"] == 0
    # Each sale in A saw the stock the one before it left: 10, 9, ... 1.
    befores = sorted(in_a.filter(kind="sale").values_list("stock_before", flat=True))
    assert befores == list(range(1, 11))
    product.refresh_from_db()
    assert product.stock_on_hand == 100
    assert_ledgers_hold()


def test_low_stock_alerts_are_listed_and_cleared_per_store(
    client, make_product, store_a, store_b, shift, shift_b, manager, make_user,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """Each store's crossing raises its own alert; a manager of A lists (with the store column)
    and acknowledges A's alerts only, and B is not offered in the list's store filter."""
    product = make_product(stock=3, reorder_level=2)
    adjust_stock(product=product, quantity=3, reason="Delivery", user=manager, store=store_b)
    with django_capture_on_commit_callbacks(execute=True):
        sell_one(shift, product, 1)  # A: 3 -> 2
        sell_one(shift_b, product, 2)  # B: 3 -> 1
    in_a, in_b = (LowStockAlert.objects.get(store=s) for s in (store_a, store_b))
    assert (in_a.stock_on_hand, in_b.stock_on_hand) == (2, 1)
    StoreMembership.objects.create(user=manager, store=store_a)
    client.force_login(manager)
    url = reverse("admin:pos_lowstockalert_changelist")

    page = client.get(url).content.decode()

    assert f"/{in_a.pk}/change/" in page and f"/{in_b.pk}/change/" not in page
    assert "column-store" in page
    assert "Musanze" not in page  # neither a row nor a filter choice
    forged = {"action": "acknowledge", "_selected_action": [in_a.pk, in_b.pk]}
    client.post(url, forged)
    in_a.refresh_from_db()
    in_b.refresh_from_db()
    assert (in_a.acknowledged, in_b.acknowledged) == (True, False)
    owner = make_user("owner2", "admin")
    client.force_login(owner)
    assert f"/{in_b.pk}/change/" in client.get(url).content.decode()
