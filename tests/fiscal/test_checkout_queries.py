"""Checkout through the API with fiscal signing on: its asserted query count plus exactly two
statements (the device's invoice counter, the outbox row)."""

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


def test_checkout_adds_two_statements_for_the_fiscal_outbox(
    fiscal_device, as_cashier, shift, make_product
):
    products = [make_product(stock=5) for _ in range(3)]
    _queries_for(as_cashier, products[:1])  # warm the caches
    assert _queries_for(as_cashier, products[1:3]) == CHECKOUT_QUERIES + 2
    assert OutboxItem.objects.filter(kind="sale").count() == 2


def test_without_the_backend_checkout_keeps_its_count(settings, as_cashier, shift, make_product):
    settings.FISCAL_BACKEND = "none"
    products = [make_product(stock=5) for _ in range(2)]
    _queries_for(as_cashier, products[:1])
    assert _queries_for(as_cashier, products[1:2]) == CHECKOUT_QUERIES
