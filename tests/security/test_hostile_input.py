"""Hostile input: every search and filter parameter, and the API's bodies, answer a 4xx with a
clear message (or simply find nothing), never a 500.

Values: SQL metacharacters, LIKE wildcards, huge, negative and non-numeric numbers, NaN and
infinity, NUL bytes (PostgreSQL refuses them in text), right-to-left overrides, astral and
combining characters, and very long text. Bodies: 10 MB, malformed JSON, JSON that is not an
object, and the wrong content type.
"""

import json

import pytest
from django.test import Client

HOSTILE_VALUES = [
    "' OR '1'='1' --",
    "1); DROP TABLE pos_product; --",
    "%",
    "_",
    "\\",
    "99999999999999999999999999",
    "-1",
    "-99999999999999999999",
    "1e308",
    "NaN",
    "-Infinity",
    "abc",
    "1.5",
    "\x00",
    "a\x00b",
    "\u202eevil",
    "😀" * 40,
    "e\u0301\u0301\u0301",
    "x" * 5000,
    "",
]

# (who, path, parameters) -- every search or filter a screen or the API reads from the URL.
GET_PARAMETERS = [
    ("cashier", "/register/search/", ["code"]),
    ("cashier", "/register/", ["customer_q"]),
    ("cashier", "/register/history/", ["q"]),
    ("cashier", "/pos/customers/{customer}/statement/", ["start", "end", "format"]),
    ("manager", "/reports/", ["format", "table"]),
    ("manager", "/reports/sales/", ["start", "end", "grain", "by", "format"]),
    ("manager", "/reports/profit/", ["start", "end", "by"]),
    ("manager", "/reports/inventory/", ["kind", "product", "start", "end"]),
    ("manager", "/reports/customers/", ["start", "end"]),
    ("manager", "/reports/shifts/", ["start", "end"]),
    ("admin", "/admin/pos/product/", ["q", "o", "p", "category__id__exact", "status__exact"]),
    ("admin", "/admin/pos/product/stock-count/", ["category", "search"]),
    ("admin", "/admin/pos/sale/", ["q", "o", "p"]),
    ("admin", "/admin/pos/customer/", ["q"]),
    ("manager", "/api/v1/products/", ["search", "category", "supplier", "status", "low_stock",
                                      "ordering", "page", "page_size"]),
    ("manager", "/api/v1/sales/", ["shift", "customer", "status", "search", "ordering", "page"]),
    ("manager", "/api/v1/customers/", ["search", "page_size"]),
    ("manager", "/api/v1/customers/{customer}/statement/", ["start", "end"]),
    ("manager", "/api/v1/stock-movements/", ["product", "kind"]),
    ("manager", "/api/v1/invoices/", ["customer", "status"]),
    ("manager", "/api/v1/held-sales/", ["register"]),
    ("manager", "/api/v1/shifts/", ["ordering", "page"]),
    ("manager", "/api/v1/reports/sales/", ["start", "end", "grain", "by"]),
    ("manager", "/api/v1/reports/inventory/", ["kind", "product"]),
    ("admin", "/api/monitoring/performance/recent", ["limit", "minutes"]),
    ("admin", "/api/monitoring/performance", ["minutes"]),
]  # fmt: skip


@pytest.fixture
def clients(shop):
    made = {}
    for role in ("cashier", "manager", "admin"):
        made[role] = Client()
        made[role].force_login(shop["users"][role])
    return made


def clear_answer(response, where):
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
        error = response.json()["error"]
        assert error["message"], where


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "path", "names"), GET_PARAMETERS)
def test_search_and_filter_parameters_never_crash(clients, shop, who, path, names):
    url = path.format(customer=shop["customer"].pk)
    for name in names:
        for value in HOSTILE_VALUES:
            response = clients[who].get(url, {name: value})
            clear_answer(response, f"GET {url}?{name}={value[:40]!r}")


