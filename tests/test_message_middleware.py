"""vevurn.middleware.MessageMiddleware: Django's messages, the storage built only when used."""

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from vevurn.middleware import MessageMiddleware


@pytest.fixture
def storages_built(monkeypatch):
    built = []
    original = FallbackStorage.__init__

    def counting(self, request, *args, **kwargs):
        built.append(request)
        original(self, request, *args, **kwargs)

    monkeypatch.setattr(FallbackStorage, "__init__", counting)
    return built


def serve(view, cookies=None):
    """One request through the session and message middlewares (as in MIDDLEWARE) to `view`."""
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    stack = SessionMiddleware(MessageMiddleware(view))
    return request, stack(request)


@pytest.mark.django_db
def test_a_request_that_uses_no_messages_builds_no_message_storage(client, storages_built):
    response = client.get("/api/v1/products/")  # the API, anonymous: no template, no message
    assert response.status_code == 401
    assert storages_built == []
    assert "messages" not in response.cookies


@pytest.mark.django_db
def test_a_page_that_shows_messages_builds_the_storage_once(client, storages_built):
    assert client.get("/").status_code == 200  # the sign-in page's template reads them
    assert len(storages_built) == 1


@pytest.mark.django_db
def test_a_message_added_on_one_request_is_shown_on_the_next_and_then_gone():
    def add(request):
        messages.success(request, "Saved.")
        return HttpResponse()

    _, first = serve(add)
    assert "messages" in first.cookies

    shown = []

    def show(request):
        shown.extend(str(message) for message in messages.get_messages(request))
        return HttpResponse()

    _, second = serve(show, {"messages": first.cookies["messages"].value})
    assert shown == ["Saved."]
    assert second.cookies["messages"].value == ""  # read: the cookie is deleted, as Django does

    shown.clear()
    _, third = serve(show)
    assert shown == []
    assert "messages" not in third.cookies


@pytest.mark.django_db
def test_an_unread_message_cookie_is_left_as_it_came(storages_built):
    def add(request):
        messages.info(request, "Later.")
        return HttpResponse()

    _, first = serve(add)
    cookie = {"messages": first.cookies["messages"].value}
    _, untouched = serve(lambda request: HttpResponse(), cookie)
    assert "messages" not in untouched.cookies  # neither set again nor deleted
    assert len(storages_built) == 1  # only the request that added one
