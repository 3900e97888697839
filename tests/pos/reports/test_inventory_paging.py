"""The inventory report a page at a time, with a search; the dashboard's low-stock table links to
the whole list."""

import csv
import io
import re

import pytest
from django.urls import reverse

from pos.reports import views

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(views, "INVENTORY_PAGE_SIZE", 5)
    monkeypatch.setattr(views, "REPORT_ROWS_SHOWN", 4)


def section(html: str, slug: str) -> str:
    start = html.index(f'id="{slug}"')
    return html[start : html.index("</section>", start)]


def body_rows(html: str, slug: str) -> list[str]:
    table = section(html, slug)
    if "<tbody>" not in table:
        return []
    tbody = table[table.index("<tbody>") : table.index("</tbody>")]
    return [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr>.*?</tr>", tbody)]


@pytest.fixture
def twelve(make_product):
    names = [f"Phone case {n:02d}" for n in range(1, 10)] + ["Cable A", "Cable B", "Charger"]
    return [make_product(stock=3, name=name, reorder_level=1) for name in names]


def test_stock_table_shows_one_page_and_links_to_the_next(manager_client, small_pages, twelve):
    url = reverse("reports:inventory")
    first = manager_client.get(url).content.decode()
    last = manager_client.get(url, {"page": "3"}).content.decode()

    assert len(body_rows(first, "stock")) == 5
    assert "1–5 of 12 · page 1 of 3" in section(first, "stock")
    assert 'rel="next" href="?page=2#stock"' in section(first, "stock")
    assert len(body_rows(last, "stock")) == 2
    assert 'rel="next"' not in section(last, "stock")
    # The footer still sums every product, not the page.
    assert "Total (12 products)" in section(last, "stock")
    assert '<th class="num">36</th>' in section(last, "stock")  # 12 × 3 units


def test_a_page_number_out_of_range_or_junk_shows_a_page(manager_client, small_pages, twelve):
    url = reverse("reports:inventory")
    assert len(body_rows(manager_client.get(url, {"page": "99"}).content.decode(), "stock")) == 2
    assert len(body_rows(manager_client.get(url, {"page": "x"}).content.decode(), "stock")) == 5


def test_search_by_name_or_sku_keeps_the_search_in_the_page_links(
    manager_client, small_pages, twelve
):
    url = reverse("reports:inventory")
    cases = manager_client.get(url, {"q": "case"}).content.decode()
    by_sku = manager_client.get(url, {"q": twelve[-1].sku}).content.decode()
    nothing = manager_client.get(url, {"q": "zebra"}).content.decode()

    assert "1–5 of 9" in section(cases, "stock")
    assert all("Phone case" in row for row in body_rows(cases, "stock"))
    assert 'href="?q=case&amp;page=2#stock"' in section(cases, "stock")
    assert "Total (9 products)" in section(cases, "stock")
    assert [row.split("|")[2] for row in body_rows(by_sku, "stock")] == ["Charger"]
    assert "No product matches." in section(nothing, "stock")


def test_the_download_has_every_row_whatever_the_page(manager_client, small_pages, twelve):
    response = manager_client.get(reverse("reports:inventory"), {"format": "csv", "page": "2"})

    got = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(got) == 1 + 12 + 1  # header, products, total


def test_long_side_tables_show_their_first_rows_and_say_how_many_more(
    manager_client, small_pages, twelve
):
    html = manager_client.get(reverse("reports:inventory")).content.decode()

    assert len(body_rows(html, "slow-movers")) == 4
    assert "The first 4 rows are shown, 8 more in the CSV download." in section(html, "slow-movers")


def test_dashboard_low_stock_table_links_to_every_low_product(manager_client, make_product):
    for n in range(23):
        make_product(stock=n % 3, reorder_level=2, name=f"Low item {n:02d}")
    make_product(stock=9, reorder_level=2, name="Plenty")

    dashboard = manager_client.get(reverse("reports:dashboard")).content.decode()
    low = section(dashboard, "low-stock")
    link = re.search(r'<p class="more"><a href="([^"]+)">All 23 low-stock products', low)
    listed = manager_client.get(link.group(1).replace("&amp;", "&"))

    assert len(body_rows(dashboard, "low-stock")) == 20
    assert listed.status_code == 200
    stock = section(listed.content.decode(), "stock")
    assert "Total (23 products)" in stock
    assert "Plenty" not in stock


def test_dashboard_has_no_link_when_nothing_is_low(manager_client, make_product):
    make_product(stock=9, reorder_level=2)

    low = section(manager_client.get(reverse("reports:dashboard")).content.decode(), "low-stock")
    assert "Nothing is low." in low and 'class="more"' not in low


def test_the_inventory_page_runs_as_many_queries_for_many_products_as_for_few(
    manager_client, small_pages, make_product, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("reports:inventory")
    for n in range(3):
        make_product(stock=3, name=f"Few {n}")
    manager_client.get(url)  # warm the caches
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url, {"q": "e", "page": "1"})
    for n in range(20):
        make_product(stock=3, name=f"More {n}")
    with django_assert_max_num_queries(len(few)):
        manager_client.get(url, {"q": "e", "page": "2"})
