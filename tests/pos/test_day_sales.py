"""The daily per-product sums the line reports read: kept by checkout, equal to the lines."""

import datetime
import importlib
from decimal import Decimal as D

from django.apps import apps

from pos.models import ProductDaySales, Sale
from pos.reports import queries
from pos.services.checkout import CartLine, TenderLine
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.voids import void_sale
from tests.pos.ledger_checks import assert_day_sales_hold


def rows():
    return sorted(
        (r.product.name, r.quantity, r.total, r.tax, r.discounts, r.cost)
        for r in ProductDaySales.objects.select_related("product")
    )


def test_checkout_adds_each_sale_to_its_products_row_of_the_day(sell, make_product, shift):
    pen = make_product(
        stock=50, name="Pen", cost_price=D(400), retail_price=D(1180), minimum_price=D(900)
    )
    ink = make_product(
        stock=50, name="Ink", cost_price=D(1000), retail_price=D(2360), minimum_price=D(2000)
    )
    sell((pen, 2), (ink, 1))
    # The same product twice in one cart, with a line discount: one row, summed.
    sell(CartLine(pen.pk, 1, discount=D(118)), (pen, 3), tenders=[TenderLine("cash", D(5000))])
    assert rows() == [
        ("Ink", 1, D(2360), D(360), D(0), D(1000)),
        # 6 pens: 7,080 less 118 off; VAT 18/118 of each line; cost 6 × 400
        ("Pen", 6, D(6962), D(1062), D(118), D(2400)),
    ]
    (day,) = set(ProductDaySales.objects.values_list("day", flat=True))
    assert day == Sale.objects.first().business_day
    assert_day_sales_hold()


def test_voids_and_refunds_leave_the_sums_and_the_reports_take_them_out(
    sell, make_product, shift, manager
):
    pen = make_product(
        stock=50, name="Pen", cost_price=D(400), retail_price=D(1180), minimum_price=D(900)
    )
    kept = sell((pen, 3))
    voided = sell((pen, 2))
    void_sale(sale=voided, user=manager, reason="Rang twice")
    refund_sale(
        sale=kept,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(kept.lines.get().pk, 1)],
        reason="Leaks",
    )
    # Every line rung today stays in the day's row: 5 pens.
    assert rows() == [("Pen", 5, D(5900), D(900), D(0), D(2000))]
    assert_day_sales_hold()
    today = kept.business_day
    completed, void = queries.line_sums(today, today, "product")
    assert (completed[pen.pk].units, completed[pen.pk].total) == (3, D(3540))
    assert (void[pen.pk].units, void[pen.pk].total) == (2, D(2360))
    (row,) = queries.sales_breakdown(today, today, "product")
    assert (row["count"], row["total"], row["refunds"], row["net"], row["voided"]) == (
        3,
        D(3540),
        D(1180),
        D(2360),
        D(2360),
    )


def test_a_refused_checkout_adds_nothing(sell, make_product, shift):
    from pos import errors

    pen = make_product(stock=1, name="Pen", retail_price=D(1180), minimum_price=D(900))
    try:
        sell((pen, 2))
    except errors.InsufficientStock:
        pass
    else:  # pragma: no cover - the shop blocks sales beyond stock by default
        raise AssertionError("sold more than in stock")
    assert rows() == []


def test_the_migration_fills_the_days_and_sums_of_existing_sales(sell, make_product, shift):
    pen = make_product(
        stock=50, name="Pen", cost_price=D(400), retail_price=D(1180), minimum_price=D(900)
    )
    sale = sell((pen, 2))
    late = datetime.datetime(2026, 3, 10, 21, 59, tzinfo=datetime.UTC)  # 23:59 in Kigali
    Sale.objects.filter(pk=sale.pk).update(created_at=late, business_day=datetime.date(2000, 1, 1))
    sale.payments.update(created_at=late)
    ProductDaySales.objects.all().delete()

    migration = importlib.import_module("pos.migrations.0006_reports_by_day")
    migration.backfill(apps, None)

    sale.refresh_from_db()
    assert sale.business_day == datetime.date(2026, 3, 10)
    assert rows() == [("Pen", 2, D(2360), D(360), D(0), D(800))]
    assert_day_sales_hold()
