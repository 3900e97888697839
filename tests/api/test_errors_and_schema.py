"""Error statuses the API owes its clients (503 when the database is gone), the OpenAPI schema
and its docs served without a CDN."""

import pytest
import yaml
from django.db import OperationalError

from pos.api import views

pytestmark = pytest.mark.django_db


def test_an_unreachable_database_is_a_503_with_a_retry_hint(as_cashier, monkeypatch):
    def unreachable(self, request):
        raise OperationalError('connection to server at "db" failed: Connection refused')

    monkeypatch.setattr(views.CategoryViewSet, "list", unreachable)

    response = as_cashier.get("/api/v1/categories/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert "Connection refused" not in response.content.decode()  # no SQL or detail leaks


def test_an_unknown_id_is_a_404_in_the_error_shape(as_cashier):
    response = as_cashier.get("/api/v1/products/123456/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_schema_is_openapi_3_and_names_every_endpoint(as_cashier):
    response = as_cashier.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/api/v1/products/",
        "/api/v1/customers/{id}/statement/",
        "/api/v1/stock-adjustments/",
        "/api/v1/purchase-orders/{id}/receive/",
        "/api/v1/shifts/{id}/close/",
        "/api/v1/sales/",
        "/api/v1/sales/{id}/refund/",
        "/api/v1/held-sales/{id}/resume/",
        "/api/v1/invoices/{id}/payments/",
    ]:
        assert path in paths, path
    checkout = paths["/api/v1/sales/"]["post"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= checkout["parameters"][0].items()
    assert {"200", "201", "409", "422"} <= set(checkout["responses"])
    price = schema["components"]["schemas"]["Product"]["properties"]["retail_price"]
    assert price["type"] == "string"
    security = {name for entry in checkout["security"] for name in entry}
    assert {"tokenAuth", "cookieAuth"} <= security


def test_the_docs_are_served_from_local_static_files(as_cashier):
    response = as_cashier.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html and "http://" not in html


def test_options_on_the_docs_answers_the_allowed_methods_not_a_500(as_cashier, client, cashier):
    client.force_login(cashier)  # the docs page is for a browser: the session's user

    for api_client in (client, as_cashier):
        response = api_client.options("/api/docs/")

        assert response.status_code == 200
        assert response["Allow"] == "GET, HEAD, OPTIONS"
        assert response.content == b""
