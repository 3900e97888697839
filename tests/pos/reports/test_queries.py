"""Report figures against the hand-computed day in conftest.py."""

import datetime
from decimal import Decimal as D

import pytest

from pos.reports import queries
from tests.pos.reports.conftest import DAY

NEXT = DAY + datetime.timedelta(days=1)
BEFORE = DAY - datetime.timedelta(days=1)


def test_the_day_summary_counts_completed_sales_and_shows_voids_and_refunds_apart(shop_day):
    s = queries.sales_summary(DAY, DAY)
    assert s.count == 2  # S1 and S2; S3 voided, S4 is the next day
    assert s.gross == D(41300)  # 23,600 + 11,800 + 5,900
    assert s.discounts == D(1180)
    assert s.total == D(40120)
    assert s.tax == D(6120)  # VAT collected: 3,600 + 1,620 + 900
    assert (s.void_count, s.void_total) == (1, D(5900))
    assert (s.refund_count, s.refund_total, s.refund_tax) == (1, D(11800), D(1800))
    assert s.net_total == D(28320)
    assert s.net_tax == D(4320)
    assert s.average_basket == D(20060)


def test_a_sale_at_2359_kigali_is_on_that_day_and_one_after_midnight_on_the_next(shop_day):
    rows = queries.sales_by_period(BEFORE, NEXT, "day")
    assert [(r.period, r.count, r.total) for r in rows] == [
        (BEFORE, 0, D(0)),
        (DAY, 2, D(40120)),
        (NEXT, 1, D(5900)),
    ]
    assert [(r.void_count, r.refunds, r.net) for r in rows] == [
        (0, D(0), D(0)),
        (1, D(11800), D(28320)),
        (0, D(0), D(5900)),
    ]
    assert queries.sales_summary(NEXT, NEXT).total == D(5900)


def test_weeks_and_months_group_in_shop_time(shop_day):
    (week,) = queries.sales_by_period(DAY, NEXT, "week")
    assert week.period == datetime.date(2026, 3, 9)  # the Monday
    assert (week.count, week.total, week.refunds) == (3, D(46020), D(11800))
    (month,) = queries.sales_by_period(DAY, DAY, "month")
    assert (month.period, month.count) == (datetime.date(2026, 3, 1), 2)


def test_sales_by_hour_uses_kigali_hours(shop_day):
    hours = {hour: (count, total) for hour, count, total in queries.sales_by_hour(DAY) if count}
    assert hours == {9: (1, D(23600)), 23: (1, D(16520))}


COLUMNS = ("label", "count", "total", "refund_count", "refunds", "net", "void_count", "voided")


def breakdown(by, start=DAY, end=DAY):
    return [tuple(r[c] for c in COLUMNS) for r in queries.sales_breakdown(start, end, by)]


def test_breakdowns_show_refunds_and_voids_apart_and_net_of_refunds(shop_day):
    charger, case = shop_day["charger"], shop_day["case"]
    # label, sold, total, refunded, refunds, net, voided, voided amount; largest net first
    assert breakdown("product") == [
        (f"Charger ({charger.sku})", 3, D(34220), 1, D(11800), D(22420), 0, D(0)),
        (f"Case ({case.sku})", 1, D(5900), 0, D(0), D(5900), 1, D(5900)),
    ]
    assert breakdown("category") == [
        ("Chargers", 3, D(34220), 1, D(11800), D(22420), 0, D(0)),
        ("Cases", 1, D(5900), 0, D(0), D(5900), 1, D(5900)),
    ]
    # The refund was paid out of the cashier's shift, in cash, to S1's walk-in customer.
    assert breakdown("cashier") == [("cashier", 2, D(40120), 1, D(11800), D(28320), 1, D(5900))]
    assert breakdown("tender") == [
        ("Cash", 2, D(33600), 1, D(11800), D(21800), 1, D(5900)),
        ("Mobile Money", 1, D(6520), 0, D(0), D(6520), 0, D(0)),
    ]
    assert breakdown("customer") == [
        ("Alice Uwase", 1, D(16520), 0, D(0), D(16520), 0, D(0)),
        ("Walk-in customer", 1, D(23600), 1, D(11800), D(11800), 1, D(5900)),
    ]


