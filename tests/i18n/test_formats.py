"""Money and dates per language on screens, receipts and reports; CSV stays machine-readable."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
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


def test_sold_quantities_follow_the_language_on_receipts_and_screens_and_csv_stays_plain(
    client, cashier, manager, sell, shift, make_product
):
    """0.75 kg of sugar, a carton of 24 soaps and sacks of 2.5 kg of rice: the receipt, the
    refund slip and the refund screen write them as the language does; the CSV keeps 0.75."""
    from pos.models import SellingUnit, ShopSettings
    from pos.services.checkout import CartLine
    from pos.services.refunds import RefundLineInput, refund_sale

    sugar = make_product(
        name="Sugar", unit="kg", quantity_places=3, retail_price=Decimal(1450),
        cost_price=Decimal(1100), minimum_price=Decimal(1300), stock=Decimal(5),
    )  # fmt: skip
    rice = make_product(
        name="Rice", unit="kg", quantity_places=1, retail_price=Decimal(1200),
        cost_price=Decimal(900), minimum_price=Decimal(1000), stock=Decimal(50),
    )  # fmt: skip
    sack = SellingUnit.objects.create(product=rice, name="Sack", factor=Decimal("2.5"))
    soap = make_product(name="Soap", retail_price=Decimal(1000), minimum_price=Decimal(0), stock=48)
    carton = SellingUnit.objects.create(product=soap, name="Carton", factor=24)
    sale = sell(
        CartLine(sugar.pk, Decimal("0.750")),
        CartLine(soap.pk, 1, selling_unit_id=carton.pk),
        CartLine(rice.pk, 2, selling_unit_id=sack.pk),
    )
    sugar_line = sale.lines.get(product=sugar)
    refund = refund_sale(
        sale=sale,
        shift=shift,
        user=cashier,
        lines=[RefundLineInput(sugar_line.pk, Decimal("0.25"))],
        reason="Wet bag",
        approved_by=manager,
    )
    shop = ShopSettings.load()
    shop.receipt_language = "fr"
    shop.save()
    client.force_login(cashier)

    receipt = _receipt(client, sale).content.decode()
    assert "0,75 kg" in receipt and "0.75 kg" not in receipt
    assert "1 x Carton (24)" in receipt
    assert "2 x Sack (2,5)" in receipt and "(2.5)" not in receipt
    slip = client.get(reverse("pos:refund_slip", args=[refund.pk])).content.decode()
    assert "0,25 kg" in slip and "0.25 kg" not in slip

    cashier.preferred_language = "fr"
    cashier.save(update_fields=["preferred_language"])
    screen = client.get(reverse("register:refund", args=[sale.pk])).content.decode()
    assert "0,75 kg" in screen  # sold
    assert "0,25 kg" in screen  # already returned
    assert "2 x Sack (2,5)" in screen
    with translation.override("en"):
        assert sugar_line.sold_as == "0.75 kg"
    with translation.override("rw"):
        assert sugar_line.sold_as == "0,75 kg"
        assert sugar.format_quantity(Decimal("4.25")) == "4,250 kg"

    manager.preferred_language = "fr"
    manager.save(update_fields=["preferred_language"])
    client.force_login(manager)
    day = timezone.localdate(sale.created_at).isoformat()
    period = {"start": day, "end": day, "by": "product"}
    page = client.get(reverse("reports:sales"), period).content.decode()
    assert '<td class="num">0,75</td>' in page and '<td class="num">0,25</td>' in page
    csv_query = {**period, "format": "csv", "table": "breakdown"}
    got = client.get(reverse("reports:sales"), csv_query).content.decode()
    sugar_row = next(row for row in csv.reader(io.StringIO(got)) if row and "Sugar" in row[0])
    assert "0.75" in sugar_row and not any("0,75" in cell for cell in sugar_row)
