import pytest
from django.core.cache import cache

from monitoring.errors import GENERIC_MESSAGE, SYSTEM_ERROR_COUNTER

pytestmark = [pytest.mark.urls("tests.monitoring.urls"), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_system_error_answers_500_with_generic_message_and_request_id(
    lenient_client, captured_logs
):
    response = lenient_client.get("/test/boom/")

    body = response.content.decode()
    assert response.status_code == 500
    assert str(GENERIC_MESSAGE) in body
    assert response["X-Request-ID"] in body
    assert "secret detail 42" not in body
    assert "Traceback" not in body
    (logged,) = captured_logs.named("vevurn.errors")
    assert logged.levelname == "ERROR"
    assert logged.exc_info[0] is RuntimeError  # the stack trace goes to the log
    assert logged.request_id == response["X-Request-ID"]
    assert logged.route == "/test/boom/"
    assert cache.get(SYSTEM_ERROR_COUNTER) == 1


def test_system_error_shows_the_detail_under_debug(lenient_client, settings):
    settings.DEBUG = True

    response = lenient_client.get("/test/boom/")

    body = response.content.decode()
    assert response.status_code == 500
    assert "secret detail 42: the drawer table is gone" in body
    assert "Traceback" in body
    assert response["X-Request-ID"] in body


def test_system_error_on_the_api_answers_json(lenient_client, settings):
    response = lenient_client.get("/api/test/boom/")

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": GENERIC_MESSAGE,
            "fields": {},
            "request_id": response["X-Request-ID"],
        }
    }
    settings.DEBUG = True
    debug = lenient_client.get("/api/test/boom/").json()["error"]
    assert "secret detail 42" in debug["detail"]


def test_system_errors_are_counted_and_a_broken_cache_never_raises(lenient_client, monkeypatch):
    lenient_client.get("/test/boom/")
    lenient_client.get("/test/boom/")
    assert cache.get(SYSTEM_ERROR_COUNTER) == 2

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", broken)
    response = lenient_client.get("/test/boom/")
    assert response.status_code == 500
    assert str(GENERIC_MESSAGE) in response.content.decode()


def test_domain_error_page_shows_its_message_and_status(client, captured_logs):
    response = client.get("/test/refuse/")

    body = response.content.decode()
    assert response.status_code == 409
    assert "Only 2 left in stock." in body
    assert "qty: Only 2 left." in body
    assert "<h1>That could not be done</h1>" in body
    assert response["X-Request-ID"] in body
    (logged,) = captured_logs.named("vevurn.errors")
    assert logged.levelname == "WARNING"
    assert logged.exc_info is None  # operational: no stack trace
    assert cache.get(SYSTEM_ERROR_COUNTER) is None


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/api/test/refuse/", {}), ("/test/refuse/", {"Accept": "application/json"})],
)
def test_domain_error_json_has_code_status_fields_and_request_id(client, path, headers):
    response = client.get(path, headers=headers)

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "out_of_stock",
            "message": "Only 2 left in stock.",
            "fields": {"qty": ["Only 2 left."]},
            "request_id": response["X-Request-ID"],
        }
    }


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (400, "Bad request"),
        (403, "Not allowed"),
        (404, "Page not found"),
        (429, "Too many attempts"),
        (500, "Something went wrong"),
        (503, "Briefly unavailable"),
    ],
)
def test_every_error_page_renders_in_the_shop_look_with_the_request_id(client, status, title):
    response = client.get(f"/test/page/{status}/")

    body = response.content.decode()
    assert response.status_code == status
    assert f"<h1>{title}</h1>" in body
    assert "Vevurn POS" in body and "vevurn.css" in body  # base.html's header and styles
    assert f'<code class="request-id">{response["X-Request-ID"]}</code>' in body


@pytest.mark.parametrize(
    ("retry_after", "shown"),
    [("1", "1 second."), ("45", "45 seconds."), ("60", "1 minute."), ("61", "2 minutes.")],
)
def test_rate_limit_page_says_when_to_try_again(client, retry_after, shown):
    response = client.get("/test/page/429/", {"retry_after": retry_after})

    assert f"Try again in {shown}" in response.content.decode()


def test_rate_limit_page_rendered_by_another_view_still_shows_the_request_id(client):
    response = client.get("/test/limited/")

    body = response.content.decode()
    assert response.status_code == 429
    assert "Try again in 2 minutes." in body
    assert f'<code class="request-id">{response["X-Request-ID"]}</code>' in body


def test_rate_limit_page_without_retry_after_says_nothing_about_time(client):
    response = client.get("/test/page/429/")

    assert "Try again in" not in response.content.decode()


def test_unknown_url_gets_the_404_page(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert response["X-Request-ID"] in response.content.decode()


def test_unknown_api_url_gets_json_404(client):
    response = client.get("/api/no/such/thing/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]


def test_permission_denied_gets_the_403_page(client):
    response = client.get("/test/forbidden/")

    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_error_outside_the_view_gets_the_same_500_and_is_reported(
    lenient_client, settings, captured_logs
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.monitoring.views.ExplodingMiddleware"]

    response = lenient_client.get("/test/items/666/log/")

    body = response.content.decode()
    assert response.status_code == 500
    assert str(GENERIC_MESSAGE) in body and response["X-Request-ID"] in body
    assert "middleware broke" not in body
    (logged,) = captured_logs.named("vevurn.errors")
    assert logged.exc_info[0] is RuntimeError
    assert logged.request_id == response["X-Request-ID"]
    assert cache.get(SYSTEM_ERROR_COUNTER) == 1
    assert captured_logs.named("django.request") == []  # not logged a second time
