"""Benchmark 11: what fiscal signing (issue 25) adds to a checkout through the API.

    python -m bench fiscal [--quick]

API checkouts (`POST /api/v1/sales/`, token authentication, 3 lines, cash) made in this
process through Django's test client, alternating between FISCAL_BACKEND=none and
FISCAL_BACKEND=rra-vsdc with an initialised device (no VSDC is called: checkout never calls
out; the worker is not running), so both run in one process, heap and database. Per variant:
statements per sale, median and mean ms, and this process's CPU per sale (the machine is
shared: CPU time is the figure to read). Target: at most two statements more (the device's
invoice counter and the outbox row: one statement on PostgreSQL since 6 Dec 2026) and CPU
within 10%.

Works in the bench database (re-created and migrated first; see bench/common.py).
"""

import statistics
import time
import uuid
from decimal import Decimal

import django

from bench import seed
from bench.common import Figure, post_sale, print_header, print_table, recreate_database

django.setup()  # python -m bench has pointed Django at the bench services

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

PRODUCTS = 1000
VARIANTS = ("none", "rra-vsdc")


def _till():
    from rest_framework.authtoken.models import Token

    from accounts import services
    from accounts.models import User
    from pos.models import Register
    from pos.services.shifts import open_shift

    user = User.objects.create_user(username="bench-fiscal-cashier", password=uuid.uuid4().hex)
    user = services.assign_role(user=user, role="cashier")
    register = Register.objects.create(code="F1", name="Fiscal bench till")
    open_shift(register=register, cashier=user, opening_float=Decimal(0))
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")


def _device() -> None:
    """An initialised device as fiscal_init leaves it (no VSDC needed to take sales), in the
    store the bench's till is in (the first)."""
    from fiscal.models import Device
    from pos.models.stores import default_store_pk

    Device.objects.create(
        tin="100600570",
        store_id=default_store_pk(),
        serial_number="BENCH-0001",
        sdc_id="SDC010000123",
        mrc="WIS00012345",
        initialised_at=timezone.now(),
    )


def checkout_overhead(quick: bool) -> list[Figure]:
    from pos.models import Product

    sales = 200 if quick else 1500
    seed.products(1, PRODUCTS, stock=10**8)
    first = Product.objects.get(sku=seed.sku(1)).pk
    client = _till()
    _device()
    settings.RATE_LIMITS["checkout"] = "1000000/m"  # one cashier far faster than a person

    def sell(i: int) -> None:
        body = {
            "lines": [{"product": first + (i * 7 + k) % PRODUCTS, "quantity": 1} for k in range(3)],
            "tenders": [{"tender": "cash", "amount": "10000000"}],
        }
        post_sale(client, body)

    statements = {}
    samples = {name: [] for name in VARIANTS}
    cpu = {name: 0.0 for name in VARIANTS}
    for name in VARIANTS:
        settings.FISCAL_BACKEND = name
        sell(0)  # warm
        with CaptureQueriesContext(connection) as captured:
            sell(1)
        statements[name] = len(captured.captured_queries)
    for i in range(sales * 2):
        name = VARIANTS[i % 2]
        settings.FISCAL_BACKEND = name
        began, began_cpu = time.perf_counter(), time.process_time()
        sell(i)
        samples[name].append((time.perf_counter() - began) * 1000)
        cpu[name] += time.process_time() - began_cpu
    settings.FISCAL_BACKEND = "none"
    cpu_ms = {name: cpu[name] / sales * 1000 for name in VARIANTS}
    rows = [
        [
            f"FISCAL_BACKEND={name}",
            statements[name],
            f"{statistics.median(samples[name]):.2f}",
            f"{statistics.fmean(samples[name]):.2f}",
            f"{cpu_ms[name]:.2f}",
        ]
        for name in VARIANTS
    ]
    added = statements["rra-vsdc"] - statements["none"]
    cpu_ratio = cpu_ms["rra-vsdc"] / cpu_ms["none"]
    wall_ratio = statistics.median(samples["rra-vsdc"]) / statistics.median(samples["none"])
    print(f"\nAPI checkout, {sales:,} sales of 3 lines each way, alternating, in this process:")
    print_table(
        ["checkout", "statements per sale", "median ms", "mean ms", "CPU ms per sale"], rows
    )
    print(
        f"Fiscal signing adds {added} statement(s); CPU per sale x{cpu_ratio:.3f}, median wall "
        f"time x{wall_ratio:.3f} (targets: at most 2 statements, within 10%)."
    )
    return [
        Figure("fiscal", "API checkout statements added", added, "statements"),
        Figure("fiscal", "API checkout CPU ratio (on / off)", cpu_ratio, "ratio"),
        Figure("fiscal", "API checkout median ms ratio (on / off)", wall_ratio, "ratio"),
    ]


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    parameters = {
        "checkout": "API sales of 3 lines in this process, FISCAL_BACKEND none / rra-vsdc "
        "alternating, 1,000 products",
    }
    print_header("fiscal", parameters)
    recreate_database()
    return checkout_overhead(quick), parameters
