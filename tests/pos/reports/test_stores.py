"""Reports per store and consolidated (issue 29): each store's figures add up to the whole
business's, the store picker offers the stores one works in, and the dashboard shows the chosen
store's figures and its low stock.

Store A is the hand-computed day of conftest.py (till R1). Store B ("Musanze", till R2) rings on
the same day: S5 1 × Charger and 1 × Case, cash 17,700; S6 1 × Case on account for Alice
(invoice 5,900); S7 1 × Charger, voided; a refund of S5's case, damaged (not restocked).
"""

import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from pos.reports import queries, suspicious
from tests.conftest import PASSWORD
from tests.pos.reports.conftest import DAY, at

pytestmark = pytest.mark.django_db
PERIOD = {"start": DAY.isoformat(), "end": DAY.isoformat()}


@pytest.fixture
def two_stores(shop_day, register, make_user, manager):
    from pos.models import (
        Payment,
        ProductDaySales,
        Refund,
        Register,
        Sale,
        Store,
        StoreMembership,
    )
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.day_sales import add_sale_lines
    from pos.services.refunds import RefundLineInput, refund_sale
    from pos.services.shifts import open_shift
    from pos.services.stock import adjust_stock
    from pos.services.stores import create_store
    from pos.services.voids import void_sale

    owner = make_user("owner", "admin")
    b = create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))
    a = register.store
    till = Register.objects.create(code="R2", name="Musanze till", store=b)
    bea = make_user("bea", "cashier", first_name="Bea")
    StoreMembership.objects.create(user=bea, store=b)
    shift_b = open_shift(register=till, cashier=bea, opening_float=D(0))
    charger, case = shop_day["charger"], shop_day["case"]
    alice = shop_day["alice"]
    type(alice).objects.filter(pk=alice.pk).update(credit_limit=D(100000))
    for product in (charger, case):
        adjust_stock(product=product, quantity=D(5), reason="Delivery", user=owner, store=b)

    def sell(*lines, tenders, customer=None, when):
        sale = checkout(
            shift=shift_b,
            cashier=bea,
            cart=Cart([CartLine(p.pk, 1) for p in lines], customer_id=customer),
            tenders=tenders,
            idempotency_key=uuid.uuid4(),
        )
        Sale.objects.filter(pk=sale.pk).update(created_at=when, business_day=when.date())
        Payment.objects.filter(sale=sale).update(created_at=when)
        return sale

    s5 = sell(charger, case, tenders=[TenderLine("cash", D(17700))], when=at(DAY, 10, 0))
    sell(
        case,
        tenders=[TenderLine("account", D(5900))],
        customer=shop_day["alice"].pk,
        when=at(DAY, 11, 0),
    )
    s7 = sell(charger, tenders=[TenderLine("cash", D(11800))], when=at(DAY, 12, 30))
    void_sale(sale=s7, user=manager, reason="Wrong till")
    ProductDaySales.objects.all().delete()
    for each in Sale.objects.prefetch_related("lines"):
        add_sale_lines(day=each.business_day, lines=each.lines.all())
    refund = refund_sale(
        sale=s5,
        shift=shift_b,
        user=manager,
        lines=[RefundLineInput(s5.lines.get(product=case).pk, 1, restock=False)],
        reason="Cracked",
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=at(DAY, 16, 0))
    return {"a": frozenset({a.pk}), "b": frozenset({b.pk}), "store_b": b, "owner": owner}


def _by_label(rows, *keys):
    return {row["label"]: tuple(row[k] for k in keys) for row in rows}


def _added(one: dict, other: dict) -> dict:
    """Two breakdowns' rows added label by label."""
    zero = (0,) * len(next(iter(one.values())))
    return {
        label: tuple(
            x + y for x, y in zip(one.get(label, zero), other.get(label, zero), strict=True)
        )
        for label in one.keys() | other.keys()
    }


def test_each_stores_sales_add_up_to_the_consolidated_figures(two_stores):
    a, b = two_stores["a"], two_stores["b"]
    whole, in_a, in_b = (queries.sales_summary(DAY, DAY, s) for s in (None, a, b))

    assert in_a.total == D(40120)  # store A's hand-computed day, B left out
    assert (in_b.count, in_b.total, in_b.void_count, in_b.refund_total) == (
        2,
        D(23600),
        1,
        D(5900),
    )
    for field in ("count", "gross", "discounts", "tax", "total", "void_count", "void_total",
                  "refund_count", "refund_total", "refund_tax"):  # fmt: skip
        assert getattr(whole, field) == getattr(in_a, field) + getattr(in_b, field), field
    days = [queries.sales_by_period(DAY, DAY, "day", s)[0] for s in (None, a, b)]
    assert (days[0].total, days[0].refunds) == (
        days[1].total + days[2].total,
        days[1].refunds + days[2].refunds,
    )
    hours = [queries.sales_by_hour(DAY, s) for s in (None, a, b)]
    assert [h[2] for h in hours[0]] == [
        x[2] + y[2] for x, y in zip(hours[1], hours[2], strict=True)
    ]


