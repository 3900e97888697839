import pytest
from django.core.cache import cache

from monitoring.errors import GENERIC_MESSAGE, SYSTEM_ERROR_COUNTER, error_payload

pytestmark = [pytest.mark.urls("tests.monitoring.urls"), pytest.mark.django_db]


@pytest.mark.parametrize(
    ("kind", "status", "code", "fields"),
    [
        ("validation", 400, "invalid", {"qty": ["Must be at least 1."]}),
        ("unauthenticated", 401, "not_authenticated", {}),
        ("forbidden", 403, "permission_denied", {}),
        ("missing", 404, "not_found", {}),
        ("throttled", 429, "rate_limited", {}),
        ("domain", 409, "out_of_stock", {}),
    ],
)
def test_drf_errors_share_one_shape(client, kind, status, code, fields):
    response = client.get(f"/api/test/drf/{kind}/")

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["fields"] == fields
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response["X-Request-ID"]


def test_validation_error_messages(client):
    general = client.get("/api/test/drf/general/").json()["error"]
    nested = client.get("/api/test/drf/nested/").json()["error"]
    by_field = client.get("/api/test/drf/validation/").json()["error"]

    assert general["message"] == "The shift is already closed."
    assert general["fields"] == {"non_field_errors": ["The shift is already closed."]}
    assert nested["fields"] == {"lines.1.qty": ["Too many."]}
    assert by_field["message"] == "Some fields are not valid."


def test_throttled_says_when_to_retry(client):
    response = client.get("/api/test/drf/throttled/")

    assert response["Retry-After"] == "30"


def test_drf_system_error_is_generic_logged_and_counted(lenient_client, captured_logs):
    cache.delete(SYSTEM_ERROR_COUNTER)

    response = lenient_client.get("/api/test/drf/system/")

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["message"] == GENERIC_MESSAGE
    assert error["request_id"] == response["X-Request-ID"]
    assert "secret detail 42" not in response.content.decode()
    (logged,) = captured_logs.named("vevurn.errors")
    assert logged.levelname == "ERROR" and logged.exc_info[0] is RuntimeError
    assert cache.get(SYSTEM_ERROR_COUNTER) == 1


def test_project_default_api_permission_answers_401_in_our_shape(client, cashier):
    anonymous = client.get("/api/test/protected/")
    client.force_login(cashier)
    signed_in = client.get("/api/test/protected/")

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert signed_in.status_code == 200


def test_error_payload_outside_a_request_has_no_request_id():
    assert error_payload(None, "rate_limited", "Slow down.", 429) == {
        "error": {"code": "rate_limited", "message": "Slow down.", "fields": {}, "request_id": None}
    }


def test_error_payload_defaults_code_and_message_from_the_status():
    error = error_payload(None, status=429, fields={"pin": ["Wrong PIN."]})["error"]

    assert error["code"] == "rate_limited"
    assert error["message"] == "Too many attempts. Please wait and try again."
    assert error["fields"] == {"pin": ["Wrong PIN."]}