def test_a_partial_refund_of_the_discounted_two_tender_sale_in_every_breakdown(
    shop_day, shift, manager
):
    from pos.models import Refund
    from pos.services.refunds import RefundLineInput, refund_sale
    from tests.pos.reports.conftest import at

    # S2 (Alice, 23:59): the charger sold at 10,620 after 1,180 off comes back at 16:00, and
    # is paid back to her Mobile Money.
    s2 = shop_day["sales"][1]
    refund = refund_sale(
        sale=s2,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(s2.lines.get(product=shop_day["charger"]).pk, 1)],
        reason="Wrong model",
        tender="mobile_money",
    )
    assert (refund.total, refund.tax_total) == (D(10620), D(1620))
    Refund.objects.filter(pk=refund.pk).update(created_at=at(DAY, 16, 0))
    charger, case = shop_day["charger"], shop_day["case"]
    assert breakdown("product") == [
        (f"Charger ({charger.sku})", 3, D(34220), 2, D(22420), D(11800), 0, D(0)),
        (f"Case ({case.sku})", 1, D(5900), 0, D(0), D(5900), 1, D(5900)),
    ]
    assert breakdown("cashier") == [("cashier", 2, D(40120), 2, D(22420), D(17700), 1, D(5900))]
    assert breakdown("tender") == [
        ("Cash", 2, D(33600), 1, D(11800), D(21800), 1, D(5900)),
        ("Mobile Money", 1, D(6520), 1, D(10620), D(-4100), 0, D(0)),
    ]
    assert breakdown("customer") == [
        ("Walk-in customer", 1, D(23600), 1, D(11800), D(11800), 1, D(5900)),
        ("Alice Uwase", 1, D(16520), 1, D(10620), D(5900), 0, D(0)),
    ]
    summary = queries.sales_summary(DAY, DAY)
    assert (summary.refund_total, summary.net_total) == (D(22420), D(17700))
    # Every breakdown adds up to the summary: sales, refunds, net and voids.
    for by in queries.BREAKDOWNS:
        rows = queries.sales_breakdown(DAY, DAY, by)
        sums = [sum((r[c] for r in rows), D(0)) for c in ("total", "refunds", "net", "voided")]
        assert sums == [D(40120), D(22420), D(17700), D(5900)], by
    # The next day sees only S4; the refunds and voids stay on the day they happened.
    assert breakdown("tender", NEXT, NEXT) == [("Cash", 1, D(5900), 0, D(0), D(5900), 0, D(0))]
    assert breakdown("customer", NEXT, NEXT) == [
        ("Walk-in customer", 1, D(5900), 0, D(0), D(5900), 0, D(0))
    ]


def test_a_sale_at_2359_kigali_counts_on_that_day_in_every_breakdown(shop_day):
    # S2 was rung at 23:59 Kigali time (21:59 UTC): on 10 March, not the 11th.
    s2 = shop_day["sales"][1]
    assert s2.business_day == DAY
    alice = [r for r in queries.sales_breakdown(DAY, DAY, "customer") if r["count"]]
    assert ("Alice Uwase", D(16520)) in [(r["label"], r["total"]) for r in alice]
    for by in queries.BREAKDOWNS:
        rows = queries.sales_breakdown(NEXT, NEXT, by)
        assert sum((r["total"] for r in rows), D(0)) == D(5900), by  # S4 alone


def test_profit_uses_the_cost_snapshot_and_takes_back_returns(shop_day):
    from pos.models import Product

    # Today's prices changed after the sales: the report must not notice.
    Product.objects.update(cost_price=D(1), retail_price=D(99999))
    total, rows = queries.profit(DAY, DAY, by="product")
    got = [(r.label.split(" (")[0], r.quantity, r.revenue, r.cost, r.margin) for r in rows]
    # Charger: 20,000 + 9,000 ex VAT for 3 sold, less the return (10,000; cost 5,000 restocked)
    assert got == [
        ("Charger", 2, D(19000), D(10000), D(9000)),
        ("Case", 1, D(5000), D(2000), D(3000)),
    ]
    assert (total.revenue, total.cost, total.margin) == (D(24000), D(12000), D(12000))
    assert total.margin_percent == D(50)
    assert rows[1].margin_percent == D(60)
    total, rows = queries.profit(DAY, DAY, by="category")
    assert [(r.label, r.margin) for r in rows] == [("Chargers", D(9000)), ("Cases", D(3000))]