# --- Bodies -------------------------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/sales/", "/api/v1/products/", "/api/v1/shifts/", "/api/v1/customers/"]
)
def test_a_10_mb_body_is_refused_with_413(clients, path):
    body = json.dumps({"name": "x" * TEN_MB})
    response = clients["manager"].post(
        path,
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "6f1c1f0e-0000-4000-8000-000000000003"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert "too large" in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/register/scan/", "/", "/register/customer/new/"])
def test_a_10_mb_form_is_refused_with_413(clients, path):
    response = clients["cashier"].post(path, {"code": "x" * TEN_MB, "name": "y"})
    assert response.status_code == 413
    assert "too large" in response.content.decode()


MALFORMED = [
    ("{", "application/json"),
    ('{"lines": [}', "application/json"),
    ("[]", "application/json"),
    ('"a string"', "application/json"),
    ("null", "application/json"),
    ('{"lines": "x"}', "application/json"),
    ("\xff\xfe", "application/json"),
    ("lines=1", "text/plain"),
    ("<sale/>", "application/xml"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "content_type"), MALFORMED)
@pytest.mark.parametrize(
    "path",
    ["/api/v1/sales/", "/api/v1/products/", "/api/v1/shifts/", "/api/v1/stock-adjustments/"],
)
def test_malformed_bodies_get_a_4xx_with_a_message(clients, path, body, content_type):
    response = clients["manager"].post(
        path,
        body.encode("latin-1"),
        content_type=content_type,
        headers={"Idempotency-Key": "6f1c1f0e-0000-4000-8000-000000000001"},
    )
    assert response.status_code in (400, 415), response.content[:300]
    error = response.json()["error"]
    assert error["message"]
    if content_type != "application/json":
        assert response.status_code == 415


BAD_LINES = [
    {"product": "abc", "quantity": 1},
    {"product": 99999999999999999999, "quantity": 1},
    {"product": None, "quantity": 1},
    {"quantity": 1},
    {"product": "{product}", "quantity": -1},
    {"product": "{product}", "quantity": 0},
    {"product": "{product}", "quantity": "two"},
    {"product": "{product}", "quantity": 1.5},
    {"product": "{product}", "quantity": 10**30},
    {"product": "{product}", "quantity": True},
    {"product": "{product}", "quantity": 1, "discount": "-5"},
    {"product": "{product}", "quantity": 1, "discount": "NaN"},
    {"product": "{product}", "quantity": 1, "unit_price": "1e400"},
    {"product": "{product}", "quantity": 1, "unit_price": "0.001"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("line", BAD_LINES)
def test_bad_cart_lines_are_refused_with_field_messages(clients, shop, line):
    from pos.models import Sale, StockMovement

    line = {k: (shop["product"].pk if v == "{product}" else v) for k, v in line.items()}
    before = (Sale.objects.count(), StockMovement.objects.count())
    response = clients["cashier"].post(
        "/api/v1/sales/",
        json.dumps({"lines": [line], "tenders": [{"tender": "cash", "amount": "99999"}]}),
        content_type="application/json",
        headers={"Idempotency-Key": "6f1c1f0e-0000-4000-8000-000000000002"},
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    error = response.json()["error"]
    assert error["message"] and error["fields"], error
    assert (Sale.objects.count(), StockMovement.objects.count()) == before


TILL_POSTS = [
    ("/register/scan/", "code"),
    ("/register/lines/0/", "quantity"),
    ("/register/discount/", "discount"),
    ("/register/customer/", "customer_id"),
    ("/register/customer/new/", "phone"),
    ("/register/open/", "opening_float"),
    ("/register/pay/complete/", "cash"),
    ("/register/pay/quick-cash/", "quick_cash"),
    ("/register/shift/", "cash_counted"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "field"), TILL_POSTS)
def test_till_forms_refuse_hostile_values_with_a_form_error(clients, shop, path, field):
    till = clients["cashier"]
    till.post("/register/scan/", {"code": shop["product"].sku})
    for value in HOSTILE_VALUES:
        response = till.post(path, {field: value, "name": value, "complete": "1"})
        clear_answer(response, f"POST {path} {field}={value[:40]!r}")
