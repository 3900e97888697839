"""Benchmark 7: the till's pages, in-process, with 100,000 products in the catalogue.

    python -m bench till [--quick]

Re-creates the bench database, seeds 100,000 products (--quick: 10,000) in a few categories, a
cashier with an open shift and a cart of 5 lines, a customer who owes on account, and a sale to
return; then times each page of the till through the app's whole WSGI stack in one process
(bench/inprocess.py: no sockets), signed in as that cashier. Target (issue 20): every till page
under 150 ms of server time at P95.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from bench import seed
from bench.common import (
    Figure,
    median,
    percentile,
    print_header,
    print_table,
    recreate_database,
    run_inprocess,
)

TARGET_MS = 150
CATEGORIES = 8


def prepare(size: int) -> dict:
    """Seed the catalogue and the shop; return the paths to time and the session cookie."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.backends.base import SessionBase
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts import services
    from accounts.models import User
    from accounts.roles import Role
    from pos.models import Category, Customer, Product, Register
    from pos.register.cart import SESSION_KEY
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.shifts import open_shift

    # Production settings serve static files through their manifest: build it once.
    call_command("collectstatic", "--noinput", verbosity=0)
    seed.products(1, size, stock=100)
    bench = Category.objects.get(name="Bench")
    with connection.cursor() as cursor:  # spread the products over a few categories
        for c in range(1, CATEGORIES):
            other = Category.objects.create(name=f"Bench {c}")
            cursor.execute(
                "UPDATE pos_product SET category_id = %s WHERE id %% %s = %s",
                [other.pk, CATEGORIES, c],
            )
        cursor.execute("VACUUM ANALYZE pos_product")

    cashier = services.assign_role(
        user=User.objects.create_user("bench-till", password=None), role=Role.CASHIER
    )
    register = Register.objects.create(code="BT", name="Bench till")
    shift = open_shift(register=register, cashier=cashier, opening_float=Decimal(20000))
    products = list(Product.objects.order_by("pk")[:5])
    customer = Customer.objects.create(
        name="Bench customer", phone="+250788999000", credit_limit=Decimal(10**7)
    )
    sale = checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(p.pk, 1) for p in products], customer_id=customer.pk),
        tenders=[TenderLine("account", sum((p.retail_price for p in products), Decimal(0)))],
        idempotency_key=uuid.uuid4(),
    )

    client = Client()
    client.force_login(cashier)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    session: SessionBase = client.session
    session[SESSION_KEY] = {
        "lines": [
            {"product_id": p.pk, "quantity": 2, "unit_price": None, "discount": "0"}
            for p in products
        ],
        "order_discount": "0",
        "customer_id": customer.pk,
        "checkout_key": str(uuid.uuid4()),
    }
    session.save()
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
        "paths": {
            "register (cart of 5)": "/register/",
            "register, a category's tiles": f"/register/?category={bench.pk}",
            "name search 'samsung' (count, more)": "/register/search/?code=samsung",
            "name search 'model 5432'": "/register/search/?code=model+5432",
            "payment": "/register/pay/",
            "returns: by receipt number": f"/register/returns/?q={sale.number}&amount=1",
            "returns: by phone": "/register/returns/?q=0788999000",
            "refund form": f"/register/sales/{sale.pk}/refund/",
            "account: statement and payment": f"/register/account/{customer.pk}/",
            "receipt": f"/pos/sales/{sale.pk}/receipt/",
            "sales history": "/register/history/",
            "shift & close": "/register/shift/",
        },
    }


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    size = 10_000 if quick else 100_000
    requests = 20 if quick else 100
    parameters = {"products": f"{size:,}", "requests per page": requests, "target P95 ms": 150}
    print_header("till", parameters)
    recreate_database()
    prepared = prepare(size)
    paths = prepared["paths"]
    result = run_inprocess(
        {
            "paths": list(paths.values()),
            "requests": requests,
            "warmup": 5,
            "headers": {"Cookie": prepared["cookie"], "X-Register-Partial": ""},
        }
    )
    figures, rows = [], []
    for name, path in paths.items():
        status = result["status"][path]
        if status != 200:
            raise SystemExit(f"{name} ({path}) answered {status}")
        samples = [us / 1000 for us in result["samples"][path]]
        p50, p95 = median(samples), percentile(samples, 0.95)
        rows.append([name, f"{p50:.1f}", f"{p95:.1f}", "yes" if p95 < TARGET_MS else "NO"])
        figures.append(Figure("till", f"{name} P95", round(p95, 2), "ms"))
    print_table(["page", "P50 ms", "P95 ms", f"< {TARGET_MS} ms"], rows)
    return figures, parameters
