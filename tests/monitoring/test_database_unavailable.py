"""An unreachable database (restarting, failing over) is a 503 with a Retry-After wherever it
surfaces -- in a view, in the API, in a middleware reading the session or the token -- never a
500: nothing was half-written, and the client may send the same request again."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from monitoring import ratelimit
from monitoring.errors import DATABASE_RETRY_AFTER, SYSTEM_ERROR_COUNTER

pytestmark = [pytest.mark.urls("tests.monitoring.urls"), pytest.mark.django_db]

UNAVAILABLE = "The shop system is briefly unavailable. Please try again shortly."


def unreachable(*args, **kwargs):
    raise OperationalError('connection to server at "db" failed: Connection refused')


def test_a_token_client_gets_the_api_503_when_the_token_cannot_be_checked(
    lenient_client, cashier, monkeypatch
):
    token = Token.objects.create(user=cashier)
    # The general API limit looks the token's user up in a middleware, before any view (in
    # one plain statement of its own: monitoring.ratelimit._token_authentication).
    monkeypatch.setattr(TokenAuthentication, "authenticate_credentials", unreachable)
    middlewares = type(ratelimit._token_authentication())
    monkeypatch.setattr(middlewares, "authenticate_credentials", unreachable)

    response = lenient_client.post(
        "/api/v1/sales/", {}, HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_IDEMPOTENCY_KEY="x"
    )

    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER)
    assert response.json()["error"] == {
        "code": "unavailable",
        "message": UNAVAILABLE,
        "fields": {},
        "request_id": response["X-Request-ID"],
    }
    assert "Connection refused" not in response.content.decode()


def test_a_screen_whose_view_loses_the_database_shows_the_unavailable_page(
    lenient_client, captured_logs
):
    response = lenient_client.get("/test/database-gone/")

    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER)
    assert UNAVAILABLE in body and response["X-Request-ID"] in body
    assert "Connection refused" not in body
    # Still an incident for the operator: logged with its stack trace and counted.
    (logged,) = captured_logs.named("vevurn.errors")
    assert logged.levelname == "ERROR" and logged.exc_info[0] is OperationalError


def test_a_signed_in_screen_whose_session_cannot_be_read_shows_the_unavailable_page(
    lenient_client, cashier, monkeypatch
):
    from django.core.cache import cache

    lenient_client.force_login(cashier)
    # The session is read by a middleware (the user's temporary-password check), outside a view.
    monkeypatch.setattr(SessionStore, "load", unreachable)

    response = lenient_client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER)
    assert UNAVAILABLE in response.content.decode()
    assert cache.get(SYSTEM_ERROR_COUNTER) == 1
