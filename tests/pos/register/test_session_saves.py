"""A scan at the till saves its cart with one statement (accounts.sessions), not three."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)  # outside a transaction, as in production


def test_a_scan_saves_the_cart_in_one_update_without_a_transaction(till, scan, product):
    scan(product.barcode)  # the session exists, the settings are cached

    with CaptureQueriesContext(connection) as done:
        response = scan(product.barcode)

    assert response.status_code in (200, 302)
    statements = [q["sql"].split()[0].upper() for q in done.captured_queries]
    session = [q["sql"].split()[0] for q in done.captured_queries if "django_session" in q["sql"]]
    assert session == ["SELECT", "UPDATE"]
    assert "BEGIN" not in statements and "COMMIT" not in statements
    page = till.get("/register/")
    assert [(line.product, line.quantity) for line in page.context["lines"]] == [(product, 2)]
