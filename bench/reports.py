"""Benchmark 5: seed ~1,000,000 sale lines over two years, time every report, roll it back.

    python -m bench reports

Works in the bench database (re-created and migrated first; see bench/common.py). Seeds with
`INSERT ... SELECT generate_series(...)` inside one transaction (ANALYZE included, so the
planner sees the real sizes) and rolls it back at the end. Prints one line per report: the
period, the sale lines in that period, the rows the report returned, and the median time of 5
runs in ms. Target: every report under 500 ms, and time growing no faster than the rows in the
period. There is no --quick variant: the target is about this size.
"""

# ruff: noqa: S608 - the SQL interpolates only the module's own integer constants.
import datetime
import statistics
import time

import django  # noqa: E402

from bench.common import Figure, print_header, recreate_database

django.setup()  # python -m bench has pointed Django at the bench services

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from pos.reports import queries  # noqa: E402

DAYS = 730
PRODUCTS = 400
NEVER_SOLD = 20
CATEGORIES = 12
CUSTOMERS = 2000
CASHIERS = 6
LINES_PER_SALE = 3
SALES = 1_000_000 // LINES_PER_SALE + 1


class Rollback(Exception):
    pass


def seed(cursor, first_day: datetime.date) -> None:
    """Products (and a few never sold) with their stock in the till's store, cashiers,
    customers, one closed shift a day, sales with 3 lines each, a cash payment each, 1% voided,
    0.5% partly refunded, a stock movement per line, open invoices."""
    start = timezone.make_aware(datetime.datetime.combine(first_day, datetime.time(8)))
    sql = [
        f"""INSERT INTO pos_category (name, is_active)
            SELECT 'Bench category ' || c, true FROM generate_series(1, {CATEGORIES}) c""",
        f"""INSERT INTO pos_product (name, sku, category_id, brand, model, colour, cost_price,
              retail_price, minimum_price, stock_on_hand, reorder_level, status, created_at,
              updated_at)
            SELECT 'Bench product ' || p, 'BENCH-' || p,
              (SELECT min(id) FROM pos_category WHERE name LIKE 'Bench%%') + p %% {CATEGORIES},
              '', '', '', 1000 + (p %% 50) * 300, 2000 + (p %% 50) * 590,
              1500 + (p %% 50) * 300, (p * 7) %% 60, 5, 'active', now(), now()
            FROM generate_series(1, {PRODUCTS}) p""",
        # New lines on the shelf, never sold: the slow movers.
        f"""INSERT INTO pos_product (name, sku, category_id, brand, model, colour, cost_price,
              retail_price, minimum_price, stock_on_hand, reorder_level, status, created_at,
              updated_at)
            SELECT 'Bench new product ' || p, 'BENCH-NEW-' || p,
              (SELECT min(id) FROM pos_category WHERE name LIKE 'Bench%%'), '', '', '', 1000,
              2000, 1500, 10, 5, 'active', now(), now()
            FROM generate_series(1, {NEVER_SOLD}) p""",
        f"""INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
              email, is_staff, is_active, date_joined, role, must_change_password,
              preferred_language, pin, pin_failures)
            SELECT '!', false, 'bench-cashier-' || u, 'Cashier', u::text, '', false, true, now(),
              'cashier', false, '', '', 0
            FROM generate_series(1, {CASHIERS}) u""",
        f"""INSERT INTO pos_customer (name, phone, email, address, company, tin, credit_limit,
              notes, is_active, total_spent, visits, balance, created_at, updated_at, language,
              points, store_credit)
            SELECT 'Bench customer ' || c, '+25078' || lpad(c::text, 7, '0'), '', '', '', '',
              500000, '', true, 0, 0, 0, now(), now(), '', 0, 0
            FROM generate_series(1, {CUSTOMERS}) c""",
        # The till belongs to the shop's first store (the one the migrations create).
        """INSERT INTO pos_register (name, code, is_active, last_receipt_number, display_key,
             store_id)
           SELECT 'Bench till', 'BX', true, 0, '', min(id) FROM pos_store""",
        # Each product's stock is held in the till's store (the levels low stock reads).
        """INSERT INTO pos_stocklevel (product_id, store_id, on_hand, reorder_level)
           SELECT p.id, r.store_id, p.stock_on_hand, NULL
           FROM pos_product p JOIN pos_register r ON r.code = 'BX'
           WHERE p.sku LIKE 'BENCH-%%'""",
        """CREATE TEMP TABLE b AS SELECT
              (SELECT min(id) FROM pos_product WHERE sku LIKE 'BENCH-%%') AS product0,
              (SELECT min(id) FROM accounts_user WHERE username LIKE 'bench-%%') AS user0,
              (SELECT min(id) FROM pos_customer WHERE name LIKE 'Bench%%') AS customer0,
              (SELECT id FROM pos_register WHERE code = 'BX') AS register,
              (SELECT coalesce(max(id), 0) FROM pos_shift) AS shift0,
              (SELECT coalesce(max(id), 0) FROM pos_sale) AS sale0,
              %s::timestamptz AS start""",
        f"""INSERT INTO pos_shift (id, register_id, cashier_id, status, opened_at, opening_float,
              closed_at, closed_by_id, z_report, over_short, closing_note, opening_count,
              closing_count, expected, recount)
            SELECT b.shift0 + d, b.register, b.user0 + d %% {CASHIERS}, 'closed',
              b.start + (d - 1) * interval '1 day', 20000,
              b.start + (d - 1) * interval '1 day' + interval '12 hours', b.user0, '{{}}',
              (d %% 7 - 3) * 100, '', '{{}}', '{{}}', '{{}}', '{{}}'
            FROM b, generate_series(1, {DAYS}) d""",
        # Sale i falls on day (i-1)*DAYS/SALES (0 to DAYS-1), between 08:00 and 20:00.
        f"""CREATE TEMP TABLE s AS
            SELECT b.sale0 + i AS id, i,
              ((i - 1)::bigint * {DAYS}) / {SALES} AS day,
              b.start + (((i - 1)::bigint * {DAYS}) / {SALES}) * interval '1 day'
                + ((i::bigint * 7919) %% 43200) * interval '1 second' AS at
            FROM b, generate_series(1, {SALES}) i""",
        f"""INSERT INTO pos_saleline (sale_id, product_id, product_name, sku, quantity,
              shelf_price, unit_price, line_discount, order_discount, total, tax, tax_rate,
              unit_cost)
            SELECT s.id, p.id, p.name, p.sku, 1 + (s.i + k) %% 3, p.retail_price, p.retail_price,
              0, 0, p.retail_price * (1 + (s.i + k) %% 3),
              round(p.retail_price * (1 + (s.i + k) %% 3) * 18 / 118), 18, p.cost_price
            FROM s CROSS JOIN generate_series(1, {LINES_PER_SALE}) k
            JOIN b ON true
            JOIN pos_product p ON p.id = b.product0 + (s.i * 31 + k * 17) %% {PRODUCTS}""",
        # Lines first (FK checks are deferred); then the sales with their lines' sums.
        f"""INSERT INTO pos_sale (id, number, register_id, shift_id, cashier_id, customer_id,
              status, idempotency_key, request_fingerprint, subtotal, discount_total, tax_total,
              total, change_given, created_at, business_day, void_reason, receipt_prints,
              buyer_tin, purchase_code)
            SELECT s.id, 'BX-' || s.i, b.register, b.shift0 + s.day + 1,
              b.user0 + (s.day + 1) %% {CASHIERS},
              CASE WHEN s.i %% 10 = 0 THEN b.customer0 + s.i %% {CUSTOMERS} END,
              CASE WHEN s.i %% 100 = 0 THEN 'voided' ELSE 'completed' END,
              gen_random_uuid(), '', l.total, 0, l.tax, l.total, 0, s.at,
              (s.at AT TIME ZONE '{settings.TIME_ZONE}')::date, '', 0, '', ''
            FROM s JOIN b ON true JOIN (
              SELECT sale_id, sum(total) AS total, sum(tax) AS tax FROM pos_saleline
              WHERE sale_id > (SELECT sale0 FROM b) GROUP BY sale_id
            ) l ON l.sale_id = s.id""",
        # What checkout adds up as it sells: the lines per product and shop day.
        """INSERT INTO pos_productdaysales (day, product_id, quantity, total, tax, discounts,
              cost)
           SELECT sale.business_day, l.product_id, sum(l.quantity), sum(l.total), sum(l.tax),
             sum(l.line_discount + l.order_discount), sum(l.unit_cost * l.quantity)
           FROM pos_saleline l JOIN pos_sale sale ON sale.id = l.sale_id, b
           WHERE l.sale_id > b.sale0
           GROUP BY 1, 2
           ON CONFLICT (day, product_id) DO UPDATE SET
             quantity = pos_productdaysales.quantity + excluded.quantity,
             total = pos_productdaysales.total + excluded.total,
             tax = pos_productdaysales.tax + excluded.tax,
             discounts = pos_productdaysales.discounts + excluded.discounts,
             cost = pos_productdaysales.cost + excluded.cost""",
        "ANALYZE pos_sale, pos_saleline, pos_productdaysales",
        """INSERT INTO pos_payment (sale_id, shift_id, tender, amount, is_change, reference,
              created_by_id, created_at, provider)
           SELECT sale.id, sale.shift_id,
             CASE WHEN sale.id %% 3 = 0 THEN 'mobile_money' ELSE 'cash' END,
             sale.total, false, '', sale.cashier_id, sale.created_at,
             CASE WHEN sale.id %% 3 = 0 THEN 'mtn' ELSE '' END
           FROM pos_sale sale, b WHERE sale.id > b.sale0""",
        """INSERT INTO pos_stockmovement (store_id, product_id, kind, quantity, stock_before,
              stock_after, unit_cost, reason, reference_type, reference_id, reference_label,
              created_by_id, created_at)
           SELECT r.store_id, l.product_id, 'sale', -l.quantity, 0, 0, l.unit_cost, '',
             'pos.sale', l.sale_id::text, '', NULL, sale.created_at
           FROM pos_saleline l JOIN pos_sale sale ON sale.id = l.sale_id
           JOIN pos_register r ON r.id = sale.register_id, b
           WHERE l.sale_id > b.sale0""",
        """INSERT INTO pos_refund (number, sale_id, shift_id, created_by_id, created_at, reason,
              tender, total, tax_total)
           SELECT 'BXR-' || sale.id, sale.id, sale.shift_id, sale.cashier_id,
             sale.created_at + interval '1 hour', 'Bench', 'cash', l.total / l.quantity,
             round(l.total / l.quantity * 18 / 118)
           FROM pos_sale sale JOIN b ON sale.id > b.sale0
           JOIN LATERAL (SELECT * FROM pos_saleline WHERE sale_id = sale.id ORDER BY id LIMIT 1) l
             ON true
           WHERE sale.id %% 200 = 1 AND sale.status = 'completed'""",
        """INSERT INTO pos_refundline (refund_id, sale_line_id, product_id, quantity, unit_price,
              total, tax, restock)
           SELECT r.id, l.id, l.product_id, 1, r.total, r.total, r.tax_total, true
           FROM pos_refund r
           JOIN LATERAL (SELECT * FROM pos_saleline WHERE sale_id = r.sale_id ORDER BY id LIMIT 1) l
             ON true
           WHERE r.number LIKE 'BXR-%%'""",
        """INSERT INTO pos_invoice (number, customer_id, sale_id, issued_at, due_date, total,
              amount_paid, credited, status, created_by_id)
           SELECT 'BXI-' || sale.id, sale.customer_id, sale.id, sale.created_at,
             (sale.created_at + interval '30 days')::date, sale.total, 0, 0, 'sent',
             sale.cashier_id
           FROM pos_sale sale, b
           WHERE sale.id > b.sale0 AND sale.customer_id IS NOT NULL AND sale.id %% 50 = 0
             AND sale.status = 'completed'""",
        "ANALYZE",
    ]
    # Seeding a million rows takes longer than the app's statement timeout; reports do not.
    cursor.execute("SET LOCAL statement_timeout = 0")
    for i, statement in enumerate(sql):
        began = time.perf_counter()
        cursor.execute(statement, [start] if "%s" in statement else [])
        print(f"  seed step {i + 1}/{len(sql)}: {(time.perf_counter() - began):.1f} s", flush=True)
    cursor.execute("SET LOCAL statement_timeout TO DEFAULT")


