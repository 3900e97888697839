"""Authentication, the permission matrix, pagination, money and timestamps of the API."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_in_the_error_shape(anonymous):
    response = anonymous.get("/api/v1/products/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert error["request_id"] == response["X-Request-ID"]


def test_a_token_signs_the_user_in(as_cashier, product):
    response = as_cashier.get("/api/v1/products/")

    assert response.status_code == 200
    assert [row["sku"] for row in response.json()["results"]] == [product.sku]


def test_the_token_of_an_inactive_user_is_refused(api_client_for, cashier):
    client = api_client_for(cashier)
    cashier.is_active = False
    cashier.save()

    response = client.get("/api/v1/products/")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_a_revoked_token_is_refused(api_client_for, cashier):
    client = api_client_for(cashier)
    Token.objects.filter(user=cashier).delete()

    assert client.get("/api/v1/products/").status_code == 401


def test_a_wrong_token_is_refused(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anonymous.get("/api/v1/products/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_session_auth_needs_the_csrf_token_for_writes(cashier):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cashier)

    assert client.get("/api/v1/products/").status_code == 200
    response = client.post("/api/v1/customers/", {"name": "Jean", "phone": "0788123456"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


# --- Permission matrix: the same permissions as the screens (accounts/roles.py) ----------------

A, C, M = "admin", "cashier", "manager"
ALLOWED, DENIED = "allowed", "denied"


@pytest.fixture
def client_as(api_client_for, make_user):
    def make(who):
        if who == "anonymous":
            return APIClient()
        if who == "inactive":
            user = make_user("gone", "manager")
            client = api_client_for(user)
            user.is_active = False
            user.save()
            return client
        return api_client_for(make_user(f"{who}-user", who))

    return make


# (method, path, who may): everyone else signed in gets a 403; the anonymous and inactive 401.
MATRIX = [
    ("get", "/api/v1/products/", {A, C, M}),
    ("post", "/api/v1/products/", {A, M}),
    ("get", "/api/v1/categories/", {A, C, M}),
    ("post", "/api/v1/categories/", {A, M}),
    ("get", "/api/v1/suppliers/", {A, M}),
    ("post", "/api/v1/suppliers/", {A, M}),
    ("get", "/api/v1/customers/", {A, C, M}),
    ("post", "/api/v1/customers/", {A, C, M}),
    ("get", "/api/v1/stock-movements/", {A, M}),
    ("post", "/api/v1/stock-adjustments/", {A, M}),
    ("get", "/api/v1/purchase-orders/", {A, M}),
    ("post", "/api/v1/purchase-orders/", {A, M}),
    ("get", "/api/v1/registers/", {A, C, M}),
    ("get", "/api/v1/shifts/", {A, C, M}),
    ("post", "/api/v1/shifts/", {A, C, M}),
    ("get", "/api/v1/sales/", {A, C, M}),
    ("post", "/api/v1/sales/", {A, C, M}),
    ("get", "/api/v1/held-sales/", {A, C, M}),
    ("post", "/api/v1/held-sales/", {A, C, M}),
    ("get", "/api/v1/invoices/", {A, C, M}),
]
WHO = ["anonymous", "inactive", C, M, A]


@pytest.mark.parametrize(("method", "path", "allowed"), MATRIX)
@pytest.mark.parametrize("who", WHO)
def test_permission_matrix(client_as, method, path, allowed, who):
    response = getattr(client_as(who), method)(path, {}, format="json")

    if who in ("anonymous", "inactive"):
        assert response.status_code == 401
    elif who in allowed:
        # Allowed through: a list answers 200; an empty body is refused by validation (400).
        assert response.status_code == (200 if method == "get" else 400), response.json()
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("path", "perm_holder"),
    [
        ("/api/v1/sales/{sale}/void/", M),
        ("/api/v1/sales/{sale}/refund/", M),
    ],
)
def test_a_cashier_cannot_void_or_refund(client_as, sell, product, path, perm_holder):
    sale = sell((product, 1))
    url = path.format(sale=sale.pk)

    assert client_as(C).post(url, {}, format="json").status_code == 403
    assert client_as(perm_holder).post(url, {}, format="json").status_code == 400


# --- Pagination, money, timestamps ------------------------------------------------------------


def test_lists_are_paginated_50_by_default_and_at_most_200(as_manager, category):
    from pos.models import Category

    Category.objects.bulk_create(Category(name=f"Category {n:03d}") for n in range(250))

    first = as_manager.get("/api/v1/categories/").json()
    assert first["count"] == 251
    assert len(first["results"]) == 50
    assert first["next"].endswith("/api/v1/categories/?page=2")
    assert len(as_manager.get("/api/v1/categories/?page_size=500").json()["results"]) == 200
    assert as_manager.get("/api/v1/categories/?page=99").status_code == 404


def test_money_is_a_string_with_the_currency_places(as_manager, make_product):
    from pos.models import ShopSettings

    product = make_product(retail_price=Decimal("12000"), cost_price=Decimal("6000.40"))
    url = f"/api/v1/products/{product.pk}/"

    rwf = as_manager.get(url).json()
    assert (rwf["retail_price"], rwf["cost_price"]) == ("12000", "6000")

    shop = ShopSettings.load()
    shop.currency_code, shop.currency_decimal_places = "USD", 2
    shop.save()
    usd = as_manager.get(url).json()
    assert (usd["retail_price"], usd["cost_price"]) == ("12000.00", "6000.40")


def test_timestamps_are_iso_8601_with_the_offset(as_manager, product):
    created = as_manager.get(f"/api/v1/products/{product.pk}/").json()["created_at"]

    parsed = datetime.datetime.fromisoformat(created)
    assert parsed.utcoffset() == datetime.timedelta(hours=2)  # Africa/Kigali
    assert created.endswith("+02:00")
