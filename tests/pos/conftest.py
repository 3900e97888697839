from decimal import Decimal
from itertools import count

import pytest

from pos.barcodes import make_ean13
from tests.support.fixtures import airtel_simulator, momo_simulator, sms_gateway  # noqa: F401

_seq = count(1)


@pytest.fixture
def category(db):
    from pos.models import Category

    return Category.objects.get_or_create(name="Chargers")[0]


@pytest.fixture
def supplier(db):
    from pos.models import Supplier

    return Supplier.objects.get_or_create(name="Kigali Tech Imports")[0]


@pytest.fixture
def make_product(db, category):
    """A product created through the catalogue service (opening stock goes through the ledger)."""
    from pos.services.catalogue import create_product

    def make(stock=0, **fields):
        n = next(_seq)
        values = {
            "name": f"Samsung 25W USB-C Charger {n}",
            "sku": f"SKU-{n:05d}",
            "barcode": make_ean13(f"600{n:09d}"),
            "category": category,
            "cost_price": Decimal("6000"),
            "retail_price": Decimal("12000"),
            "minimum_price": Decimal("10000"),
            "reorder_level": 2,
        }
        values.update(fields)
        return create_product(initial_stock=stock, **values)

    return make


@pytest.fixture
def product(make_product):
    return make_product(stock=10)


@pytest.fixture(autouse=True)
def _fresh_shop_settings_cache():
    """ShopSettings.load() caches the row; a rolled-back test must not leak it to the next."""
    from django.core.cache import cache

    from pos.models.shop import CACHE_KEY

    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


@pytest.fixture
def register(db):
    from pos.models import Register

    return Register.objects.get_or_create(code="R1", defaults={"name": "Till 1"})[0]


@pytest.fixture
def shift(register, cashier):
    from pos.services.shifts import open_shift

    return open_shift(register=register, cashier=cashier, opening_float=Decimal("20000"))


@pytest.fixture
def sell(shift, cashier):
    """Ring up a sale through the checkout service: sell((product, qty), ..., tenders=...)."""
    import uuid

    from pos.services.checkout import Cart, CartLine, TenderLine, checkout

    def ring(*items, tenders=None, order_discount=Decimal(0), customer=None, key=None, **kwargs):
        lines = [
            item if isinstance(item, CartLine) else CartLine(item[0].pk, item[1]) for item in items
        ]
        cart = Cart(lines, order_discount, customer.pk if customer else None)
        if tenders is None:
            tenders = [TenderLine("cash", Decimal(10**7))]
        return checkout(
            shift=kwargs.pop("shift", shift),
            cashier=kwargs.pop("cashier", cashier),
            cart=cart,
            tenders=tenders,
            idempotency_key=key or uuid.uuid4(),
            **kwargs,
        )

    return ring


@pytest.fixture
def scale_layouts(db):
    """The common scale label layouts, as migration 0017 installs them (a transactional test
    before this one may have emptied the table)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("pos.migrations.0017_units_variants_labels_price_lists")
    migration.install_common_layouts(apps, None)
