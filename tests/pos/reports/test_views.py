"""Report pages: managers only, the hand-computed figures on screen and in the CSV exports."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.pos.reports.conftest import DAY

PERIOD = {"start": DAY.isoformat(), "end": DAY.isoformat()}


@pytest.fixture
def manager_client(client, manager):
    client.login(username="manager", password=PASSWORD)
    return client


def rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize(
    "name", ["dashboard", "sales", "profit", "inventory", "shifts", "customers"]
)
def test_cashiers_may_not_see_reports(client, cashier, name):
    client.login(username="cashier", password=PASSWORD)
    assert client.get(reverse(f"reports:{name}")).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 302 and "next=/reports/" in response["Location"]


def test_managers_see_a_reports_link_on_the_home_page(client, manager, cashier):
    client.login(username="manager", password=PASSWORD)
    assert b'href="/reports/"' in client.get(reverse("accounts:home")).content
    client.login(username="cashier", password=PASSWORD)
    assert b'href="/reports/"' not in client.get(reverse("accounts:home")).content


def test_sales_page_shows_the_day_with_currency_and_vat(manager_client, shop_day):
    page = manager_client.get(reverse("reports:sales"), {**PERIOD, "by": "tender"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "40,120 RWF" in text  # sales
    assert "4,320 RWF" in text  # VAT collected, net of the refund's 1,800
    assert "1 · 11,800 RWF" in text  # refunds
    assert "1 · 5,900 RWF" in text  # voided
    assert "28,320 RWF" in text  # net
    assert "<svg" in text and "Sales by day" in text


def test_sales_csv_by_day_and_by_tender(manager_client, shop_day):
    url = reverse("reports:sales")
    period = {"start": (DAY - datetime.timedelta(days=1)).isoformat(), "end": PERIOD["end"]}
    got = rows(manager_client.get(url, {**period, "format": "csv", "table": "periods"}))
    assert got == [
        ["Day", "Sales", "Total (RWF)", "VAT (RWF)", "Voided", "Refunds (RWF)", "Net (RWF)"],
        ["2026-03-09", "0", "0", "0", "0", "0", "0"],
        ["2026-03-10", "2", "40120", "6120", "1", "11800", "28320"],
        ["Total", "2", "40120", "6120", "1", "11800", "28320"],
    ]
    got = rows(manager_client.get(url, {**PERIOD, "by": "tender", "format": "csv",
                                        "table": "breakdown"}))  # fmt: skip
    assert got == [
        ["Tender", "Payments", "Total (RWF)", "Refunds", "Refunded (RWF)", "Net (RWF)", "Voids",
         "Voided (RWF)"],
        ["Cash", "2", "33600", "1", "11800", "21800", "1", "5900"],
        ["Mobile Money", "1", "6520", "0", "0", "6520", "0", "0"],
        ["Total", "", "40120", "", "11800", "28320", "", "5900"],
    ]  # fmt: skip


@pytest.mark.parametrize("by", ["product", "category", "cashier", "tender", "customer"])
def test_the_page_the_csv_and_the_api_show_the_same_breakdown(
    manager_client, shop_day, manager, by
):
    from rest_framework.test import APIClient

    query = {**PERIOD, "by": by}
    page = manager_client.get(reverse("reports:sales"), query).content.decode()
    got = rows(manager_client.get(reverse("reports:sales"),
                                  {**query, "format": "csv", "table": "breakdown"}))  # fmt: skip
    api = APIClient()
    api.force_authenticate(manager)
    tables = api.get("/api/v1/reports/sales/", query).json()["tables"]
    (table,) = [t for t in tables if t["name"] == "breakdown"]
    header, body = got[0], got[1:]
    assert table["columns"] == header
    assert [[str(cell) for cell in row] for row in table["rows"]] == body[:-1]
    assert [str(cell) for cell in table["footer"]] == body[-1]
    # The footer: sales, refunds, net and voids of the day, as the summary cards say.
    assert body[-1][2::] == ["40120", "", "11800", "28320", "", "5900"]
    for row in body:  # each figure on the page, as the page writes money
        for cell in row[2:]:
            if cell and cell != "0":
                assert f"{int(cell):,}" in page, (by, row)


def test_profit_csv(manager_client, shop_day):
    got = rows(manager_client.get(reverse("reports:profit"), {**PERIOD, "format": "csv"}))
    charger, case = shop_day["charger"].sku, shop_day["case"].sku
    assert got == [
        ["Product", "Units", "Revenue ex VAT (RWF)", "Cost (RWF)", "Gross margin (RWF)", "Margin"],
        [f"Charger ({charger})", "2", "19000", "10000", "9000", "47.4"],
        [f"Case ({case})", "1", "5000", "2000", "3000", "60.0"],
        ["Total", "3", "24000", "12000", "12000", "50.0"],
    ]


def test_csv_cells_that_look_like_formulas_are_quoted(manager_client, shop_day):
    from pos.models import Customer

    Customer.objects.filter(pk=shop_day["alice"].pk).update(name="=HYPERLINK(evil)")
    got = rows(manager_client.get(reverse("reports:sales"),
                                  {**PERIOD, "by": "customer", "format": "csv",
                                   "table": "breakdown"}))  # fmt: skip
    assert ["'=HYPERLINK(evil)", "1", "16520", "0", "0", "16520", "0", "0"] in got


def test_a_bad_period_names_the_field(manager_client, db):
    page = manager_client.get(
        reverse("reports:sales"), {"start": "2026-03-10", "end": "2026-03-01"}
    )
    assert page.status_code == 400
    assert "The end date is before the start date." in page.content.decode()
    page = manager_client.get(reverse("reports:sales"), {"start": "yesterday"})
    assert page.status_code == 400 and "Enter a valid date." in page.content.decode()
    page = manager_client.get(reverse("reports:sales"), {"start": "2024-01-01", "grain": "day"})
    assert page.status_code == 400 and "too long to show by day" in page.content.decode()
    page = manager_client.get(reverse("reports:sales"), {"start": "2024-01-01", "grain": "month"})
    assert page.status_code == 200


def test_dashboard_shows_today(manager_client, sell, product):
    sell((product, 2))
    page = manager_client.get(reverse("reports:dashboard"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "24,000 RWF" in text  # 2 × 12,000
    # gross margin ex VAT: 24,000 − VAT 3,661 − cost 12,000
    assert "8,339 RWF · 41.0 %" in text
    assert text.count("<svg") == 2


def test_inventory_and_customers_pages(manager_client, shop_day):
    page = manager_client.get(reverse("reports:inventory"), {"days": 7})
    assert "126,000 RWF" in page.content.decode()  # value at cost
    got = rows(manager_client.get(reverse("reports:inventory"), {"format": "csv"}))
    assert got[-1] == ["Total (2 products)", "", "", "36", "126000", "318600"]
    page = manager_client.get(reverse("reports:customers"), PERIOD)
    assert "Alice Uwase" in page.content.decode()


def test_shift_list_and_z_report(manager_client, shop_day, shift, manager):
    from decimal import Decimal

    from pos.services.shifts import close_shift, expected_cash

    close_shift(shift=shift, counted={"cash": expected_cash(shift) - Decimal(500)}, user=manager)
    page = manager_client.get(reverse("reports:shifts"))
    assert "RWF" in page.content.decode() and "-500" in page.content.decode()
    page = manager_client.get(reverse("reports:shift_detail", args=[shift.pk]))
    assert page.status_code == 200
    assert "Cash over/short" in page.content.decode() and "-500 RWF" in page.content.decode()


def _count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_report_pages_run_as_many_queries_for_many_sales_as_for_few(
    manager_client, sell, make_product
):
    products = [make_product(stock=100) for _ in range(3)]
    make_product(stock=5, name="Never sold")  # a slow mover before and after
    sell((products[0], 1))
    today = {"by": "product"}
    counts = {}
    for name in ("dashboard", "sales", "profit", "customers", "inventory"):
        counts[name] = _count_queries(manager_client, reverse(f"reports:{name}"), today)
    for product in products:
        for _ in range(4):
            sell((product, 2), (products[0], 1))
    for name, few in counts.items():
        assert _count_queries(manager_client, reverse(f"reports:{name}"), today) == few, name


def test_sales_report_query_count(manager_client, shop_day, django_assert_num_queries):
    # session, user, permissions (one query; PostgreSQL: read with the user); shop settings
    # come from the cache;
    # summary (sales, refunds), periods (sales, refunds), breakdown (daily sums, voided lines,
    # refund lines, names); the store picker: the manager's stores (pos.scoping: assignments,
    # none, so the first store), then the stores to choose from
    manager_client.get(reverse("reports:sales"), PERIOD)  # warm the settings cache
    with django_assert_num_queries(14 if connection.vendor == "sqlite" else 13):
        manager_client.get(reverse("reports:sales"), PERIOD)


def test_top_customers_show_refunds_and_net(manager_client, shop_day, shift, manager):
    from pos.models import Refund
    from pos.services.refunds import RefundLineInput, refund_sale
    from tests.pos.reports.conftest import at

    s2 = shop_day["sales"][1]
    refund = refund_sale(
        sale=s2,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(s2.lines.get(product=shop_day["case"]).pk, 1)],
        reason="Too small",
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=at(DAY, 16, 0))
    query = {**PERIOD, "format": "csv", "table": "top-customers"}
    got = rows(manager_client.get(reverse("reports:customers"), query))
    assert got == [
        ["Customer", "Sales", "Total (RWF)", "Refunds (RWF)", "Net (RWF)"],
        ["Alice Uwase", "1", "16520", "5900", "10620"],
    ]


def test_the_shift_detail_names_tenders_and_people_as_the_z_report_does(
    manager_client, shop_day, shift, manager
):
    """Issue 20, point 11: tender names, change as the amount given, the closer's name."""
    from pos.services.shifts import close_shift, expected_cash

    close_shift(shift=shift, counted={"cash": expected_cash(shift)}, user=manager)
    tables = manager_client.get(reverse("reports:shift_detail", args=[shift.pk])).context["tables"]
    tenders = {t.slug: t for t in tables}["tenders"]
    assert {row[0] for row in tenders.rows} <= {"Cash", "Mobile Money", "Card", "On account"}
    assert all(row[2] >= 0 for row in tenders.rows)
    assert any(row[2] > 0 for row in tenders.rows)  # the day had change given
    page = manager_client.get(reverse("reports:shift_detail", args=[shift.pk])).content.decode()
    assert f"by {manager.get_full_name()}" in page
    assert "mobile_money" not in page.split("<table")[1]
