"""Name search (pos.selectors.product_search): what the register's pick list shows, and the plan
that keeps it fast on PostgreSQL."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from pos import selectors
from pos.models import Product, ProductStatus
from pos.selectors import product_search

pytestmark = pytest.mark.django_db


def names(products):
    return [p.name for p in products]


def test_first_matches_by_name_active_only(make_product):
    for name in ["USB-C Cable 2m", "Anker Cable 1m", "Oraimo Charger", "Lightning cable", "Cable"]:
        make_product(name=name)
    make_product(name="Aaa Cable (old)", status=ProductStatus.DISCONTINUED)
    make_product(name="Aab Cable (hidden)", status=ProductStatus.INACTIVE)

    assert names(product_search("CABLE")) == [
        "Anker Cable 1m",
        "Cable",
        "Lightning cable",
        "USB-C Cable 2m",
    ]
    assert names(product_search("cable", limit=2)) == ["Anker Cable 1m", "Cable"]
    assert names(product_search("cable", active_only=False, limit=3)) == [
        "Aaa Cable (old)",
        "Aab Cable (hidden)",
        "Anker Cable 1m",
    ]
    assert names(product_search("no such thing")) == []


def test_exact_sku_or_barcode_joins_the_name_matches_in_name_order(make_product):
    make_product(name="Case A")
    make_product(name="Case C")
    by_sku = make_product(name="Anker PowerCore", sku="CASE")
    by_barcode = make_product(name="Case B glass", barcode="4006381333931")
    make_product(name="Zebra speaker ZEB-1", sku="ZEB-1")
    # SKUs and barcodes match exactly, names whatever the case
    assert names(product_search("case")) == ["Case A", "Case B glass", "Case C"]

    assert names(product_search("CASE")) == ["Anker PowerCore", "Case A", "Case B glass", "Case C"]
    assert list(product_search("4006381333931")) == [by_barcode]
    # found by SKU and by name: listed once
    assert names(product_search("ZEB-1")) == ["Zebra speaker ZEB-1"]
    # an exact hit takes its place by name like any match: past the limit it is left out
    assert names(product_search("CASE", limit=2)) == ["Anker PowerCore", "Case A"]
    by_sku.name = "Zz last"
    by_sku.save()
    assert names(product_search("CASE", limit=3)) == ["Case A", "Case B glass", "Case C"]


def test_exact_hit_on_an_inactive_product_is_left_out(make_product):
    make_product(name="Old charger", sku="OLD-1", status=ProductStatus.DISCONTINUED)
    assert names(product_search("OLD-1")) == []
    assert names(product_search("OLD-1", active_only=False)) == ["Old charger"]


def test_same_names_come_in_the_order_they_were_created(make_product):
    first, second = make_product(name="Glass"), make_product(name="Glass")
    make_product(name="Glass")
    assert list(product_search("glass", limit=2)) == [first, second]


def test_empty_query_lists_the_first_active_products(make_product):
    make_product(name="B")
    make_product(name="A")
    make_product(name="0 gone", status=ProductStatus.INACTIVE)
    assert names(product_search("  ")) == ["A", "B"]


def reference(query, limit=20):
    """What the search has always meant, in one plain query."""
    return list(
        Product.objects.filter(status=ProductStatus.ACTIVE)
        .filter(Q(name__icontains=query) | Q(sku=query) | Q(barcode=query))
        .order_by("name", "pk")[:limit]
    )


def test_category_comes_with_the_products(make_product, django_assert_max_num_queries):
    for i in range(3):
        make_product(name=f"Speaker {i}")
    # SQLite: the exact SKU/barcode hits, then the products; PostgreSQL adds the name sample
    # and the plan settings around the ids (in a savepoint)
    most = 2 if connection.vendor == "sqlite" else 8
    with django_assert_max_num_queries(most):
        found = list(product_search("speaker"))
        assert [p.category.name for p in found] == ["Chargers"] * 3
    with django_assert_max_num_queries(1):
        assert len(list(product_search(""))) == 3


@pytest.fixture
def catalogue(category):
    """500 active cables and chargers, analysed, so the planner weighs the indexes as on a real
    catalogue."""
    Product.objects.bulk_create(
        Product(
            name=f"{'Cable' if i % 2 else 'Charger'} {i}",
            sku=f"CAB-{i}",
            barcode=f"7{i:012d}",
            category=category,
            retail_price=Decimal(1000),
            minimum_price=Decimal(900),
        )
        for i in range(500)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE pos_product")


WORDS = ["cable", "CHARGER 1", "able 4", "r 49", "e", "CAB-7", "7000000000008", "nothing", "4"]


@pytest.mark.parametrize("limit", [1, 8, 20])
def test_same_as_one_plain_query(catalogue, limit):
    for word in WORDS:
        assert list(product_search(word, limit=limit)) == reference(word, limit), word


@pytest.mark.postgres
@pytest.mark.parametrize("frequency", ["common", "rare"])
def test_both_plans_find_the_same(catalogue, monkeypatch, frequency):
    monkeypatch.setattr(selectors, "name_frequency", lambda query: frequency)
    for word in WORDS:
        assert list(product_search(word)) == reference(word), word


@pytest.mark.postgres
def test_how_common_a_word_is_comes_from_a_sample(catalogue):
    # a sample of 2,000 names is the whole of this small table
    assert selectors.name_frequency("CABLE") == "common"
    assert selectors.name_frequency("charger 42") == "common"  # 11 of 500
    assert selectors.name_frequency("charger 420") == "rare"  # 1 of 500
    assert selectors.name_frequency("nothing") == "rare"


def _ids_query_and_plan(query, *more_settings):
    """The query that picked the ids, and its plan under the settings it ran with."""
    with CaptureQueriesContext(connection) as ran:
        list(product_search(query))
    statements = [q["sql"] for q in ran.captured_queries]
    (settings,) = [sql for sql in statements if sql.startswith("SET ")]
    ids_query = statements[statements.index(settings) + 1]
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in [*settings.split("; "), *more_settings]:
            cursor.execute(setting.replace("SET ", "SET LOCAL "))
        cursor.execute("EXPLAIN " + ids_query)
        return settings, "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_common_word_walks_the_active_name_index(catalogue):
    """The ids come from the (name, id) index in name order, from the index alone once VACUUM
    has marked the table's pages all-visible: no sort of all the matches, and no SKU/barcode
    condition that would need the table's rows for every name passed."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pos_product")
    settings, plan = _ids_query_and_plan("able 1")
    assert "enable_bitmapscan = off" in settings
    assert "Index Only Scan using pos_product_active_name" in plan
    assert "((upper((name)::text)) ~~" in plan  # the UPPER(name) kept in the index, not computed
    assert "Sort" not in plan
    assert "sku" not in plan and "barcode" not in plan


