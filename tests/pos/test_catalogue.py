from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import AuditLog
from core.errors import PermissionDenied
from pos.barcodes import gs1_check_digit, make_ean13, validate_barcode
from pos.models import Product, ShopSettings
from pos.money import split_vat, to_currency
from pos.selectors import product_lookup, product_search
from pos.services.catalogue import update_product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "code", ["4006381333931", "036000291452", "96385074", "ABC-123", "12345", ""]
)
def test_valid_or_free_form_barcodes_pass(code):
    validate_barcode(code)


@pytest.mark.parametrize("code", ["4006381333932", "036000291453", "96385075"])
def test_bad_check_digit_is_refused_with_the_format_named(code):
    with pytest.raises(ValidationError, match="wrong check digit"):
        validate_barcode(code)


def test_make_ean13():
    assert make_ean13("400638133393") == "4006381333931"
    assert gs1_check_digit("03600029145") == 2


def test_money_rounds_half_up_to_currency_places():
    assert to_currency(Decimal("2.5"), 0) == Decimal("3")
    assert to_currency(Decimal("-2.5"), 0) == Decimal("-3")
    assert to_currency(Decimal("1.005"), 2) == Decimal("1.01")
    assert to_currency("3499.5") == Decimal("3500")  # shop default: RWF, 0 places
    with pytest.raises(TypeError):
        to_currency(1.5, 0)


def test_split_vat_adds_up():
    net, vat = split_vat(Decimal("11800"), Decimal("18"), 0)
    assert (net, vat) == (Decimal("10000"), Decimal("1800"))
    net, vat = split_vat(Decimal("3500"), Decimal("18"), 0)
    assert net + vat == Decimal("3500") and vat == Decimal("534")


def test_shop_settings_defaults_and_singleton():
    shop = ShopSettings.load()
    assert (shop.currency_code, shop.currency_decimal_places) == ("RWF", 0)
    assert shop.vat_rate == Decimal("18.00") and shop.prices_include_vat
    assert not shop.allow_negative_stock and shop.cashier_max_discount_percent == 10
    ShopSettings(name="Other").save()
    assert ShopSettings.objects.count() == 1
    assert ShopSettings.load().name == "Other"


def test_minimum_price_above_retail_is_refused(make_product):
    with pytest.raises(ValidationError) as exc:
        make_product(minimum_price=Decimal("13000"))
    assert "minimum_price" in exc.value.message_dict


@pytest.mark.parametrize("field", ["cost_price", "retail_price", "minimum_price"])
def test_negative_prices_are_refused(make_product, field):
    with pytest.raises(ValidationError) as exc:
        make_product(**{field: Decimal("-1")})
    assert field in exc.value.message_dict


def test_duplicate_sku_and_barcode_are_refused(make_product, product):
    with pytest.raises(ValidationError) as exc:
        make_product(sku=product.sku, barcode=product.barcode)
    assert {"sku", "barcode"} <= exc.value.message_dict.keys()
    assert Product.objects.count() == 1


def test_bad_check_digit_names_the_field(make_product):
    with pytest.raises(ValidationError) as exc:
        make_product(barcode="4006381333932")
    assert exc.value.message_dict["barcode"] == [
        "EAN-13 barcode 4006381333932 has a wrong check digit."
    ]


def test_products_without_barcode_may_coexist(make_product):
    make_product(barcode="")
    make_product(barcode=None)
    assert Product.objects.filter(barcode__isnull=True).count() == 2


def test_cost_above_retail_is_allowed_and_flagged(make_product):
    product = make_product(cost_price=Decimal("13000"))
    assert product.cost_exceeds_retail


def test_price_change_is_audited_with_strings(product, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        update_product(product=product, user=manager, retail_price=Decimal("12500"), name="New")
    entry = AuditLog.objects.get(action="product.price_changed")
    assert entry.changes == {"retail_price": ["12000.00", "12500.00"]}
    assert entry.actor == manager and entry.target_id == str(product.pk)


def test_cashier_cannot_change_products(product, cashier):
    with pytest.raises(PermissionDenied):
        update_product(product=product, user=cashier, retail_price=Decimal("1"))


def test_lookup_by_barcode_or_sku_is_one_query(product, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert product_lookup(product.barcode) == product
    with django_assert_num_queries(1):
        found = product_lookup(product.sku)
        assert found == product and found.category.name == "Chargers"
    assert product_lookup("nope") is None


def test_search_by_name(make_product):
    make_product(name="Oraimo FreePods 4 Earbuds")
    make_product(name="Anker PowerCore 10000")
    assert [p.name for p in product_search("freepods")] == ["Oraimo FreePods 4 Earbuds"]


@pytest.mark.postgres
def test_name_search_uses_trigram_index_on_postgres(make_product):
    for i in range(30):
        make_product(name=f"Cable {i}")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        # Once autovacuum has analysed the table (after other tests' churn), a full scan of the
        # name b-tree with a filter can look cheaper; only a bitmap scan can use the trigram
        # index, and SET LOCAL ends with the test's transaction.
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = Product.objects.filter(name__icontains="able 1").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "pos_product_name_trgm" in plan


def test_price_floor(product):
    from pos.errors import InvalidPrice, PriceBelowMinimum
    from pos.services.catalogue import ensure_price_allowed

    ensure_price_allowed(product=product, unit_price=Decimal("10000"))
    with pytest.raises(PriceBelowMinimum, match="cannot be sold below 10,000 RWF"):
        ensure_price_allowed(product=product, unit_price=Decimal("9999"))
    with pytest.raises(InvalidPrice):
        ensure_price_allowed(product=product, unit_price=Decimal("-1"))


def test_barcode_match_wins_over_another_products_sku(make_product):
    by_barcode = make_product(barcode="4006381333931")
    make_product(sku="4006381333931", barcode=None)
    assert product_lookup("4006381333931") == by_barcode
