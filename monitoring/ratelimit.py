"""Rate limits on django-ratelimit's fixed-window counters (kept in the default cache), each
counted in one Redis round trip (`usage`).

Limits are named in `settings.RATE_LIMITS` ("5/15m" style). Over a limit the client gets a 429
with `Retry-After` and `RateLimit-*` headers: the JSON error shape under /api/, the friendly
429 page on screens. The counters live in Redis (shared by every instance); while Redis is down
they live in each process's memory (see monitoring/cache.py), and the limiter never raises.
"""

from __future__ import annotations

import functools
import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_ratelimit import core as ratelimit_core
from django_ratelimit.exceptions import Ratelimited

from monitoring.cache import ResilientRedisCache
from monitoring.client_ip import client_ip
from monitoring.errors import DATABASE_UNAVAILABLE, error_response
from monitoring.views import database_unavailable
from vevurn.middleware import signed_in_user


@dataclass(frozen=True)
class Usage:
    limit: int
    count: int
    reset: int  # seconds until the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exhausted(self) -> bool:
        return self.count >= self.limit

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def usage(request, name: str, key: str, *, increment: bool) -> Usage | None:
    """Count (or just read) the use of limit `name` by `key`; None when rate limiting is off.

    django-ratelimit's fixed window, its rate syntax and its cache key, counted in one cache
    call: its `get_usage` makes two (`add`, then `incr` once the window's counter exists), two
    Redis round trips per limit per request. The key is the one `get_usage` uses, so both count
    the same counter (a rolling deploy, the admin's own decorators)."""
    found = usages([(name, key)], increment=increment)
    return None if found is None else found[0]


def usages(limits: list[tuple[str, str]], *, increment: bool) -> list[Usage] | None:
    """`usage` of each (name, key) of `limits`, all counted in one cache call (one Redis round
    trip: the API's limit with its view's); None when rate limiting is off."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    now = int(time.time())
    counters, found = [], []
    for name, key in limits:
        rate = settings.RATE_LIMITS[name]
        limit, period = _split_rate(rate)
        window = ratelimit_core._get_window(key, period)
        counters.append(
            (
                _cache_key(name, window, rate, key),
                1 if increment else 0,
                period + ratelimit_core.EXPIRATION_FUDGE,
            )
        )
        found.append((limit, max(1, window - now)))
    counts = count_in_window(caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")], counters)
    return [
        Usage(limit=limit, count=count, reset=reset)
        for (limit, reset), count in zip(found, counts, strict=True)
    ]


# django-ratelimit parses the rate and hashes the key's parts on every call; both depend only on
# their arguments (the window changes once a period), so each is kept.
_split_rate = functools.lru_cache(maxsize=64)(ratelimit_core._split_rate)


@functools.lru_cache(maxsize=4096)
def _cache_key(name: str, window: int, rate: str, key: str) -> str:
    return ratelimit_core._make_cache_key(f"vevurn.{name}", window, rate, key, ratelimit_core.ALL)


def count_in_window(cache, counters: list[tuple[str, int, int]]) -> list[int]:
    """Each counter (key, delta, timeout) after adding its delta (0: only read it), created with
    its timeout. One call to our resilient cache (one Redis round trip, or the in-process
    fallback); on any other backend (LocMem without REDIS_URL) Django's add, then incr, per
    counter, as django-ratelimit does."""
    if isinstance(cache, ResilientRedisCache):
        return cache.count_many(counters)
    return [_add_then_incr(cache, key, delta, timeout) for key, delta, timeout in counters]


def _add_then_incr(cache, key: str, delta: int, timeout: int) -> int:
    if cache.add(key, delta, timeout):
        return delta
    if not delta:
        return cache.get(key, 0)
    try:
        return cache.incr(key, delta)
    except ValueError:  # expired between the add and the incr: this window's first use
        cache.add(key, delta, timeout)
        return delta


def user_or_ip(request, user=None) -> str:
    """Signed-in traffic is keyed by user (a shop's tills share one IP), the rest by IP. `user`:
    the request's user found otherwise (the API middleware's, from the token), else its own."""
    if user is None:
        user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


def ip(request, user=None) -> str:
    return f"ip:{client_ip(request)}"


KEYS = {"user_or_ip": user_or_ip, "ip": ip}


def add_headers(response, found: Usage):
    response["RateLimit-Limit"] = str(found.limit)
    response["RateLimit-Remaining"] = str(found.remaining)
    response["RateLimit-Reset"] = str(found.reset)
    return response


def wait_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def too_many_requests(request, found: Usage | None = None, *, retry_after: int | None = None):
    """The 429 response: JSON for the API, the friendly page for screens."""
    retry_after = found.reset if found is not None else (retry_after or 60)
    message = _("Too many requests. Try again in %(wait)s.") % {"wait": wait_message(retry_after)}
    if request.path.startswith("/api/"):
        response = error_response(request, "rate_limited", message, 429)
    else:
        response = render(
            request,
            "429.html",
            {"retry_after": retry_after, "wait": wait_message(retry_after), "message": message},
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    if found is not None:
        add_headers(response, found)
    return response


def limit(name: str, *, key: str = "user_or_ip"):
    """Decorate a view with limit `name` from settings.RATE_LIMITS, e.g. `@limit("checkout")`
    (30/min per user) or `@limit("strict", key="ip")` for password reset and token creation.

    Under /api/, ApiRateLimitMiddleware counts the view's limit for a signed-in client with its
    own, in one Redis round trip (`rate_limit` names the limit to it); the view then uses that
    count. Elsewhere the view counts its limit itself."""
    key_function = KEYS[key]

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            own_key = key_function(request)
            counted = getattr(request, "counted_limits", None)
            if counted and counted.get(name, (None,))[0] == own_key:
                found = counted.pop(name)[1]
            else:
                found = usage(request, name, own_key, increment=True)
            if found is not None and found.exceeded:
                return too_many_requests(request, found)
            response = view(request, *args, **kwargs)
            if found is not None:
                add_headers(response, found)
            return response

        wrapped.rate_limit = (name, key)
        return wrapped

    return decorator


def _view_limit(view_func, method: str) -> tuple[str, str] | None:
    """The (name, key) of the `limit` on the view about to answer, if any: on the view itself,
    or on the handler a DRF view or viewset calls for `method` (method_decorator carries the
    attribute over)."""
    found = getattr(view_func, "rate_limit", None)
    view_class = getattr(view_func, "cls", None)
    if found is None and view_class is not None:
        actions = getattr(view_func, "actions", None)
        handler = actions.get(method.lower()) if actions else method.lower()
        found = getattr(getattr(view_class, handler or "", None), "rate_limit", None)
    return found


def login_keys(request, username: str) -> dict[str, str]:
    """The sign-in limits' keys: per username + IP, and per IP."""
    address = client_ip(request)
    return {"login_user": f"{username.strip().lower()}|{address}", "login_ip": address}