@pytest.mark.parametrize("by", queries.BREAKDOWNS)
def test_every_breakdown_adds_up_across_the_stores(two_stores, by):
    a, b = two_stores["a"], two_stores["b"]
    keys = ("count", "total", "refund_count", "refunds", "net", "void_count", "voided")
    whole, in_a, in_b = (
        _by_label(queries.sales_breakdown(DAY, DAY, by, s), *keys) for s in (None, a, b)
    )

    assert in_b  # store B's sales are there to add
    assert whole == _added(in_a, in_b)


def test_profit_and_stock_add_up_across_the_stores(two_stores):
    a, b = two_stores["a"], two_stores["b"]
    profits = [queries.profit(DAY, DAY, "product", s)[0] for s in (None, a, b)]
    for field in ("quantity", "revenue", "cost"):
        assert getattr(profits[0], field) == getattr(profits[1], field) + getattr(profits[2], field)
    # ex VAT: a charger and two cases, less the case returned; the damaged case's cost stays
    assert profits[2].revenue == D(10000) + D(5000) + D(5000) - D(5000)
    assert profits[2].cost == D(5000) + D(2000) + D(2000)

    stock = [queries.inventory(stores=s)[0] for s in (None, a, b)]
    for field in ("units", "cost_value", "retail_value"):
        assert stock[0][field] == stock[1][field] + stock[2][field], field
    assert stock[2]["units"] == 10 - 3  # 5 + 5 delivered; S5 and S6 sold, the void put back

    owed = [queries.invoice_ageing(stores=s)[0]["total"] for s in (None, a, b)]
    assert owed == [D(5900), D(0), D(5900)]


def test_the_suspicious_activity_of_a_store_is_its_tills(two_stores):
    a, b = two_stores["a"], two_stores["b"]
    today = timezone.localdate()  # the journal has the reversals when they were made: now
    found = [suspicious.suspicious_activity(today, today, stores=s) for s in (None, a, b)]

    numbers = [{r.number for r in f.quick_reversals} for f in found]
    assert numbers[2] and not numbers[2] & numbers[1]
    assert numbers[0] == numbers[1] | numbers[2]


def _signed_in(client, username):
    client.login(username=username, password=PASSWORD)
    return client


def test_the_owner_picks_a_store_or_all_and_the_figures_follow(client, two_stores):
    owner = _signed_in(client, "owner")
    b = two_stores["store_b"]

    def net(**query):
        response = owner.get(reverse("reports:sales"), {**PERIOD, "format": "json", **query})
        assert response.status_code == 200
        (periods,) = [t for t in response.json()["tables"] if t["name"] == "periods"]
        return D(periods["footer"][-1])

    a_pk = next(iter(two_stores["a"]))
    assert net() == net(store=a_pk) + net(store=b.pk) == D(28320) + D(17700)
    page = owner.get(reverse("reports:sales"), PERIOD).content.decode()
    assert '<option value="" selected>All stores</option>' in page
    assert f'<option value="{b.pk}">Musanze</option>' in page


def test_the_dashboard_shows_the_chosen_stores_low_stock_with_its_store(
    client, make_product, register, make_user
):
    from pos.models import Store
    from pos.services.stock import adjust_stock
    from pos.services.stores import create_store

    owner = make_user("owner", "admin")
    b = create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))
    cable = make_product(stock=20, name="Cable", reorder_level=2)  # plenty in A
    adjust_stock(product=cable, quantity=D(1), reason="Delivery", user=owner, store=b)
    dashboard = _signed_in(client, "owner")

    def low(**query):
        response = dashboard.get(reverse("reports:dashboard"), {"format": "json", **query})
        (table,) = [t for t in response.json()["tables"] if t["name"] == "low-stock"]
        return table["columns"], table["rows"]

    columns, rows = low()
    assert columns == ["Product", "SKU", "Store", "On hand", "Reorder at"]
    assert [r[:3] for r in rows] == [["Cable", cable.sku, "Musanze"]]
    assert low(store=b.pk)[1] == rows
    assert low(store=register.store_id)[1] == []


