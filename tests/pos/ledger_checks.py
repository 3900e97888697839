"""Invariants the selling tests check after every operation, and a row-count snapshot."""

from django.db.models import Sum

from accounts.models import AuditLog
from pos.models import (
    Customer,
    HeldSale,
    Invoice,
    Payment,
    Product,
    Refund,
    RefundLine,
    Sale,
    StockMovement,
)


def assert_ledgers_hold():
    """stock == sum(movements) per product; a sale's payments sum to its total (0 if voided)."""
    moved = dict(
        StockMovement.objects.values_list("product")
        .annotate(total=Sum("quantity"))
        .values_list("product", "total")
    )
    for product in Product.objects.all():
        assert product.stock_on_hand == (moved.get(product.pk) or 0), product
    for sale in Sale.objects.all():
        paid = sale.payments.aggregate(total=Sum("amount"))["total"] or 0
        expected = 0 if sale.status == Sale.Status.VOIDED else sale.total
        assert paid == expected, sale
    for refund in Refund.objects.all():
        lines = refund.lines.aggregate(total=Sum("total"))["total"] or 0
        paid = refund.payments.aggregate(total=Sum("amount"))["total"] or 0
        assert lines == refund.total == -paid, refund


def snapshot() -> dict:
    """Row counts and mutable figures, to assert that a refused operation wrote nothing."""
    return {
        "payments": Payment.objects.count(),
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
