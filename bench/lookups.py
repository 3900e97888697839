"""Benchmark 3: barcode / SKU lookup and name search over 100,000 and 1,000,000 products.

    python -m bench lookups [--quick]

Re-creates the bench database, seeds 100,000 products (a carton of 12 with its own barcode on
every 10th, a scale item code on every 10th from the 5th), times the register's lookups (the
same selector functions the screens and the API call), then grows the catalogue to 1,000,000
and times them again. P50/P95 over random products and a fixed set of search words, and per word
(common words, rare ones and a word in no name plan differently). The till's scan goes through
`code_lookup`: a product's barcode or a selling unit's (one query), else a scale label (one
more: its template and product together): each is timed.
"""

from __future__ import annotations

import random
import time

from bench import seed
from bench.common import Figure, median, percentile, print_header, print_table, recreate_database

SEARCHES = ["model 5432", "anker fast", "samsung", "glass case model 77", "no such thing"]


def timed(fn, arguments) -> list[float]:
    samples = []
    for argument in arguments:
        began = time.perf_counter()
        fn(argument)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    sizes = [10_000, 100_000] if quick else [100_000, 1_000_000]
    repeat = 100 if quick else 400
    parameters = {"products": " then ".join(f"{n:,}" for n in sizes), "samples": repeat}
    print_header("lookups", parameters)
    recreate_database()

    import django

    django.setup()
    from pos.selectors import code_lookup, product_lookup, product_search

    def search(query):
        return list(product_search(query))

    rng = random.Random(7)
    figures, rows, seeded = [], [], 0
    for size in sizes:
        seed.products(seeded + 1, size, stock=100)
        seed.selling_units_and_scale_codes(seeded + 1, size)
        seeded = size
        picks = [rng.randint(1, size) for _ in range(repeat)]
        tens = [rng.randint(1, size // 10) * 10 for _ in range(repeat)]
        # What is timed must find what it looks for (a miss would be faster).
        sample = tens[0]
        assert code_lookup(seed.unit_barcode(sample)).selling_unit is not None
        assert code_lookup(seed.label(sample - 5)).label is not None
        cases = {
            "barcode": (product_lookup, [seed.barcode(i) for i in picks]),
            "SKU": (product_lookup, [seed.sku(i) for i in picks]),
            "scanned product barcode (code_lookup)": (
                code_lookup,
                [seed.barcode(i) for i in picks],
            ),
            "selling-unit barcode": (code_lookup, [seed.unit_barcode(i) for i in tens]),
            "scale label": (code_lookup, [seed.label(i - 5) for i in tens]),
            "name search": (search, [SEARCHES[i % len(SEARCHES)] for i in range(repeat)]),
        }
        for name, (fn, arguments) in cases.items():
            timed(fn, arguments[:20])  # warm the connection and the caches
            samples = timed(fn, arguments)
            p50, p95 = median(samples), percentile(samples, 0.95)
            rows.append([f"{name}, {size:,} products", p50, p95])
            figures += [
                Figure("lookups", f"{name}, {size:,} products: P50 ms", p50, "ms"),
                Figure("lookups", f"{name}, {size:,} products: P95 ms", p95, "ms"),
            ]
            if name == "name search":
                for word in SEARCHES:
                    mine = [s for s, a in zip(samples, arguments, strict=True) if a == word]
                    p50, p95 = median(mine), percentile(mine, 0.95)
                    rows.append([f"  {word!r}, {size:,} products", p50, p95])
                    figures += [
                        Figure("lookups", f"{name} {word!r}, {size:,} products: P50 ms", p50, "ms"),
                        Figure("lookups", f"{name} {word!r}, {size:,} products: P95 ms", p95, "ms"),
                    ]
    print_table(["lookup", "P50 ms", "P95 ms"], rows)
    return figures, parameters