def test_the_dashboard_of_a_store_shows_that_stores_sales_today(
    client, make_product, sell, make_user, manager
):
    from pos.models import Register, Store, StoreMembership
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.shifts import open_shift
    from pos.services.stock import adjust_stock
    from pos.services.stores import create_store

    owner = make_user("owner", "admin")
    b = create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))
    product = make_product(stock=5)
    adjust_stock(product=product, quantity=D(5), reason="Delivery", user=owner, store=b)
    sell((product, 1))  # 12,000 in store A
    bea = make_user("bea", "cashier")
    StoreMembership.objects.create(user=bea, store=b)
    shift_b = open_shift(
        register=Register.objects.create(code="R2", name="Musanze till", store=b),
        cashier=bea,
        opening_float=D(0),
    )
    checkout(
        shift=shift_b,
        cashier=bea,
        cart=Cart([CartLine(product.pk, 2)]),
        tenders=[TenderLine("cash", D(24000))],
        idempotency_key=uuid.uuid4(),
    )
    StoreMembership.objects.create(user=manager, store=b)  # Eric manages Musanze only
    page = _signed_in(client, "manager").get(reverse("reports:dashboard")).content.decode()

    assert "24,000 RWF" in page and "12,000 RWF" not in page
    assert '<option value="' + str(b.pk) + '">Musanze</option>' in page
    assert "All stores" not in page
    owner_page = _signed_in(client, "owner").get(reverse("reports:dashboard")).content.decode()
    assert "36,000 RWF" in owner_page


def test_a_report_asked_for_a_store_one_does_not_work_in_shows_the_form_error(
    client, make_user, manager, db
):
    from pos.models import Store, StoreMembership
    from pos.services.stores import create_store

    owner = make_user("owner", "admin")
    b = create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))
    other = create_store(user=owner, store=Store(name="Huye", code="HUY", branch_id="02"))
    StoreMembership.objects.create(user=manager, store=b)
    StoreMembership.objects.create(user=manager, store=other)
    reports = _signed_in(client, "manager")
    first = Store.objects.exclude(pk__in=[b.pk, other.pk]).get()

    page = reports.get(reverse("reports:sales"), {"store": first.pk})

    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()
    offered = reports.get(reverse("reports:sales")).content.decode()
    assert "All my stores" in offered and "All stores" not in offered
    assert f'value="{first.pk}"' not in offered


def test_goods_in_transit_are_in_the_inventory_until_received(client, two_stores, shop_day):
    """Sending takes 3 chargers off store A's stock and receiving puts 2 on B's (one lost): in
    between, the inventory shows them on their way, from A to B, in A's, B's and the whole
    business's report, and the consolidated value at cost plus what is in transit stays whole."""
    from pos.models import Store
    from pos.services.transfers import create_transfer, receive_transfer, send_transfer

    owner, b, charger = two_stores["owner"], two_stores["store_b"], shop_day["charger"]
    a_pk = next(iter(two_stores["a"]))
    client = _signed_in(client, "owner")

    def inventory(**query):
        response = client.get(reverse("reports:inventory"), {"format": "json", **query})
        assert response.status_code == 200
        tables = {t["name"]: t for t in response.json()["tables"]}
        return tables["stock"]["footer"], tables["in-transit"]

    (*_, before_cost, _retail), nothing = inventory()
    assert nothing["rows"] == [] and D(nothing["footer"][-1]) == 0
    transfer = create_transfer(source=a_pk, destination=b, lines=[(charger, 3)], user=owner)
    send_transfer(transfer=transfer, user=owner)

    for query in ({}, {"store": a_pk}, {"store": b.pk}):
        _stock, moving = inventory(**query)
        ((number, _sent, source, destination, name, _sku, units, cost),) = moving["rows"]
        assert (number, destination, name, D(units), D(cost)) == (
            transfer.number,
            "Musanze",
            "Charger",
            3,
            D(15000),
        ), query
        assert source == Store.objects.get(pk=a_pk).name
    (*_, cost_now, _retail), moving = inventory()
    assert D(cost_now) + D(moving["footer"][-1]) == D(before_cost)
    page = client.get(reverse("reports:inventory")).content.decode()
    assert "In transit between stores" in page and transfer.number in page

    line = transfer.lines.get()
    receive_transfer(transfer=transfer, received={line.pk: 2}, reason="One lost", user=owner)
    (*_, cost_after, _retail), moving = inventory()
    assert moving["rows"] == []
    assert D(cost_after) == D(before_cost) - D(5000)  # the charger lost on the way
