"""Time product lookup and name search on 100,000 products, then roll everything back.

    DATABASE_URL=postgres://... DEBUG=1 .venv/bin/python bench/product_search.py [N]

Writes inside one transaction that is rolled back at the end: the database is left as it was.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vevurn.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from pos.barcodes import make_ean13  # noqa: E402
from pos.models import Category, Product  # noqa: E402
from pos.selectors import product_lookup, product_search  # noqa: E402

WORDS = ["Samsung", "Oraimo", "Anker", "Fast", "Charger", "Cable", "Case", "Glass", "Speaker"]


def timed(fn, repeat=50) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(n: int) -> None:
    with transaction.atomic():
        category = Category.objects.create(name="bench-category")
        Product.objects.bulk_create(
            (
                Product(
                    name=f"{WORDS[i % 9]} {WORDS[(i // 9) % 9]} model {i}",
                    sku=f"BENCH-{i:07d}",
                    barcode=make_ean13(f"9{i:011d}"),
                    category=category,
                    retail_price=1000,
                    minimum_price=1000,
                )
                for i in range(n)
            ),
            batch_size=5000,
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE pos_product")
        print(f"{connection.vendor}, {n} products")
        print(
            f"lookup by barcode: {timed(lambda: product_lookup(make_ean13('900000054321'))):.2f} ms"
        )
        print(f"lookup by SKU:     {timed(lambda: product_lookup('BENCH-0054321')):.2f} ms")
        print(
            f"name search 'model 5432': {timed(lambda: list(product_search('model 5432'))):.2f} ms"
        )
        print(
            f"name search 'anker fast': {timed(lambda: list(product_search('anker fast'))):.2f} ms"
        )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
