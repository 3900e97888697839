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


def test_the_schema_lists_the_error_statuses_the_api_answers(as_cashier):
    schema = yaml.safe_load(as_cashier.get("/api/schema/").content)
    paths = schema["paths"]
    error = {"$ref": "#/components/schemas/Error"}

    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert {"401", "403", "429", "503"} <= set(responses), where
            if "{" in path:
                assert "404" in responses, where
            if method in ("post", "put", "patch"):
                assert "400" in responses, where
            for status, response in responses.items():
                if status >= "400":
                    assert response["content"]["application/json"]["schema"] == error, where
    checkout = paths["/api/v1/sales/"]["post"]["responses"]
    assert {"400", "404", "409", "422", "429"} <= set(checkout)
    assert "Retry-After" in checkout["429"]["headers"]
    assert {"409", "422"} <= set(paths["/api/v1/sales/{id}/refund/"]["post"]["responses"])
    assert "400" in paths["/api/v1/products/"]["get"]["responses"]  # its filters are checked
    shape = schema["components"]["schemas"]["Error"]
    assert shape["properties"]["error"]["required"] == ["code", "message"]


def test_every_error_the_api_answers_has_the_documented_shape(as_cashier, anonymous):
    answers = [
        anonymous.get("/api/v1/products/"),  # 401
        as_cashier.get("/api/v1/products/123456/"),  # 404
        as_cashier.post("/api/v1/products/", {}, format="json"),  # 403 (no permission)
        as_cashier.post("/api/v1/sales/", {}, format="json"),  # 400
    ]
    assert [a.status_code for a in answers] == [401, 404, 403, 400]
    for answer in answers:
        error = answer.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
