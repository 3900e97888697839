from decimal import Decimal

import pytest

from pos.services.checkout import TenderLine

pytestmark = pytest.mark.django_db

REPORTS = ["dashboard", "sales", "profit", "inventory", "shifts", "customers"]


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_is_in_the_api_for_managers_only(name, as_manager, as_cashier, anonymous):
    url = f"/api/v1/reports/{name}/"
    assert anonymous.get(url).status_code == 401
    assert as_cashier.get(url).status_code == 403
    response = as_manager.get(url)
    assert response.status_code == 200
    assert response.json()["tables"]


def test_the_sales_report_gives_the_same_figures_as_the_page(
    as_manager, manager, client, sell, product
):
    sell((product, 2), tenders=[TenderLine("cash", Decimal(24000))])
    api = as_manager.get("/api/v1/reports/sales/").json()
    client.force_login(manager)
    page = client.get("/reports/sales/?format=json").json()
    assert api == page
    assert any(
        "24000" in str(row) or "24,000" in str(row) for t in api["tables"] for row in t["rows"]
    )


def test_a_bad_period_is_a_400_naming_the_field(as_manager):
    response = as_manager.get("/api/v1/reports/sales/?start=2026-13-01")
    assert response.status_code == 400
    body = response.json()["error"]
    assert "start" in body["fields"]
