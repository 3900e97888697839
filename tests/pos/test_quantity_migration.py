"""Migration 0013 (decimal quantities) on a copy of a seeded shop: every value is kept.

The demo shop is seeded and sells, refunds, counts and receives; the pos app is then migrated
back to 0012 (whole-number columns) and forward again. Every quantity reads back the same, and
every product is a whole "piece" with 0 decimal places.
"""

import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from pos.models import Product, Register, Shift
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.refunds import RefundLineInput, refund_sale

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = {
    "pos_product": ["stock_on_hand", "reorder_level"],
    "pos_stockmovement": ["quantity", "stock_before", "stock_after"],
    "pos_saleline": ["quantity"],
    "pos_refundline": ["quantity"],
    "pos_productdaysales": ["quantity"],
    "pos_stockcountline": ["expected_quantity", "counted_quantity"],
    "pos_purchaseorderline": ["quantity_ordered", "quantity_received"],
    "pos_lowstockalert": ["stock_on_hand", "reorder_level"],
}


def quantities() -> dict:
    found = {}
    with connection.cursor() as cursor:
        for table, columns in COLUMNS.items():
            cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id")  # noqa: S608
            found[table] = [tuple(Decimal(str(v)) for v in row) for row in cursor.fetchall()]
    return found


def test_the_migration_keeps_every_quantity_of_a_seeded_shop(manager, cashier):
    call_command("seed_demo", verbosity=0)
    # Three products the seeded shop still has two of (how much is left depends on the day the
    # demo's 90 days of trading end).
    products = list(Product.objects.filter(stock_on_hand__gte=2).order_by("pk")[:3])
    assert len(products) == 3
    shift = Shift.objects.create(
        register=Register.objects.first(), cashier=cashier, opening_float=Decimal(50000)
    )
    sale = checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(p.pk, 2) for p in products]),
        tenders=[TenderLine("cash", Decimal(10**7))],
        idempotency_key=uuid.uuid4(),
    )
    refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(sale.lines.order_by("pk").first().pk, 1)],
        reason="Wrong colour",
    )
    before = quantities()
    assert sum(len(rows) for rows in before.values()) > 200

    call_command("migrate", "pos", "0012_shared_till", verbosity=0)
    assert quantities() == before
    call_command("migrate", verbosity=0)

    assert quantities() == before
    assert set(Product.objects.values_list("unit", "quantity_places").distinct()) == {("piece", 0)}
