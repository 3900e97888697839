"""Request hygiene that every screen, the admin and the API share."""

import functools

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty

from monitoring.views import render_error


def signed_in_user(request):
    """The request's user if someone is signed in, else None; without loading the user when the
    answer is known anyway.

    request.user is AuthenticationMiddleware's lazy object (wrapped again by django-otp's):
    evaluating it reads the session, then the user and its two-factor device. A request without
    a session cookie has an empty session, so its user is anonymous: answered here without
    evaluating it (most of the cheapest request's user cost: ~15 µs of CPU). A user set
    otherwise (a test's, one already evaluated) is asked as usual.
    """
    user = request.__dict__.get("user")
    if user is None:
        return None
    if (
        isinstance(user, SimpleLazyObject)
        and user._wrapped is empty
        and _session_cookie_name() not in request.COOKIES
    ):
        return None
    return user if user.is_authenticated else None


@functools.cache
def _session_cookie_name() -> str:
    return settings.SESSION_COOKIE_NAME


class RejectNulCharactersMiddleware:
    """A NUL character in a query parameter is answered with a 400 naming the parameter.

    No one types one; PostgreSQL refuses it in text, so a search or an admin filter that passed
    it to a query would fail with a 500. Form fields already refuse it (Django's
    ProhibitNullCharactersValidator); JSON bodies are checked by the serializers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" not in query and "\x00" not in query:  # the only ways a NUL gets in
            return self.get_response(request)
        bad = sorted(
            name
            for name, values in request.GET.lists()
            if "\x00" in name or any("\x00" in value for value in values)
        )
        if bad:
            return render_error(
                request,
                400,
                code="invalid",
                message="A search or filter contains a NUL character.",
                fields={
                    name.replace("\x00", ""): ["NUL characters are not allowed."] for name in bad
                },
            )
        return self.get_response(request)


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's MessageMiddleware with the message storage built when a request first uses it.

    Django builds it for every request: FallbackStorage makes a cookie storage, whose cookie
    signer derives a key from SECRET_KEY, and a session storage (~15-30 µs of the cheapest
    request's CPU, bench/README.md "stack"), though most requests (the API, the probes, a page
    that neither adds nor shows a message) never touch it. Here request._messages is a lazy
    object over the same storage; a storage that was never built has nothing to store, which
    is what Django's `update` finds for one that was built and left unused (no message added,
    none read), so the answer is the same: no cookie set or deleted, the session untouched.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(functools.partial(default_storage, request))

    def process_response(self, request, response):
        messages = request.__dict__.get("_messages")
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response  # never used: nothing added, nothing read, nothing to store
        return super().process_response(request, response)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with the policy built once, not on every answer.

    django-csp builds both headers from the settings for each response (a copy of every
    directive, two dataclasses turned into dicts): about a tenth of the cheapest request's CPU.
    Here the headers are built at the first answer and again only when a CONTENT_SECURITY_POLICY
    setting changes; an answer whose view changes its policy (`csp_update`, `csp_replace`,
    `csp_exempt`...) or whose page used `request.csp_nonce` goes through django-csp's own code,
    so every answer carries exactly the header django-csp would write.
    """

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        # MiddlewareMixin.__call__ without its hasattr lookups: both hooks are here, and
        # process_request never answers.
        self.process_request(request)
        return self.process_response(request, self.get_response(request))

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or not _OVERRIDES.isdisjoint(
            vars(response)  # the decorators set these on the response object
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (500, 404):
            return response
        for header, value, excluded in _policy_headers():
            if value and header not in response and not request.path_info.startswith(excluded):
                response[header] = value
        request.csp_nonce = _NONCE_AFTER_RESPONSE
        return response


# What django-csp's decorators set on a response (csp_update, csp_replace, csp_exempt...).
_OVERRIDES = frozenset(
    (
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
        "_csp_exempt",
        "_csp_exempt_ro",
    )
)
# request.csp_nonce once the header is written: raises CSPNonceError when read, as django-csp's
# own; one for every request, since it never holds a value (its function always raises).
_NONCE_AFTER_RESPONSE = CheckableLazyObject(CSPMiddleware._csp_nonce_post_response)


@functools.cache
def _policy_headers() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(header, value, excluded path prefixes) for the policy and the report-only policy."""
    found = []
    for header, name, report_only in (
        (HEADER, "CONTENT_SECURITY_POLICY", False),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
    ):
        policy = getattr(settings, name, None) or {}
        excluded = tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())
        found.append((header, build_policy(report_only=report_only), excluded))
    return tuple(found)


@receiver(setting_changed)
def _policy_changed(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policy_headers.cache_clear()
    if setting == "SESSION_COOKIE_NAME":
        _session_cookie_name.cache_clear()
