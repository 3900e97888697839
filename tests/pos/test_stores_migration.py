"""Migrations pos 0034 and fiscal 0007 (stores) on a seeded shop: today's shop becomes the first
store, with its name, address and TIN, the fiscal device's branch id when it has one ("00"
otherwise), and every till belongs to it; the shop's settings stay where they were. Then pos
0036 (stock per store): every movement is the first store's, and its stock of each product is
what the product's stock was.

The demo shop is seeded, then pos is migrated back to 0033 (before stores, which takes fiscal's
0007 back with it), the shop is given a name, address and TIN as a shop had them then, and
everything is migrated forward again with Django's MigrationExecutor.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pos.models import Product, Register, ShopSettings, StockLevel, StockMovement, Store
from tests.pos.ledger_checks import assert_ledgers_hold

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("pos", "0033_shop_logo")]


def migrate(targets):
    """Migrate to `targets` (all apps' leaves when None); the models of every migration applied
    then (pos's at `targets`, fiscal's as far as they go without pos's later ones)."""
    executor = MigrationExecutor(connection)
    if targets is None:
        targets = executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


def shop_before_stores(*, fiscal_branch: str | None, seeded: bool) -> set[str]:
    """The shop as it was before stores; the codes of its tills."""
    if seeded:
        call_command("seed_demo", verbosity=0)
    old = migrate(BEFORE)
    shop = old.get_model("pos", "ShopSettings").objects.get_or_create(pk=1)[0]
    shop.name, shop.address, shop.tin = "Duka Letu", "KG 11 Ave, Kimironko", "101234567"
    shop.receipt_header = "Duka Letu\nKimironko market"
    shop.save()
    if fiscal_branch is not None:
        old.get_model("fiscal", "Device").objects.create(
            tin="101234567", branch_id=fiscal_branch, serial_number="VSDC-1", is_active=True
        )
    registers = old.get_model("pos", "Register").objects
    registers.create(code="R9", name="Back counter")
    return set(registers.values_list("code", flat=True))


def test_the_seeded_shop_becomes_the_first_store_with_every_till_and_its_fiscal_branch():
    tills = shop_before_stores(fiscal_branch="03", seeded=True)
    stock_before = dict(Product.objects.values_list("pk", "stock_on_hand"))
    assert len(tills) == 3  # the demo's two tills and one added before stores

    migrate(None)

    (store,) = Store.objects.all()
    assert (store.name, store.code) == ("Duka Letu", "MAIN")
    assert (store.address, store.tin) == ("KG 11 Ave, Kimironko", "101234567")
    assert store.branch_id == "03"
    assert store.receipt_header == ""  # the shop's header still prints, as before
    assert store.is_active
    assert set(Register.objects.values_list("code", flat=True)) == tills
    assert set(Register.objects.values_list("store", flat=True)) == {store.pk}
    # Stock per store: every movement and level is the first store's, each level the stock the
    # product had, and the ledger holds per store and product.
    assert set(StockMovement.objects.values_list("store", flat=True)) == {store.pk}
    levels = dict(StockLevel.objects.values_list("product", "on_hand"))
    assert levels == stock_before and len(levels) >= 300
    assert_ledgers_hold()
    shop = ShopSettings.objects.get(pk=1)  # shop-wide settings stay the shop's
    assert (shop.name, shop.tin, shop.receipt_header) == (
        "Duka Letu",
        "101234567",
        "Duka Letu\nKimironko market",
    )


def test_without_a_fiscal_device_the_first_store_is_the_head_office():
    tills = shop_before_stores(fiscal_branch=None, seeded=False)
    assert tills == {"R9"}

    migrate(None)

    (store,) = Store.objects.all()
    assert (store.name, store.branch_id) == ("Duka Letu", "00")
    assert Register.objects.get(code="R9").store == store
