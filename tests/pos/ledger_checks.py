"""Invariants the selling tests check after every operation, and a row-count snapshot."""

from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import AuditLog
from pos.models import (
    Customer,
    HeldSale,
    Invoice,
    Payment,
    Product,
    ProductDaySales,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    StockLevel,
    StockMovement,
)
from pos.quantities import summed
from pos.reports.queries import SALE_PAYMENT


def assert_ledgers_hold():
    """stock == sum(movements) per store and product, and per product over the stores; a
    sale's payments sum to its total (0 if voided)."""
    moved = dict(
        StockMovement.objects.values_list("product")
        .annotate(total=Sum("quantity"))
        .values_list("product", "total")
    )
    for product in Product.objects.all():
        assert product.stock_on_hand == summed(moved.get(product.pk)), product
    assert_store_stock_holds()
    for sale in Sale.objects.all():
        paid = sale.payments.aggregate(total=Sum("amount"))["total"] or 0
        expected = 0 if sale.status == Sale.Status.VOIDED else sale.total + sale.cash_rounding
        assert paid == expected, sale
    for refund in Refund.objects.all():
        lines = refund.lines.aggregate(total=Sum("total"))["total"] or 0
        paid = refund.payments.aggregate(total=Sum("amount"))["total"] or 0
        assert lines == refund.total == -paid, refund
    assert_day_sales_hold()


def assert_store_stock_holds():
    """Each store's level of each product equals the sum of that store's movements of it, and
    every movement's store has a level of the product."""
    moved = {
        (row["store"], row["product"]): row["total"]
        for row in StockMovement.objects.values("store", "product").annotate(total=Sum("quantity"))
    }
    levels = {(lv.store_id, lv.product_id): lv.on_hand for lv in StockLevel.objects.all()}
    assert moved.keys() <= levels.keys()
    for key, on_hand in levels.items():
        assert on_hand == summed(moved.get(key)), key


def assert_day_sales_hold():
    """The reports' daily sums equal the lines of every sale (voided too) of that shop day and
    product; each sale's day is its shop-local date; a sale's own payments carry its time."""
    for sale in Sale.objects.all():
        assert sale.business_day == timezone.localdate(sale.created_at), sale
        own = sale.payments.filter(SALE_PAYMENT)
        assert not own.exclude(created_at=sale.created_at).exists(), sale
    expected = {
        (row["sale__business_day"], row["product"]): (
            row["q"],
            row["t"],
            row["x"],
            row["d"],
            row["c"],
        )
        for row in SaleLine.objects.values("sale__business_day", "product")
        .annotate(
            q=Sum("quantity"),
            t=Sum("total"),
            x=Sum("tax"),
            d=Sum(F("line_discount") + F("order_discount")),
            c=Sum(F("unit_cost") * F("quantity"), output_field=SaleLine._meta.get_field("total")),
        )
        .order_by()
    }
    kept = {
        (row.day, row.product_id): (row.quantity, row.total, row.tax, row.discounts, row.cost)
        for row in ProductDaySales.objects.all()
    }
    assert kept == expected


def snapshot() -> dict:
    """Row counts and mutable figures, to assert that a refused operation wrote nothing."""
    return {
        "payments": Payment.objects.count(),
        "day_sales": list(ProductDaySales.objects.order_by("pk").values_list("quantity", "total")),
        "movements": StockMovement.objects.count(),
        "refunds": Refund.objects.count(),
        "refund_lines": RefundLine.objects.count(),
        "audit": AuditLog.objects.count(),
        "held": HeldSale.objects.count(),
        "voided": Sale.objects.filter(status=Sale.Status.VOIDED).count(),
        "stock": list(Product.objects.order_by("pk").values_list("stock_on_hand", flat=True)),
        "customers": list(
            Customer.objects.order_by("pk").values_list("balance", "total_spent", "visits")
        ),
        "invoices": list(Invoice.objects.order_by("pk").values_list("status", flat=True)),
    }
