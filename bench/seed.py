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


def unit_barcode(i: int) -> str:
    """The barcode of product i's carton (every 10th product has one); no product's barcode."""
    return f"3{i:012d}"


def label(i: int) -> str:
    """A 750 g scale label (layout 21: 5-digit item code) of product i (every 10th, from the
    5th, has a scale item code: i // 10)."""
    from pos.barcodes import make_ean13

    return make_ean13(f"21{i // 10:05d}00750")


def selling_units_and_scale_codes(first: int, last: int) -> None:
    """A carton of 12 with its own barcode on every 10th product, and a scale item code on
    every 10th from the 5th (item codes stay under 100,000 up to 1,000,000 products)."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(
            f"""INSERT INTO pos_sellingunit (product_id, name, factor, barcode, price, is_active)
                SELECT p.id, 'Carton', 12, '3' || lpad(i::text, 12, '0'), NULL, true
                FROM generate_series({first}, {last}) i
                JOIN pos_product p ON p.sku = 'BENCH-' || lpad(i::text, 7, '0')
                WHERE i % 10 = 0"""
        )
        cursor.execute(
            f"""UPDATE pos_product p SET scale_code = i / 10
                FROM generate_series({first}, {last}) i
                WHERE p.sku = 'BENCH-' || lpad(i::text, 7, '0') AND i % 10 = 5"""
        )
        cursor.execute("VACUUM ANALYZE pos_product")
        cursor.execute("ANALYZE pos_sellingunit")
        cursor.execute("SET statement_timeout TO DEFAULT")
    count = (last - first + 1) // 10
    took = time.perf_counter() - began
    print(f"   {count:,} cartons and scale codes in {took:.1f} s", flush=True)


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
        # The stock is the first store's (the one the bench's tills are in); every other store
        # gets its level at 0, as a product made by the catalogue service does.
        cursor.execute(
            f"""INSERT INTO pos_stockmovement (store_id, product_id, kind, quantity, stock_before,
                  stock_after, unit_cost, reason, reference_type, reference_id, reference_label,
                  created_at)
                SELECT (SELECT min(id) FROM pos_store), id, 'receipt', {stock}, 0, {stock},
                  cost_price, 'Bench opening stock', '', '', '', now()
                FROM pos_product
                WHERE sku BETWEEN 'BENCH-{first:07d}' AND 'BENCH-{last:07d}'"""
        )
        cursor.execute(
            f"""INSERT INTO pos_stocklevel (store_id, product_id, on_hand)
                SELECT st.id, p.id,
                  CASE WHEN st.id = (SELECT min(id) FROM pos_store) THEN {stock} ELSE 0 END
                FROM pos_product p CROSS JOIN pos_store st
                WHERE p.sku BETWEEN 'BENCH-{first:07d}' AND 'BENCH-{last:07d}'
                ON CONFLICT (store_id, product_id) DO NOTHING"""
        )
        # VACUUM as autovacuum would soon after: it marks the pages all-visible, so index-only
        # scans (name search walks pos_product_active_name) need not visit the table.
        cursor.execute("VACUUM ANALYZE pos_product")
        cursor.execute("ANALYZE pos_stockmovement")
        cursor.execute("ANALYZE pos_stocklevel")
        cursor.execute("SET statement_timeout TO DEFAULT")
    count = last - first + 1
    print(f"   seeded {count:,} products in {time.perf_counter() - began:.1f} s", flush=True)
