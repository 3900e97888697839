"""The ledgers' invariants, checkable in production (the nightly job, `manage.py check_stock`):
each store's stock of each product (StockLevel.on_hand) equals the sum of that store's movements
of it, and each product's total over the stores (Product.stock_on_hand) the sum of all its
movements; each sale's payments add up to its total (0 once voided)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from pos.models import Payment, Product, Sale, StockLevel, StockMovement
from pos.quantities import normalised, summed

QUANTITY = DecimalField(max_digits=14, decimal_places=3)
MONEY = DecimalField(max_digits=14, decimal_places=2)


ALL_STORES = "all stores"


def stock_drift():
    """(sku, name, stock, ledger total, where) of every product whose total over the stores
    differs from its ledger (where: "all stores"), and of every store's level that differs from
    the store's ledger (where: the store's code); and the number of products looked at."""
    drifted, total = [], 0
    ledger = (
        StockMovement.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    products = Product.objects.annotate(ledger=_summed(ledger)).order_by("pk")
    for sku, name, stock, ledger_total in products.values_list(
        "sku", "name", "stock_on_hand", "ledger"
    ).iterator():
        total += 1
        ledger_total = summed(ledger_total)
        if stock != ledger_total:
            drifted.append((sku, name, stock, ledger_total, ALL_STORES))
    store_ledger = (
        StockMovement.objects.filter(product=OuterRef("product"), store=OuterRef("store"))
        .order_by()
        .values("product")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    levels = StockLevel.objects.annotate(ledger=_summed(store_ledger)).exclude(on_hand=F("ledger"))
    for sku, name, stock, ledger_total, where in levels.order_by("product", "store").values_list(
        "product__sku", "product__name", "on_hand", "ledger", "store__code"
    ):
        drifted.append((sku, name, stock, summed(ledger_total), where))
    return drifted, total


def _summed(subquery):
    return Coalesce(Subquery(subquery, output_field=QUANTITY), Value(0, output_field=QUANTITY))


def describe_stock_drift(row) -> str:
    sku, name, stock, ledger_total, where = row
    place = "" if where == ALL_STORES else f" in store {where}"
    return (
        f"{sku} {name}{place}: stock {normalised(stock)}, ledger {normalised(ledger_total)} "
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