def exhausted_login_limit(request) -> Usage | None:
    """The sign-in limit this POST has used up (without counting it), or None."""
    username = request.POST.get("username", "")
    found = usages(list(login_keys(request, username).items()), increment=False) or []
    return next((each for each in found if each.exhausted), None)


# How long an attempt may hold its (username, IP) slot if the process dies mid-attempt.
LOGIN_SLOT_SECONDS = 10


@contextmanager
def login_slot(request):
    """One sign-in attempt at a time per username + IP. Failures are counted only after the
    password check, so without this, parallel attempts would all pass the limit check before
    any of them is counted. Yields False when another attempt holds the slot."""
    from django.core.cache import cache

    key = (
        "login:slot:"
        + hashlib.sha256(
            login_keys(request, request.POST.get("username", ""))["login_user"].encode()
        ).hexdigest()
    )
    acquired = cache.add(key, 1, timeout=LOGIN_SLOT_SECONDS)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(key)


def login_guard(login_view):
    """Refuse sign-in POSTs over the login limits (for login views other than ours, e.g. the
    admin's); failures are counted by the `user_login_failed` receiver."""

    @functools.wraps(login_view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        with login_slot(request) as mine:
            if not mine:
                return too_many_requests(request, retry_after=1)
            found = exhausted_login_limit(request)
            if found is not None:
                return too_many_requests(request, found)
            return login_view(request, *args, **kwargs)

    return wrapped


class ApiRateLimitMiddleware:
    """The general API limit: per IP for anonymous clients, per user once signed in.

    Placed after AuthenticationMiddleware. Health probes are never limited. Finding the user
    reads the database (session, token): while it is unreachable the answer is the API's 503
    with Retry-After, as the view's would be, not a 500 from a middleware.

    Counted once the view is known (`process_view`), with the view's own `limit` for a signed-in
    client (the API's checkout: two limits, one Redis round trip), so a request over either is
    refused before the view. A request that reaches no view (not found, refused by an earlier
    check) is counted after its answer.
    """

    exempt_prefixes = ("/api/health/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if not path.startswith("/api/") or path.startswith(self.exempt_prefixes):
            return self.get_response(request)
        try:
            # A token client sends no session cookie: its (anonymous) session user is not
            # loaded for nothing (vevurn.middleware.signed_in_user).
            user = signed_in_user(request) or _token_user(request)
        except DATABASE_UNAVAILABLE as error:
            return database_unavailable(request, error)
        if user is not None and user.is_authenticated:
            name, key = "api_user", f"user:{user.pk}"
        else:
            user, name, key = None, "api_anon", ip(request)
        request.api_limit = (name, key, user)
        response = self.get_response(request)
        found = request.__dict__.pop("api_limit_usage", _NOT_COUNTED)
        if found is _NOT_COUNTED:
            found = usage(request, name, key, increment=True)
        if found is not None:
            add_headers(response, found)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        pending = request.__dict__.pop("api_limit", None)
        if pending is None:
            return None
        name, key, user = pending
        limits = [(name, key)]
        view_limit = _view_limit(view_func, request.method) if user is not None else None
        if view_limit is not None:
            view_name, key_name = view_limit
            view_key = KEYS[key_name](request, user)
            limits.append((view_name, view_key))
        found = usages(limits, increment=True)
        request.api_limit_usage = None if found is None else found[0]
        if found is None:
            return None
        if view_limit is not None:
            request.counted_limits = {view_name: (view_key, found[1])}
        if found[0].exceeded:
            return too_many_requests(request, found[0])
        return None

    def process_exception(self, request, exception):
        """django-ratelimit's own decorator (`@ratelimit(block=True)`) raises `Ratelimited`, a
        PermissionDenied: a 429 here, never a 403. This is what django-ratelimit's middleware
        would do with RATELIMIT_VIEW; here, without a middleware layer of its own on every
        request."""
        if isinstance(exception, Ratelimited):
            return too_many_requests(request)
        return None


_NOT_COUNTED = object()


def _token_user(request):
    """The user of a valid `Authorization: Token <key>` header (DRF authenticates it again in
    the view), so that token clients get the signed-in limit, keyed by user, not the IP's."""
    if not request.META.get("HTTP_AUTHORIZATION", "").startswith("Token "):
        return None
    from rest_framework.exceptions import AuthenticationFailed

    try:
        found = _token_authentication().authenticate(request)
    except AuthenticationFailed:
        return None
    if found:
        request.token_auth = found  # the API's authentication reuses it
    return found[0] if found else None


# The backend whose permissions the token's statement reads (what else would read them is
# another backend's business).
PERMISSIONS_BACKEND = "accounts.backends.PermissionsBackend"


@functools.cache
def _token_authentication():
    """DRF's TokenAuthentication, the token and its user read in one plain statement, the user
    built from its row as a queryset builds one (each value through the backend's and the
    field's converters into Model.from_db, as pos.services.rows.loaded does; monitoring does
    not import the shop): the ORM's compiling of `select_related("user").get(key=...)`, and
    `raw()`'s mapping of columns to fields, cost more CPU than the round trip. The same
    answers: an unknown key or an inactive user fails (the view's own authentication then
    says why).

    On PostgreSQL the user's permissions come in the same statement (an array, kept as the
    permissions backend would keep them when first asked: accounts.backends), one round trip
    fewer for every API request that checks a permission (each sale does)."""
    from django.db import connection
    from rest_framework.authentication import TokenAuthentication
    from rest_framework.authtoken.models import Token
    from rest_framework.exceptions import AuthenticationFailed

    from accounts.backends import permissions_array_sql, prefill_permissions, user_rows

    reading = user_rows()
    quote = connection.ops.quote_name
    selected = [reading.columns]
    with_permissions = connection.vendor == "postgresql"
    if with_permissions:
        selected.append(permissions_array_sql(f"u.{quote('id')}"))
    sql = (
        f"SELECT {', '.join(selected)} "  # noqa: S608
        f"FROM {quote(reading.model._meta.db_table)} u "
        f"JOIN {quote(Token._meta.db_table)} t ON t.{quote('user_id')} = u.{quote('id')} "
        f"WHERE t.{quote('key')} = %s"
    )

    class PlainTokenAuthentication(TokenAuthentication):
        def authenticate_credentials(self, key):
            with connection.cursor() as cursor:
                cursor.execute(sql, [key])
                row = cursor.fetchone()
            user = None if row is None else reading.user(row)
            if user is None or not user.is_active:
                raise AuthenticationFailed()
            if with_permissions and settings.AUTHENTICATION_BACKENDS == [PERMISSIONS_BACKEND]:
                prefill_permissions(user, row[-1])
            # The token as DRF's query gives it (its `created` read if ever asked for).
            token = Token.from_db(connection.alias, ["key", "user_id"], [key, user.pk])
            token.user = user
            return user, token

    return PlainTokenAuthentication()