def timed(fn, repeat: int = 5) -> tuple[float, int]:
    samples, rows = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        rows = _rows(result)
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), rows


def _rows(result) -> int:
    if isinstance(result, tuple) and len(result) == 2:
        result = result[1]
    if hasattr(result, "__len__"):
        return len(list(result)) if not isinstance(result, list) else len(result)
    return 1


def lines_between(cursor, start, end) -> int:
    low, high = queries.bounds(start, end)
    cursor.execute(
        "SELECT count(*) FROM pos_saleline l JOIN pos_sale s ON s.id = l.sale_id "
        "WHERE s.created_at >= %s AND s.created_at < %s",
        [low, high],
    )
    return cursor.fetchone()[0]


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    parameters = {
        "shop": f"{SALES:,} sales x {LINES_PER_SALE} lines over {DAYS} days, {PRODUCTS} products",
        "timing": "median of 5 runs per report, in one transaction rolled back at the end",
    }
    print_header("reports", parameters)
    recreate_database()
    figures: list[Figure] = []
    today = timezone.localdate()
    first_day = today - datetime.timedelta(days=DAYS - 1)
    periods = {
        "1 day": (today, today),
        "30 days": (today - datetime.timedelta(days=29), today),
        "1 year": (today - datetime.timedelta(days=364), today),
        "2 years": (first_day, today),
    }
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            began = time.perf_counter()
            print(f"Seeding {SALES:,} sales × {LINES_PER_SALE} lines over {DAYS} days...")
            seed(cursor, first_day)
            cursor.execute("SELECT count(*) FROM pos_saleline")
            print(f"Seeded in {time.perf_counter() - began:.0f} s; "
                  f"{cursor.fetchone()[0]:,} sale lines in the database.\n")  # fmt: skip
            in_period = {name: lines_between(cursor, *span) for name, span in periods.items()}
            reports = []
            for name in ("1 day", "30 days", "1 year", "2 years"):
                start, end = periods[name]
                reports += [
                    ("sales summary", name, lambda s=start, e=end: queries.sales_summary(s, e)),
                    ("profit by product", name, lambda s=start, e=end: queries.profit(s, e)),
                ]
                for by in queries.BREAKDOWNS:
                    reports.append(
                        (
                            f"by {by}",
                            name,
                            lambda s=start, e=end, b=by: queries.sales_breakdown(s, e, b),
                        )
                    )
            reports += [
                ("sales by day", "30 days", lambda: queries.sales_by_period(*periods["30 days"])),
                ("sales by week", "1 year",
                 lambda: queries.sales_by_period(*periods["1 year"], "week")),
                ("sales by month", "2 years",
                 lambda: queries.sales_by_period(*periods["2 years"], "month")),
                ("sales by hour", "1 day", lambda: queries.sales_by_hour(today)),
                ("inventory value", "now", lambda: queries.inventory()),
                ("low stock", "now", lambda: list(queries.low_stock())),
                ("slow movers 30 d", "now", lambda: list(queries.slow_movers(30))),
                ("stock movements", "all, 1 product",
                 lambda: list(queries.stock_movements(product=_a_product(), limit=200))),
                ("closed shifts", "30 days",
                 lambda: list(queries.closed_shifts(*periods["30 days"]))),
                ("invoice ageing", "now", lambda: queries.invoice_ageing()),
                ("overdue invoices", "now", lambda: list(queries.overdue_invoices())),
                ("open shifts", "now", lambda: list(queries.open_shifts())),
            ]  # fmt: skip
            print(f"{'report':<20} {'period':<16} {'lines in period':>15} {'rows':>7} {'ms':>8}")
            for report, period, fn in reports:
                ms, rows = timed(fn)
                lines = f"{in_period[period]:,}" if period in in_period else "-"
                flag = "  SLOW" if ms > 500 else ""
                print(f"{report:<20} {period:<16} {lines:>15} {rows:>7} {ms:>8.1f}{flag}")
                figures.append(Figure("reports", f"{report}, {period}: ms", ms, "ms"))
            raise Rollback
    except Rollback:
        print("\nRolled back: the database is as it was.\n")
    return figures, parameters


def _a_product():
    from pos.models import Product

    return Product.objects.filter(sku="BENCH-7").first()
