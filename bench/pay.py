"""Benchmark: the till's pay request (HTML) beside the API sale, in-process (issue 30).

    python -m bench pay [--quick] [--profile]

The same cashier, shift and 5-line cart sold two ways, alternating, through the app's whole
middleware stack in this process (Django's test client, production settings, PostgreSQL +
Redis): `POST /api/v1/sales/` (token, JSON) and the till's `POST /register/pay/complete/`
(signed in, the cart in the session as the register leaves it, cash; answered by a redirect to
the receipt). The receipt page the browser then follows is timed too, apart. Per variant:
statements, median ms and this process's CPU per request (the machine is shared: CPU is the
figure to read). Target (issue 30): the pay request within 1.5x of the API sale. --profile:
where the till's pay request spends its CPU (cProfile, by own time).

Works in the bench database (re-created and migrated first; see bench/common.py).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import time
import uuid
from decimal import Decimal

from bench import seed
from bench.common import BASE_DIR, Figure, post_sale, print_header, print_table, recreate_database

PRODUCTS = 1000
LINES = 5
TARGET = 1.5


def _shop():
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from accounts import services
    from accounts.models import User
    from accounts.roles import Role
    from pos.models import Product, Register
    from pos.services.shifts import open_shift

    # Production settings serve static files through their manifest (the receipt's CSS).
    call_command("collectstatic", "--noinput", verbosity=0)
    seed.products(1, PRODUCTS, stock=10**8)
    first = Product.objects.get(sku=seed.sku(1)).pk
    cashier = services.assign_role(
        user=User.objects.create_user("bench-pay", password=uuid.uuid4().hex), role=Role.CASHIER
    )
    register = Register.objects.create(code="BP", name="Bench pay till")
    open_shift(register=register, cashier=cashier, opening_float=Decimal(0))
    api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cashier).key}")
    till = Client()
    till.force_login(cashier)
    return first, api, till


def run(quick: bool = False, profile: bool = False) -> tuple[list[Figure], dict]:
    sales = 100 if quick else 600
    parameters = {
        "sales": f"{sales:,} each way, alternating, {LINES} lines, cash, in this process",
        "products": f"{PRODUCTS:,}",
    }
    print_header("pay", parameters)
    recreate_database()
    first, api, till = _shop()

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pos.register.cart import SESSION_KEY

    settings.RATE_LIMITS["checkout"] = "1000000/m"  # one cashier far faster than a person

    def products(i: int) -> list[int]:
        return [first + (i * 7 + k) % PRODUCTS for k in range(LINES)]

    def api_sale(i: int) -> None:
        body = {
            "lines": [{"product": pk, "quantity": 1} for pk in products(i)],
            "tenders": [{"tender": "cash", "amount": "10000000"}],
        }
        post_sale(api, body)

    def fill_cart(i: int) -> str:
        """The cart as the register's scans leave it in the session (not timed)."""
        key = str(uuid.uuid4())
        session = till.session
        session[SESSION_KEY] = {
            "lines": [
                {"product_id": pk, "quantity": 1, "unit_price": None, "discount": "0"}
                for pk in products(i)
            ],
            "order_discount": "0",
            "customer_id": None,
            "checkout_key": key,
        }
        session.save()
        return key

    receipts: list[str] = []

    def till_sale(key: str) -> None:
        response = till.post(
            "/register/pay/complete/", {"idempotency_key": key, "cash": "10000000"}
        )
        assert response.status_code == 302 and "/receipt/" in response.url, (
            response.status_code,
            response.content[:2000],
        )
        receipts.append(response.url)

    def receipt(url: str) -> None:
        response = till.get(url)
        assert response.status_code == 200, response.status_code

    api_sale(0)  # warm both
    till_sale(fill_cart(0))
    receipt(receipts[-1])
    statements = {}
    with CaptureQueriesContext(connection) as captured:
        api_sale(1)
    statements["API sale"] = len(captured.captured_queries)
    key = fill_cart(1)
    with CaptureQueriesContext(connection) as captured:
        till_sale(key)
    statements["till pay request"] = len(captured.captured_queries)
    if os.environ.get("BENCH_PAY_SQL"):
        for query in captured.captured_queries:
            print("   ", query["sql"][:300])
    with CaptureQueriesContext(connection) as captured:
        receipt(receipts[-1])
    statements["receipt page after it"] = len(captured.captured_queries)
    if os.environ.get("BENCH_PAY_SQL"):
        for query in captured.captured_queries:
            print("   ", query["sql"][:300])

    names = list(statements)
    wall = {name: [] for name in names}
    cpu = {name: 0.0 for name in names}

    def timed(name, call, *args) -> None:
        began, began_cpu = time.perf_counter(), time.process_time()
        call(*args)
        cpu[name] += time.process_time() - began_cpu
        wall[name].append((time.perf_counter() - began) * 1000)

    for i in range(2, sales + 2):
        timed("API sale", api_sale, i)
        key = fill_cart(i)
        timed("till pay request", till_sale, key)
        timed("receipt page after it", receipt, receipts[-1])
    cpu_ms = {name: cpu[name] / sales * 1000 for name in names}
    rows = [
        [
            name,
            statements[name],
            f"{statistics.median(wall[name]):.2f}",
            f"{cpu_ms[name]:.2f}",
            f"{cpu_ms[name] / cpu_ms['API sale']:.2f}",
        ]
        for name in names
    ]
    print_table(["request", "statements", "median ms", "CPU ms", "/ API sale (CPU)"], rows)
    ratio = cpu_ms["till pay request"] / cpu_ms["API sale"]
    print(f"Till pay request / API sale, CPU: {ratio:.2f} (target at most {TARGET})\n")
    if profile:
        pay_profile, receipt_profile = cProfile.Profile(), cProfile.Profile()
        for i in range(sales + 2, sales + 2 + min(sales, 200)):
            key = fill_cart(i)
            pay_profile.runcall(till_sale, key)
            receipt_profile.runcall(receipt, receipts[-1])
        for title, profiler in (
            ("the till's pay request", pay_profile),
            ("the receipt page after it", receipt_profile),
        ):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(r"vevurn|pos/|fiscal/|accounts/", 25)
            stats.sort_stats("tottime").print_stats(15)
            print(f"Where {title} spends its CPU (cProfile):")
            print(out.getvalue().replace(str(BASE_DIR) + "/", ""))
    figures = [
        Figure("pay", "till pay request / API sale: CPU", ratio, "ratio"),
        Figure("pay", "till pay request: statements", statements["till pay request"], "count"),
        Figure("pay", "API sale: statements", statements["API sale"], "count", "info"),
    ]
    for name in names:
        figures.append(Figure("pay", f"{name}: CPU ms", cpu_ms[name], "ms", "info"))
    return figures, parameters
