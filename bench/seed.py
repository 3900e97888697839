"""Seed the bench database fast, in SQL (`INSERT ... SELECT generate_series`), ledger-consistent.

Every product gets its opening stock as a receipt movement, so `check_stock` holds afterwards.
"""

# ruff: noqa: S608 - the SQL interpolates only integers computed here.
from __future__ import annotations

import time

from django.db import connection

WORDS = ["Samsung", "Oraimo", "Anker", "Fast", "Charger", "Cable", "Case", "Glass", "Speaker"]


def barcode(i: int) -> str:
    """Product i's barcode (13 digits; looked up by equality, so the check digit is not needed)."""
    return f"2{i:012d}"


def sku(i: int) -> str:
    return f"BENCH-{i:07d}"


def products(first: int, last: int, *, stock: int) -> None:
    """Products first..last (names from WORDS, as a shop's would be), each with `stock` units."""
    began = time.perf_counter()
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(
            """INSERT INTO pos_category (name, is_active) VALUES ('Bench', true)
               ON CONFLICT (name) DO NOTHING"""
        )
        cursor.execute(
            f"""INSERT INTO pos_product (name, sku, barcode, category_id, brand, model, colour,
                  cost_price, retail_price, minimum_price, unit, quantity_places, stock_on_hand,
                  reorder_level, status, created_at, updated_at)
                SELECT ({words})[1 + i % 9] || ' ' || ({words})[1 + (i / 9) % 9] || ' model ' || i,
                  'BENCH-' || lpad(i::text, 7, '0'), '2' || lpad(i::text, 12, '0'),
                  (SELECT id FROM pos_category WHERE name = 'Bench'), '', '', '',
                  500 + (i % 50) * 100, 1000 + (i % 50) * 200, 500 + (i % 50) * 100, 'piece', 0,
                  {stock}, 5,
                  'active', now(), now()
                FROM generate_series({first}, {last}) i"""
        )
        cursor.execute(
            f"""INSERT INTO pos_stockmovement (product_id, kind, quantity, stock_before,
                  stock_after, unit_cost, reason, reference_type, reference_id, reference_label,
                  created_at)
                SELECT id, 'receipt', {stock}, 0, {stock}, cost_price, 'Bench opening stock',
                  '', '', '', now()
                FROM pos_product
                WHERE sku BETWEEN 'BENCH-{first:07d}' AND 'BENCH-{last:07d}'"""
        )
        # VACUUM as autovacuum would soon after: it marks the pages all-visible, so index-only
        # scans (name search walks pos_product_active_name) need not visit the table.
        cursor.execute("VACUUM ANALYZE pos_product")
        cursor.execute("ANALYZE pos_stockmovement")
        cursor.execute("SET statement_timeout TO DEFAULT")
    count = last - first + 1
    print(f"   seeded {count:,} products in {time.perf_counter() - began:.1f} s", flush=True)
