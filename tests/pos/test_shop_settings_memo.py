"""The shop settings are read from the cache once per request (issue 30), never stale across
requests, and each caller's instance is its own."""

import warnings
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from pos.models import ShopSettings
from pos.models import shop as shop_module
from pos.models.shop import CACHE_KEY
from pos.services.checkout import TenderLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_reads(monkeypatch):
    """How many times the settings were read from the cache."""
    reads = []

    class Counting:
        def get(self, key, *args, **kwargs):
            if key == CACHE_KEY:
                reads.append(key)
            return cache.get(key, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(cache, name)

    monkeypatch.setattr("pos.models.shop.cache", Counting())
    return reads


# What request_started and request_finished call (sending the signals themselves would also
# close the test's database connection, as they do between real requests); the test client's
# requests below go through the signals.
@pytest.fixture
def in_request():
    shop_module._start_request_memo()
    yield
    shop_module._end_request_memo()


def test_a_receipt_page_reads_the_shop_settings_once(client, cashier, sell, product, cache_reads):
    ShopSettings.load()
    sale = sell((product, 2), tenders=[TenderLine("cash", Decimal(30000))])
    client.force_login(cashier)
    cache_reads.clear()

    page = client.get(reverse("pos:receipt", args=[sale.pk]))

    assert page.status_code == 200
    assert "24,000" in page.content.decode()  # amounts formatted in the shop's currency
    assert len(cache_reads) == 1  # 16 before: one per amount formatted


def test_each_request_reads_the_settings_afresh(client, cashier, sell, product):
    sale = sell((product, 1), tenders=[TenderLine("cash", Decimal(20000))])
    client.force_login(cashier)
    url = reverse("pos:receipt", args=[sale.pk])
    assert "My shop" in client.get(url).content.decode()

    # Changed by another process: only the cache tells this one.
    ShopSettings.objects.filter(pk=1).update(name="Kigali Accessories")
    cache.delete(CACHE_KEY)

    assert "Kigali Accessories" in client.get(url).content.decode()


def test_outside_a_request_every_load_reads_the_cache(cache_reads):
    ShopSettings.load()
    ShopSettings.load()
    assert len(cache_reads) == 2


def test_within_a_request_a_save_is_seen_by_the_next_load(in_request, cache_reads):
    shop = ShopSettings.load()
    shop.name = "Renamed"
    shop.save()
    assert ShopSettings.load().name == "Renamed"


def test_a_caller_changing_its_instance_changes_no_other_callers(in_request, cache_reads):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a copy is no unpickled instance of unknown version
        first = ShopSettings.load()
        ShopSettings.load()
    first.name = "Typed into a form that failed"  # never saved
    first.currency_decimal_places = 2

    second = ShopSettings.load()

    assert second.name == "My shop"
    assert second.currency_decimal_places == 0
    assert second is not first
    assert len(cache_reads) == 1


def test_the_memo_ends_with_the_request(cache_reads):
    shop_module._start_request_memo()
    ShopSettings.load()
    ShopSettings.load()
    shop_module._end_request_memo()
    ShopSettings.objects.filter(pk=1).update(name="After the request")
    cache.delete(CACHE_KEY)

    assert ShopSettings.load().name == "After the request"
    assert len(cache_reads) == 2