def test_a_damaged_return_keeps_its_cost(shop_day, shift, manager):
    from pos.services.refunds import RefundLineInput, refund_sale

    s2 = shop_day["sales"][1]
    case_line = s2.lines.get(product=shop_day["case"])
    refund_sale(
        sale=s2,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(case_line.pk, 1, restock=False)],
        reason="Cracked",
    )
    today = datetime.date.today()
    total, rows = queries.profit(today, today, by="product")
    (row,) = rows
    # Revenue 5,000 ex VAT goes back; the case is thrown away, so its 2,000 cost stays.
    assert (row.quantity, row.revenue, row.cost, row.margin) == (-1, D(-5000), D(0), D(-5000))


def test_inventory_value_at_cost_and_retail(shop_day):
    totals, products = queries.inventory()
    # Charger: 20 − 3 sold + 1 returned = 18; Case: 20 − 3 sold + 1 voided = 18
    by_name = {p.name: (p.stock_on_hand, p.cost_value, p.retail_value) for p in products}
    assert by_name == {
        "Charger": (18, D(90000), D(212400)),
        "Case": (18, D(36000), D(106200)),
    }
    assert totals == {
        "products": 2,
        "units": 36,
        "cost_value": D(126000),
        "retail_value": D(318600),
    }


def test_slow_movers_are_products_in_stock_with_no_sale_in_n_days(shop_day, make_product):
    idle = make_product(stock=4, name="Idle cable")
    names = [p["name"] for p in queries.slow_movers(7, today=NEXT)]
    assert names == ["Idle cable"]
    # 30 days on, nothing has sold for 29 days: every product is a slow mover, never-sold first.
    later = [
        (p["name"], p["last_sold"]) for p in queries.slow_movers(7, today=NEXT.replace(day=30))
    ]
    assert [name for name, _ in later] == ["Idle cable", "Charger", "Case"]
    assert later[0][1] is None
    assert idle.stock_on_hand == 4


def test_stock_movement_history_filters(shop_day):
    charger = shop_day["charger"]
    history = [(m.kind, m.quantity) for m in queries.stock_movements(product=charger)]
    # newest first (movements keep their real time): the refund, S2, S1, the opening stock
    assert history == [("refund", 1), ("sale", -1), ("sale", -2), ("adjustment", 20)]
    assert [m.quantity for m in queries.stock_movements(product=charger, kind="sale")] == [-1, -2]


def test_invoice_ageing_buckets(db, manager):
    from pos.models import Customer, Invoice

    today = datetime.date(2026, 6, 30)
    bob = Customer.objects.create(name="Bob", phone="+250788000002")
    eve = Customer.objects.create(name="Eve", phone="+250788000003")

    def invoice(customer, due_days_ago, total, paid=0, status="sent"):
        return Invoice.objects.create(
            number=f"INV-{Invoice.objects.count() + 1}",
            customer=customer,
            due_date=today - datetime.timedelta(days=due_days_ago),
            total=D(total),
            amount_paid=D(paid),
            status=status,
            created_by=manager,
        )

    invoice(bob, -5, 1000)  # not yet due
    invoice(bob, 0, 2000)  # due today: current
    invoice(bob, 1, 3000, paid=500, status="partly_paid")  # 2,500 in 1–30
    invoice(bob, 30, 4000)  # 1–30
    invoice(bob, 31, 5000)  # 31–60
    invoice(eve, 61, 6000)  # 61–90
    invoice(eve, 91, 7000)  # over 90
    invoice(eve, 200, 8000, paid=8000, status="paid")  # paid: not owed
    totals, rows = queries.invoice_ageing(today)
    assert [(r["customer__name"], r["total"]) for r in rows] == [
        ("Bob", D(14500)),
        ("Eve", D(13000)),
    ]
    bob_row = rows[0]
    assert [bob_row[b] for b in queries.AGEING_BUCKETS] == [D(3000), D(6500), D(5000), D(0), D(0)]
    assert [totals[b] for b in queries.AGEING_BUCKETS] == [
        D(3000),
        D(6500),
        D(5000),
        D(6000),
        D(7000),
    ]
    assert totals["total"] == D(27500)


@pytest.mark.parametrize("grain", queries.GRAINS)
def test_period_reports_run_a_fixed_number_of_queries(shop_day, grain, django_assert_num_queries):
    with django_assert_num_queries(2):
        queries.sales_by_period(BEFORE, NEXT, grain)
