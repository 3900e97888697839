"""At the till, a product lookup shows the other stores' stock beside the local one (issue 29):
"other stores: N" is the sum of what the other active stores hold, read in the statement that
lists the matches (no query per product), and nothing is shown in a one-store shop."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pos.models import Store
from pos.services.stock import adjust_stock
from pos.services.stores import create_store

pytestmark = pytest.mark.django_db

PARTIAL = {"HTTP_X_REGISTER_PARTIAL": "1"}


@pytest.fixture
def branches(make_user):
    """Store B (active) and store C (closed): a closed store's stock is nobody's to sell."""
    owner = make_user("owner", "admin")
    b = create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))
    c = create_store(user=owner, store=Store(name="Huye", code="HUY", branch_id="02"))
    Store.objects.filter(pk=c.pk).update(is_active=False)
    return {"b": b, "c": c, "owner": owner}


def _search(till, code):
    return till.get(reverse("register:search"), {"code": code}, **PARTIAL).content.decode()


def test_the_matches_show_the_other_active_stores_stock_beside_the_local(
    till, make_product, branches
):
    charger = make_product(stock=7, name="Anker charger")
    make_product(stock=3, name="Anker cable")
    owner = branches["owner"]
    adjust_stock(
        product=charger, quantity=Decimal(40), reason="Delivery", user=owner, store=branches["b"]
    )
    adjust_stock(
        product=charger, quantity=Decimal(5), reason="Delivery", user=owner, store=branches["c"]
    )

    page = _search(till, "anker")

    charger_row = page.split("Anker charger")[1].split("</button>")[0]
    cable_row = page.split("Anker cable")[1].split("</button>")[0]
    assert "7 in stock · <span data-other-stores>other stores: 40</span>" in charger_row
    assert "3 in stock · <span data-other-stores>other stores: 0</span>" in cable_row


def test_a_one_store_shop_shows_no_other_stores(till, make_product):
    make_product(stock=7, name="Anker charger")

    page = _search(till, "anker")

    assert "7 in stock" in page
    assert "other stores" not in page


def _queries(till, code) -> int:
    with CaptureQueriesContext(connection) as done:
        till.get(reverse("register:search"), {"code": code}, **PARTIAL)
    return len(done)


def test_the_other_stores_stock_costs_no_query_per_listed_product(till, make_product, branches):
    make_product(stock=1, name="Anker cable 0")
    _search(till, "anker")  # warm the shop settings cache
    one = _queries(till, "anker")
    for n in range(1, 6):
        make_product(stock=n, name=f"Anker cable {n}")

    assert _queries(till, "anker") == one
    # session, user, permissions (PostgreSQL: read with the user), shift; the exact SKU/barcode
    # hits; the matches with both stocks (subqueries of one statement). PostgreSQL adds the
    # name search's plan choice (a sample of the names, and the planner settings in a
    # savepoint: pos.selectors).
    assert one == (6 if connection.vendor == "sqlite" else 11)
