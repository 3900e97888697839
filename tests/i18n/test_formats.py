"""Money and dates per language on screens, receipts and reports; CSV stays machine-readable."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from pos.money import format_money
from pos.services.checkout import TenderLine

pytestmark = pytest.mark.django_db
NBSP = "\xa0"


@pytest.mark.parametrize(
    ("language", "amount", "date", "long_date"),
    [
        ("en", "1,234,500 RWF", "2026-12-03", "3 Dec 2026"),
        ("fr", f"1{NBSP}234{NBSP}500 RWF", "03/12/2026", "3 décembre 2026"),
        ("rw", f"1{NBSP}234{NBSP}500 RWF", "03/12/2026", "3 Ukuboza 2026"),
    ],
)
def test_money_and_dates_in_each_language(language, amount, date, long_date):
    day = datetime.date(2026, 12, 3)
    with translation.override(language):
        assert format_money(Decimal("1234500")) == amount
        assert date_format(day, "SHORT_DATE_FORMAT") == date
        assert date_format(day) == long_date


def test_money_with_cents_uses_the_languages_decimal_mark():
    from pos.models import ShopSettings

    shop = ShopSettings.load()
    shop.currency_code, shop.currency_decimal_places = "USD", 2
    shop.save()
    with translation.override("fr"):
        assert format_money(Decimal("1000.5")) == f"1{NBSP}000,50 USD"
    with translation.override("en"):
        assert format_money(Decimal("1000.5")) == "1,000.50 USD"


def _receipt(client, sale):
    return client.get(reverse("pos:receipt", args=[sale.pk]))


def test_the_receipt_prints_in_the_shops_language_whatever_the_screen(
    client, cashier, sell, product
):
    from pos.models import ShopSettings

    shop = ShopSettings.load()
    shop.receipt_language = "fr"
    shop.save()
    sale = sell((product, 2), tenders=[TenderLine("cash", Decimal(30000))])
    client.force_login(cashier)  # the cashier's screens are in English

    response = _receipt(client, sale)
    page = response.content.decode()
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr"' in page
    assert f"24{NBSP}000" in page and "24,000" not in page
    # The till around it stays in the cashier's language.
    assert '<html lang="en"' in client.get(reverse("accounts:home")).content.decode()


def test_the_customers_language_wins_over_the_shops(client, cashier, sell, product):
    from pos.models import Customer, ShopSettings

    shop = ShopSettings.load()
    shop.receipt_language = "fr"
    shop.save()
    alice = Customer.objects.create(name="Alice", phone="+250788000111", language="rw")
    sale = sell((product, 1), customer=alice)
    client.force_login(cashier)
    response = _receipt(client, sale)
    assert response["Content-Language"] == "rw"
    assert f"12{NBSP}000" in response.content.decode()


def test_report_pages_format_per_language_and_csv_stays_plain(client, manager, shop_day):
    manager.preferred_language = "fr"
    manager.save(update_fields=["preferred_language"])
    client.force_login(manager)
    period = {"start": "2026-03-10", "end": "2026-03-10"}

    page = client.get(reverse("reports:sales"), period).content.decode()
    assert f"40{NBSP}120" in page  # 23,600 + 16,520 on the day

    got = client.get(reverse("reports:sales"), {**period, "format": "csv"}).content.decode()
    assert NBSP not in got
    rows = list(csv.reader(io.StringIO(got)))
    day_row = next(row for row in rows if row and row[0] == "2026-03-10")
    assert "40120" in day_row
