"""The API's rate limits: checkout per user, and the general API limit per token user."""

import uuid

import pytest

pytestmark = pytest.mark.django_db


def test_checkout_is_rate_limited_per_user(as_cashier, shift, product, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "checkout": "2/m"}
    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "tenders": [{"tender": "cash", "amount": "12000"}],
    }

    def sell():
        return as_cashier.post(
            "/api/v1/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )

    assert [sell().status_code, sell().status_code] == [201, 201]
    limited = sell()
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0


def test_token_clients_get_the_signed_in_limit_keyed_by_user(
    api_client_for, cashier, manager, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_user": "3/m", "api_anon": "1/m"}
    grace, eric = api_client_for(cashier), api_client_for(manager)

    statuses = [grace.get("/api/v1/categories/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert eric.get("/api/v1/categories/").status_code == 200  # another user, another bucket
    assert grace.get("/api/v1/categories/")["RateLimit-Limit"] == "3"