@pytest.mark.postgres
def test_rare_word_uses_the_trigram_index_with_the_exact_hit(catalogue, make_product):
    """The trigram index finds the few name matches; the exact SKU hit joins them by id."""
    speaker = make_product(name="Speaker", sku="SPK-1")
    # a table this small is cheaper to read whole; a catalogue is not
    settings, plan = _ids_query_and_plan("SPK-1", "SET enable_seqscan = off")
    assert "enable_indexscan = off" in settings
    assert "Bitmap Index Scan on pos_product_name_trgm" in plan
    assert f"(id = {speaker.pk})" in plan


@pytest.mark.postgres
def test_plan_settings_are_put_back(catalogue):
    list(product_search("cable"))
    list(product_search("nothing"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan'),"
            " current_setting('enable_indexscan'), current_setting('enable_indexonlyscan')"
        )
        assert cursor.fetchone() == ("on", "on", "on", "on")


@pytest.mark.postgres
def test_the_product_table_is_vacuumed_after_a_thousand_changes():
    # The index-only name walk needs all-visible pages; stock changes clear them until a vacuum.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'pos_product'::regclass")
        (options,) = cursor.fetchone()

    assert "autovacuum_vacuum_threshold=1000" in options
    assert "autovacuum_vacuum_scale_factor=0" in options
