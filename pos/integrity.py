"""The ledgers' invariants, checkable in production (the nightly job, `manage.py check_stock`):
each product's stock on hand equals the sum of its movements; each sale's payments add up to
its total (0 once voided)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from pos.models import Payment, Product, Sale, StockMovement
from pos.quantities import normalised, summed

QUANTITY = DecimalField(max_digits=14, decimal_places=3)
MONEY = DecimalField(max_digits=14, decimal_places=2)


def stock_drift():
    """(sku, name, stock on hand, ledger total) of every product whose two differ, and the
    number of products looked at."""
    ledger = (
        StockMovement.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    products = Product.objects.annotate(
        ledger=Coalesce(Subquery(ledger, output_field=QUANTITY), Value(0, output_field=QUANTITY))
    ).order_by("pk")
    drifted, total = [], 0
    for sku, name, stock, ledger_total in products.values_list(
        "sku", "name", "stock_on_hand", "ledger"
    ).iterator():
        total += 1
        ledger_total = summed(ledger_total)
        if stock != ledger_total:
            drifted.append((sku, name, stock, ledger_total))
    return drifted, total


def describe_stock_drift(row) -> str:
    sku, name, stock, ledger_total = row
    return (
        f"{sku} {name}: stock {normalised(stock)}, ledger {normalised(ledger_total)} "
        f"(drift {normalised(stock - ledger_total):+})"
    )


def payment_drift() -> list[tuple[str, Decimal, Decimal]]:
    """(sale number, expected, paid) of every sale whose own payments do not add up."""
    paid = (
        Payment.objects.filter(sale=OuterRef("pk"))
        .order_by()
        .values("sale")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    sales = Sale.objects.annotate(
        paid=Coalesce(Subquery(paid, output_field=MONEY), Value(0, output_field=MONEY))
    )
    wrong = sales.exclude(status=Sale.Status.VOIDED).exclude(paid=F("total"))
    voided = sales.filter(status=Sale.Status.VOIDED).exclude(paid=0)
    rows = [(s.number, s.total, s.paid) for s in wrong.order_by("pk")]
    rows += [(s.number, Decimal(0), s.paid) for s in voided.order_by("pk")]
    return rows
