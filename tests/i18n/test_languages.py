"""Which language a person sees: the browser's until they sign in, then their own; the switcher;
the API by Accept-Language; the language info Django lacks for Kinyarwanda."""

import pytest
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language_info

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_shop_speaks_english_french_and_kinyarwanda():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "fr", "rw"]
    info = get_language_info("rw")
    assert (info["name"], info["name_local"], info["bidi"]) == (
        "Kinyarwanda",
        "Ikinyarwanda",
        False,
    )


@pytest.mark.parametrize(
    ("accept", "lang", "title"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Se connecter"),
        ("rw-RW,rw;q=0.9", "rw", "Injira"),
        ("de-DE,de;q=0.9", "en", "Sign in"),  # a language the shop does not speak
        ("", "en", "Sign in"),
    ],
)
def test_the_sign_in_page_follows_the_browser(client, accept, lang, title):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE=accept)
    page = response.content.decode()
    assert f'<html lang="{lang}"' in page
    assert f"<h1>{title}</h1>" in page
    assert response["Content-Language"] == lang
    assert "Accept-Language" in response["Vary"]


def test_a_signed_in_user_sees_their_language_whatever_the_browser(client, cashier):
    cashier.preferred_language = "rw"
    cashier.save(update_fields=["preferred_language"])
    client.post(
        reverse("accounts:login"),
        {"username": "cashier", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    page = client.get(reverse("accounts:home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Murakaza neza, Grace" in page
    assert '<html lang="rw"' in page


def test_a_user_without_a_preference_follows_the_browser(client, cashier):
    client.force_login(cashier)
    page = client.get(reverse("accounts:home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Bienvenue, Grace" in page


def test_the_switcher_keeps_the_users_choice_and_goes_back_to_the_page(client, cashier):
    client.force_login(cashier)
    page = client.get(reverse("accounts:home")).content.decode()
    for code, local in [("en", "English"), ("fr", "français"), ("rw", "Ikinyarwanda")]:
        assert f'name="language" value="{code}"' in page and f'title="{local}"' in page

    response = client.post(
        reverse("accounts:set_language"), {"language": "fr", "next": reverse("accounts:home")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")
    cashier.refresh_from_db()
    assert cashier.preferred_language == "fr"
    # Another browser (no cookie) and another Accept-Language: still French for this user.
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    page = client.get(reverse("accounts:home"), HTTP_ACCEPT_LANGUAGE="rw").content.decode()
    assert "Bienvenue, Grace" in page


def test_the_switcher_refuses_an_unknown_language_and_an_outside_next(client, cashier):
    client.force_login(cashier)
    response = client.post(
        reverse("accounts:set_language"), {"language": "de", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    cashier.refresh_from_db()
    assert cashier.preferred_language == ""
    assert client.get(reverse("accounts:set_language")).status_code == 405


def test_before_sign_in_the_switcher_sets_a_cookie_and_sign_out_forgets_it(client, cashier):
    client.post(reverse("accounts:set_language"), {"language": "rw", "next": "/"})
    assert "<h1>Injira</h1>" in client.get(reverse("accounts:login")).content.decode()

    client.force_login(cashier)
    client.post(reverse("accounts:logout"))
    # The next person at this till gets the sign-in page in their browser's language.
    page = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<h1>Se connecter</h1>" in page


def test_api_messages_follow_accept_language_even_for_a_user_with_a_preference(client, cashier):
    response = client.get("/api/v1/products/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code in (401, 403)
    assert response["Content-Language"] == "fr"
    french = response.json()["error"]["message"]
    english = client.get("/api/v1/products/", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
    assert french != english

    cashier.preferred_language = "rw"
    cashier.save(update_fields=["preferred_language"])
    client.force_login(cashier)
    response = client.get("/api/v1/products/?page=x", HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Content-Language"] == "fr"


@pytest.mark.urls("tests.monitoring.urls")
def test_a_request_without_a_session_cookie_is_anonymous_without_loading_a_user(
    client, cashier, monkeypatch
):
    """Nobody can be signed in without the session cookie: the language, the two-factor and
    password checks and the log's user are settled without reading a session or a user (the
    cheapest request's CPU, bench/README.md "stack"); with the cookie, the user is loaded."""
    loads = []
    real_get_user = auth_middleware.get_user
    monkeypatch.setattr(
        auth_middleware,
        "get_user",
        lambda request: loads.append(request.path) or real_get_user(request),
    )

    anonymous = client.get("/test/items/1/log/", HTTP_ACCEPT_LANGUAGE="fr")
    assert anonymous.status_code == 200
    assert anonymous["Content-Language"] == "fr"
    assert loads == []

    cashier.preferred_language = "rw"
    cashier.save(update_fields=["preferred_language"])
    client.force_login(cashier)
    signed_in = client.get("/test/items/1/log/", HTTP_ACCEPT_LANGUAGE="fr")
    assert signed_in.status_code == 200
    assert signed_in["Content-Language"] == "rw"
    assert loads == ["/test/items/1/log/"]


def test_a_page_in_the_language_already_in_effect_is_answered_without_activating_it(
    client, monkeypatch
):
    """English, the default, is in effect when no language is active: the middleware answers in
    it without activating it (the cheapest request's CPU, bench/README.md "stack"), and still
    activates any other language for its request only."""
    activated = []
    real_activate = translation.activate
    monkeypatch.setattr(
        translation, "activate", lambda code: activated.append(code) or real_activate(code)
    )

    english = client.get(reverse("accounts:login"))
    french = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="fr")

    assert "<h1>Sign in</h1>" in english.content.decode()
    assert english["Content-Language"] == "en"
    assert {"Accept-Language", "Cookie"} <= set(english["Vary"].split(", "))
    assert "<h1>Se connecter</h1>" in french.content.decode()
    assert french["Content-Language"] == "fr"
    assert activated == ["fr"]
    assert translation.get_language() == "en"  # nothing left active after the French page


BROWSERS = [
    (None, ""),
    (None, "fr-FR,fr;q=0.9,en;q=0.5"),
    (None, "de-DE,de;q=0.9"),
    (None, "*"),
    (None, "rw;q=0.2, fr;q=0.8"),
    ("rw", ""),
    ("rw", "fr"),
    ("fr-ca", ""),  # a variant of a language the shop speaks
    ("xx", "fr"),  # a language the shop does not speak
    ("", "rw"),
]


@pytest.mark.parametrize("language_code", ["en", "fr"])
def test_the_browsers_language_is_djangos_for_every_cookie_and_header(rf, settings, language_code):
    from accounts.middleware import browser_language

    settings.LANGUAGE_CODE = language_code
    for cookie, accept in BROWSERS * 2:  # the second time from the memo
        request = rf.get("/", HTTP_ACCEPT_LANGUAGE=accept)
        if cookie is not None:
            request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie
        expected = translation.get_language_from_request(request)
        assert browser_language(request) == expected, (cookie, accept)


def test_the_same_browser_again_is_answered_without_djangos_walk(client, monkeypatch):
    walks = []
    original = translation.get_language_from_request

    def counting(request, *args, **kwargs):
        walks.append(request)
        return original(request, *args, **kwargs)

    monkeypatch.setattr(translation, "get_language_from_request", counting)
    for _ in range(3):
        response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="fr-BE,fr;q=0.7")
        assert response["Content-Language"] == "fr"
    assert len(walks) <= 1  # fails before: one walk per request
