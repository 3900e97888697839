"""Sessions and CSRF: every form and session-authenticated API write needs the CSRF token;
production cookies are Secure, HttpOnly and SameSite; logging out kills the session; weak
passwords are refused; a changed password signs out every other session."""

import json

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.deploy.production import manage, production_env
from tests.security.test_access_matrix import ROUTES, concrete_url

# The providers' callbacks are the csrf-exempt POSTs: no credentials, and only an id is read.
# Callbacks from outside (Mobile Money networks, the SMS gateway's delivery reports): no browser,
# no session; each proves itself otherwise (a secret in the URL, a reference to ask back about).
CSRF_EXEMPT = {
    "pos/momo/callback/<str:reference_id>/",
    "pos/momo/airtel/callback/",
    "pos/messages/delivery-report/",
}
FORM_AND_WRITE_ROUTES = sorted(
    route
    for route, access in ROUTES.items()
    if (access.post or access.patch or access.delete) and route not in CSRF_EXEMPT
)


def signed_in(user, *, csrf=True):
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def csrf_refused(response) -> bool:
    body = response.content.decode(errors="replace")
    return response.status_code == 403 and "CSRF" in body


@pytest.mark.django_db
@pytest.mark.parametrize("route", FORM_AND_WRITE_ROUTES)
def test_every_form_and_session_api_write_needs_the_csrf_token(route, shop):
    client = signed_in(shop["users"]["admin"])
    url = concrete_url(route, shop)
    access = ROUTES[route]
    for method in ("post", "patch", "delete"):
        if getattr(access, method) is None:
            continue
        response = client.generic(method.upper(), url, "{}", "application/json")
        assert csrf_refused(response), f"{method.upper()} {url}: {response.status_code}"


@pytest.mark.django_db
def test_with_the_token_the_same_write_goes_through(shop):
    client = signed_in(shop["users"]["manager"])
    client.get("/password/")  # a form: sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/categories/",
        json.dumps({"name": "Screens"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
    # An API token needs no CSRF token: it is not sent by a browser on its own.
    by_token = Client(
        enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {shop['tokens']['manager']}"
    )
    response = by_token.post(
        "/api/v1/categories/", json.dumps({"name": "Cases"}), content_type="application/json"
    )
    assert response.status_code == 201


def test_production_cookies_are_secure_and_same_site_and_the_session_one_http_only():
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n) "
        "for n in ['SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', "
        "'SESSION_COOKIE_NAME', 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY', "
        "'CSRF_COOKIE_SAMESITE', 'CSRF_COOKIE_NAME', 'SESSION_COOKIE_AGE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS']}))"
    )
    done = manage("shell", "-c", script, env=production_env())
    assert done.returncode == 0, done.stderr
    production = json.loads(done.stdout.strip().splitlines()[-1])
    assert production == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "__Secure-sessionid",
        "CSRF_COOKIE_SECURE": True,
        # Not HttpOnly, and it need not be: the token is no secret from the page it protects
        # (Django's docs, "CSRF_COOKIE_HTTPONLY"); what matters is that another site cannot
        # read it (SameSite, the same-origin policy).
        "CSRF_COOKIE_HTTPONLY": False,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_NAME": "__Secure-csrftoken",
        "SESSION_COOKIE_AGE": 43200,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 86400,
    }


@pytest.mark.django_db
def test_the_session_cookie_a_browser_gets_carries_the_flags(client, cashier, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = client.post("/", {"username": "cashier", "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_logging_out_kills_the_session_not_just_the_cookie(cashier):
    browser = Client()
    assert browser.post("/", {"username": "cashier", "password": PASSWORD}).status_code == 302
    stolen = browser.cookies["sessionid"].value
    assert browser.get("/home/").status_code == 200
    browser.post("/logout/")

    replay = Client()
    replay.cookies["sessionid"] = stolen
    response = replay.get("/home/")
    assert response.status_code == 302 and response["Location"].startswith("/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short1", "This password is too short"),
        ("password123", "This password is too common"),
        ("83920174652", "This password is entirely numeric"),
        ("cashier12", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused(cashier, new_password, message):
    client = signed_in(cashier, csrf=False)
    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 200 and message in response.content.decode()
    cashier.refresh_from_db()
    assert cashier.check_password(PASSWORD)


def sign_in(username):
    browser = Client()
    assert browser.post("/", {"username": username, "password": PASSWORD}).status_code == 302
    return browser


def signed_out(browser) -> bool:
    response = browser.get("/home/")
    return response.status_code == 302 and response["Location"].startswith("/?next=")


@pytest.mark.django_db
def test_changing_my_password_signs_out_my_other_sessions_only(cashier):
    till, phone = sign_in("cashier"), sign_in("cashier")
    new = "a-much-longer-till-password-2026"
    response = till.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert not signed_out(till)  # the session that changed it goes on
    assert signed_out(phone)


@pytest.mark.django_db
def test_a_password_set_by_an_admin_signs_the_user_out_everywhere(cashier, admin_user):
    till = sign_in("cashier")
    admin = signed_in(admin_user, csrf=False)
    new = "set-by-the-admin-for-grace-2026"
    response = admin.post(
        f"/admin/accounts/user/{cashier.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert signed_out(till)
    assert not signed_out(admin)
