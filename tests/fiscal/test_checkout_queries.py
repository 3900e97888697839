"""Checkout through the API with fiscal signing on: its asserted query count plus the device's
invoice counter and the outbox row, one statement on PostgreSQL (the counter's UPDATE in the
INSERT's WITH), two elsewhere."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fiscal.models import OutboxItem
from tests.api.test_selling import CHECKOUT_QUERIES, post_sale


def _queries_for(client, products) -> int:
    body = {
        "lines": [{"product": p.pk, "quantity": 1} for p in products],
        "tenders": [{"tender": "cash", "amount": "10000000"}],
    }
    with CaptureQueriesContext(connection) as captured:
        response = post_sale(client, body)
    assert response.status_code == 201, response.json()
    return len(captured.captured_queries)


def test_checkout_adds_one_statement_for_the_fiscal_outbox_on_postgresql_two_elsewhere(
    fiscal_device, as_cashier, shift, make_product
):
    first = fiscal_device.last_invoice_number
    products = [make_product(stock=5) for _ in range(3)]
    _queries_for(as_cashier, products[:1])  # warm the caches
    added = 1 if connection.vendor == "postgresql" else 2
    assert _queries_for(as_cashier, products[1:3]) == CHECKOUT_QUERIES + added
    # Each sale's row carries the device and the number the counter gave it.
    items = OutboxItem.objects.filter(kind="sale").order_by("pk")
    assert [(item.device_id, item.invoice_number, item.status) for item in items] == [
        (fiscal_device.pk, first + 1, "pending"),
        (fiscal_device.pk, first + 2, "pending"),
    ]
    fiscal_device.refresh_from_db()
    assert fiscal_device.last_invoice_number == first + 2


def test_without_the_backend_checkout_keeps_its_count(settings, as_cashier, shift, make_product):
    settings.FISCAL_BACKEND = "none"
    products = [make_product(stock=5) for _ in range(2)]
    _queries_for(as_cashier, products[:1])
    assert _queries_for(as_cashier, products[1:2]) == CHECKOUT_QUERIES
