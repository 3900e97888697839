"""The daily per-product sums the line reports read (pos.models.ProductDaySales).

Checkout adds each sale's lines to the row of (the sale's shop-local day, product) in the sale's
transaction, after the products are locked, with one upsert. Nothing else writes those rows: a
void changes only the sale's status and a refund is rows of its own, so the reports take both
out from their own (few) rows. The invariant, tested in tests/pos/test_day_sales.py: each row
equals the sum of the lines of the sales, voided or not, rung on that day for that product.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import connection

from pos.models import ProductDaySales

ZERO = Decimal(0)
COLUMNS = ("quantity", "total", "tax", "discounts", "cost")


def add_sale_lines(*, day: datetime.date, lines) -> None:
    """Add SaleLine objects (not yet or just saved) to their products' rows of `day`."""
    sums: dict[int, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO, ZERO])
    for line in lines:
        row = sums[line.product_id]
        row[0] += line.quantity
        row[1] += line.total
        row[2] += line.tax
        row[3] += line.line_discount + line.order_discount
        row[4] += line.unit_cost * line.quantity
    if not sums:
        return
    table = connection.ops.quote_name(ProductDaySales._meta.db_table)
    # In product order, like the product locks, so two checkouts never wait on each other here.
    products = sorted(sums)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(products))
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
    params = [value for pk in products for value in (day, pk, *sums[pk])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, product_id, {', '.join(COLUMNS)}) VALUES {values} "  # noqa: S608 - names are the model's own
            f"ON CONFLICT (day, product_id) DO UPDATE SET {updates}",
            params,
        )
