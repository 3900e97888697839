"""The daily per-product sums the line reports read (pos.models.ProductDaySales).

Checkout adds each sale's lines to the row of (the sale's shop-local day, product) in the sale's
transaction, after the products are locked, with one upsert. Nothing else writes those rows: a
void changes only the sale's status and a refund is rows of its own, so the reports take both
out from their own (few) rows. The invariant, tested in tests/pos/test_day_sales.py: each row
equals the sum of the lines of the sales, voided or not, rung on that day for that product.
"""

import datetime
import functools
from collections import defaultdict
from decimal import Decimal

from django.db import connection

from pos.models import ProductDaySales
from pos.services import rows

ZERO = Decimal(0)
COLUMNS = ("quantity", "total", "tax", "discounts", "cost")


def add_sale_lines(*, day: datetime.date, lines) -> None:
    """Add SaleLine objects (not yet or just saved) to their products' rows of `day`."""
    with connection.cursor() as cursor:
        for sql, params in upserts(day=day, lines=lines):
            cursor.execute(sql, params)


def upserts(*, day: datetime.date, lines) -> list[tuple[str, list]]:
    """The statement (sql, params) that adds `lines` to their products' rows of `day`, in a
    list (empty without lines): checkout sends it with the lines' own INSERT (rows.insert's
    `along`). On PostgreSQL from one array per column, so its text is the same whatever the
    number of lines (psycopg parses it once); elsewhere a row of VALUES per product."""
    sums: dict[int, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO, ZERO])
    for line in lines:
        row = sums[line.product_id]
        row[0] += line.quantity
        row[1] += line.total
        row[2] += line.tax
        row[3] += line.line_discount + line.order_discount
        row[4] += line.unit_cost * line.quantity
    if not sums:
        return []
    # In product order, like the product locks, so two checkouts never wait on each other here.
    products = sorted(sums)
    if connection.vendor == "postgresql":
        columns = [[day] * len(products), products] + [
            [sums[pk][i] for pk in products] for i in range(len(COLUMNS))
        ]
        return [(_from_arrays(), [rows.array(tuple(column)) for column in columns])]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(products))
    params = [value for pk in products for value in (day, pk, *sums[pk])]
    return [(_upsert(f"VALUES {values}"), params)]


def _upsert(rows_sql: str) -> str:
    table = connection.ops.quote_name(ProductDaySales._meta.db_table)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
    return (
        f"INSERT INTO {table} (day, product_id, {', '.join(COLUMNS)}) {rows_sql} "  # noqa: S608 - names are the model's own
        f"ON CONFLICT (day, product_id) DO UPDATE SET {updates}"
    )


@functools.cache
def _from_arrays() -> str:
    """PostgreSQL: the upsert from one array per column, each cast to its column's type (no
    length or precision: the column rounds each value as it rounds one in VALUES)."""
    meta = ProductDaySales._meta
    types = (meta.get_field(name).db_type(connection) for name in ("day", "product", *COLUMNS))
    arrays = ", ".join(f"(%s)::{db_type.split('(')[0]}[]" for db_type in types)
    return _upsert(f"SELECT * FROM UNNEST({arrays})")  # noqa: S608 - the columns' types
