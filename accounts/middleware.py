import functools
from urllib.parse import urlencode

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts import two_factor
from monitoring.errors import error_response
from vevurn.middleware import signed_in_user


class LanguageMiddleware:
    """Activates the language of the request (in place of Django's LocaleMiddleware).

    - The API (/api/) answers in the language of `Accept-Language`: a script or an app says
      what it wants with each request; without the header, as below.
    - A signed-in user with a preferred language gets it on every screen, whatever the browser.
    - Anyone else (the sign-in page): the switcher's cookie, else the browser's
      `Accept-Language`, else English.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        if language == translation.get_language():
            # Already in effect: the default with none active, as for most anonymous pages and
            # API calls. Activating it and deactivating it again would change nothing for this
            # request, at ~4 µs of asgiref's Local (bench/README.md, "stack").
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        else:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            try:
                response = self.get_response(request)
            finally:
                # The next request on this thread (or a job, a command) starts from the default.
                translation.deactivate()
        if response.has_header("Vary"):
            patch_vary_headers(response, VARY)
        else:  # what patch_vary_headers writes then, without parsing an empty header
            response.headers["Vary"] = ", ".join(VARY)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


# The answer depends on these request headers (the session cookie: a user's own language).
VARY = ("Accept-Language", "Cookie")


def accept_language(request) -> str | None:
    """The first language of the request's Accept-Language that the shop speaks, or None."""
    header = request.headers.get("Accept-Language", "")
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def request_language(request) -> str:
    if request.path.startswith("/api/"):
        found = accept_language(request)
        if found:
            return found
    user = signed_in_user(request)
    if user is not None and user.preferred_language:
        return user.preferred_language
    return browser_language(request)


def browser_language(request) -> str:
    """translation.get_language_from_request(request), remembered by the two things it reads:
    the language cookie and the Accept-Language header (the same few pairs come again and
    again). Django's answer for a pair depends otherwise only on the language settings and the
    catalogs found at start, which Django's own caches already hold for the process; its walk
    (the cookie checked, the header parsed, each code's variant looked up) cost ~5 µs of
    every request's CPU (bench/README.md, "stack")."""
    return _language_for(
        request.COOKIES.get(_language_cookie_name()),
        request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
    )


class _Asked:
    """What get_language_from_request reads of a request (without check_path)."""

    def __init__(self, cookie: str | None, accept: str):
        self.COOKIES = {} if cookie is None else {_language_cookie_name(): cookie}
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept}


# Bounded: both values come from the client.
@functools.lru_cache(maxsize=256)
def _language_for(cookie: str | None, accept: str) -> str:
    return translation.get_language_from_request(_Asked(cookie, accept))


@functools.cache
def _language_cookie_name() -> str:
    return settings.LANGUAGE_COOKIE_NAME


@receiver(setting_changed)
def _languages_changed(*, setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "LANGUAGE_COOKIE_NAME"}:
        _language_for.cache_clear()
        _language_cookie_name.cache_clear()


class SignInGateMiddleware:
    """A signed-in user who has not finished signing in reaches only what finishes it. After
    django_otp's OTPMiddleware. One middleware for both gates, one layer on every request
    (the anonymous and the token requests pass straight through):

    - a temporary password: nothing but changing it (or signing out);
    - signed in with a password but not yet with the second factor: nothing but the code page
      (or, for an admin with no authenticator yet, its setup) and signing out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = signed_in_user(request)
        if user is None:
            return self.get_response(request)
        if user.must_change_password:
            allowed = {reverse("accounts:password_change"), reverse("accounts:logout")}
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("accounts:password_change")
        return self._two_factor(request, user)

    def _two_factor(self, request, user):
        state = request.session.get(two_factor.SESSION_KEY)
        if state is None:  # a session from before two-factor sign-in existed
            two_factor.remember_state(request, user)
            state = request.session[two_factor.SESSION_KEY]
        if state == two_factor.NOT_NEEDED or user.is_verified():
            return self.get_response(request)
        target = (
            "accounts:two_factor_verify"
            if state == two_factor.NEEDS_CODE
            else "accounts:two_factor_setup"
        )
        allowed = {reverse(target), reverse("accounts:logout")}
        if user.must_change_password:
            allowed.add(reverse("accounts:password_change"))
        if request.path in allowed or request.path.startswith("/static/"):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return error_response(
                request,
                "two_factor_required",
                gettext("Finish signing in with your authenticator code first."),
                403,
            )
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
