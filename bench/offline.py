"""Benchmark 10: an offline till's backlog syncing when the link comes back (issue 26).

    python -m bench offline [--quick]

Re-creates the bench database with 10,000 products, a cashier with an open shift and a till
device holding a reserved block of numbers; builds a backlog of 500 sales made offline (100
with --quick), 1-5 lines each, cash, as the till's outbox holds them; then sends it as the till
does (batches of 100, POST /register/offline/sync/) through the app's whole middleware stack in
this process (Django's test client, signed in as the cashier: no sockets). Timed: the whole
backlog; then the same backlog again (every sale answered "already stored", nothing written).
Checked after: exactly 500 sales, `check_stock` consistent. Target: under 60 s for 500 sales.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from bench import seed
from bench.common import Figure, print_header, print_table, recreate_database

PRODUCTS = 10_000
BATCH = 100
TARGET_SECONDS = 60


def prepare(sales: int) -> dict:
    import django

    django.setup()
    from django.test import Client
    from django.utils import timezone

    from accounts import services
    from accounts.models import User
    from pos.models import Product, Register
    from pos.services.offline import register_device, reserve_block
    from pos.services.shifts import open_shift

    seed.products(1, PRODUCTS, stock=1000)
    cashier = services.assign_role(
        user=User.objects.create_user(username="bench-offline", password=uuid.uuid4().hex),
        role="cashier",
    )
    register = Register.objects.create(code="O1", name="Offline bench till")
    shift = open_shift(register=register, cashier=cashier, opening_float=Decimal(0))
    device = register_device(register=register, user=cashier, key=uuid.uuid4())
    while device.last_reserved < sales:
        reserve_block(device=device)
    first = Product.objects.order_by("pk").values_list("pk", flat=True).first()
    prices = dict(Product.objects.values_list("pk", "retail_price"))
    rng = random.Random(26)  # noqa: S311 - bench data
    started = timezone.now() - timedelta(hours=3)
    backlog = []
    for n in range(1, sales + 1):
        lines = []
        for pk in rng.sample(range(first, first + PRODUCTS), rng.randint(1, 5)):
            quantity = rng.randint(1, 3)
            lines.append({"product": pk, "quantity": str(quantity), "price": str(prices[pk])})
        total = sum(Decimal(line["price"]) * int(line["quantity"]) for line in lines)
        backlog.append(
            {
                "key": str(uuid.uuid4()),
                "number": n,
                "shift": shift.pk,
                "sold_at": (started + timedelta(seconds=20 * n)).isoformat(),
                "prices_as_of": started.isoformat(),
                "lines": lines,
                "tenders": [{"tender": "cash", "amount": str(total)}],
            }
        )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(cashier)
    return {"client": client, "device": str(device.key), "backlog": backlog}


def push(client, device: str, backlog: list) -> tuple[float, dict]:
    counts: dict[str, int] = {}
    began = time.perf_counter()
    for start in range(0, len(backlog), BATCH):
        answer = client.post(
            "/register/offline/sync/",
            json.dumps({"device": device, "sales": backlog[start : start + BATCH]}),
            content_type="application/json",
        )
        if answer.status_code != 200:
            raise RuntimeError(f"sync answered {answer.status_code}: {answer.content[:300]!r}")
        for result in answer.json()["results"]:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
    return time.perf_counter() - began, counts


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    sales = 100 if quick else 500
    parameters = {
        "products": PRODUCTS,
        "backlog": f"{sales} offline sales of 1-5 lines, cash",
        "batch": BATCH,
        "path": "POST /register/offline/sync/, full middleware stack in-process",
    }
    print_header("offline", parameters)
    recreate_database()
    spec = prepare(sales)
    seconds, counts = push(spec["client"], spec["device"], spec["backlog"])
    again, recounts = push(spec["client"], spec["device"], spec["backlog"])

    from django.core.management import call_command

    from pos.models import Sale

    stored = Sale.objects.count()
    call_command("check_stock", verbosity=0)
    if counts.get("stored") != sales or stored != sales:
        raise RuntimeError(f"expected {sales} stored, got {counts} ({stored} sales)")
    if recounts.get("already_stored") != sales:
        raise RuntimeError(f"the retry stored something: {recounts}")
    print_table(
        ["run", "sales", "seconds", "sales/s", "answers"],
        [
            ["backlog", sales, round(seconds, 2), round(sales / seconds, 1), counts],
            ["same backlog again", sales, round(again, 2), round(sales / again, 1), recounts],
        ],
    )
    print(f"target: {sales} sales under {TARGET_SECONDS} s: {'met' if seconds < 60 else 'MISSED'}")
    return [
        Figure("offline", f"{sales}-sale backlog", round(seconds, 2), "s"),
        Figure("offline", "backlog sales/s", round(sales / seconds, 1), "sales/s", "higher"),
        Figure("offline", "same backlog again", round(again, 2), "s"),
    ], parameters
