"""Seed a shop into the private database, and report its invariants, from a subprocess.

The test process itself stays on the suite's database; the app servers under test and these
commands talk to the private cluster (DATABASE_URL). Run as::

    python -m tests.reliability.shop seed PREFIX CASHIERS PRODUCTS STOCK   # prints JSON
    python -m tests.reliability.shop report                               # prints JSON
"""

import json
import os
import sys
from decimal import Decimal


def seed(prefix: str, cashiers: int, products: int, stock: int) -> dict:
    """Products with stock, and per cashier: a user, an API token, a register and an open shift."""
    from rest_framework.authtoken.models import Token

    from accounts import services as accounts
    from accounts.models import User
    from pos.models import Category, Register
    from pos.services.catalogue import create_product
    from pos.services.shifts import open_shift

    category = Category.objects.get_or_create(name="Chargers")[0]
    made = [
        create_product(
            initial_stock=stock,
            name=f"{prefix} charger {n}",
            sku=f"{prefix}-{n:03d}",
            category=category,
            cost_price=Decimal("6000"),
            retail_price=Decimal("12000"),
            minimum_price=Decimal("10000"),
        )
        for n in range(products)
    ]
    tills = []
    for n in range(cashiers):
        user = User.objects.create_user(username=f"{prefix}-cashier-{n}", password="x-" * 8)
        accounts.assign_role(user=user, role="cashier")
        register = Register.objects.create(code=f"{prefix}{n}"[:8], name=f"{prefix} till {n}")
        open_shift(register=register, cashier=user, opening_float=Decimal("20000"))
        tills.append({"token": Token.objects.create(user=user).key, "register": register.code})
    return {"products": [p.pk for p in made], "tills": tills}


def report() -> dict:
    """What an auditor would check after the faults: each broken rule, by name and row."""
    from django.db.models import Count, Sum

    from pos.models import Payment, Product, Register, Sale, SaleLine, StockMovement

    problems = []
    moved = dict(
        StockMovement.objects.values_list("product").annotate(total=Sum("quantity")).order_by()
    )
    for pk, stock in Product.objects.values_list("pk", "stock_on_hand"):
        if stock != (moved.get(pk) or 0):
            problems.append(f"product {pk}: stock {stock} != movements {moved.get(pk) or 0}")
    line_totals = dict(SaleLine.objects.values_list("sale").annotate(total=Sum("total")).order_by())
    paid = dict(Payment.objects.values_list("sale").annotate(total=Sum("amount")).order_by())
    for sale in Sale.objects.all():
        if sale.total != line_totals.get(sale.pk):
            problems.append(f"sale {sale.number}: total {sale.total} != lines")
        if sale.total != paid.get(sale.pk):
            problems.append(f"sale {sale.number}: total {sale.total} != payments")
        movements = StockMovement.objects.filter(
            reference_type="pos.sale", reference_id=str(sale.pk)
        ).count()
        if movements != sale.lines.count():
            problems.append(f"sale {sale.number}: {movements} movements for its lines")
    for register in Register.objects.all():
        numbers = sorted(
            int(n.rsplit("-", 1)[1])
            for n in Sale.objects.filter(register=register).values_list("number", flat=True)
        )
        if numbers != list(range(1, register.last_receipt_number + 1)):
            problems.append(f"register {register.code}: receipt numbers {numbers} have gaps")
    doubled = Sale.objects.values("idempotency_key").annotate(n=Count("id")).filter(n__gt=1)
    problems += [f"idempotency key {row['idempotency_key']} sold twice" for row in doubled]
    return {
        "problems": problems,
        "sales": {
            str(key): number
            for key, number in Sale.objects.values_list("idempotency_key", "number")
        },
        "stock": dict(Product.objects.values_list("pk", "stock_on_hand")),
    }


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.deploy_settings")
    import django

    django.setup()
    if argv[0] == "seed":
        prefix, cashiers, products, stock = argv[1], *map(int, argv[2:5])
        result = seed(prefix, cashiers, products, stock)
    else:
        result = report()
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])
