"""Request id, request context, access log line and error answers for every request."""

import logging
import os
import random
import re
import time

import sentry_sdk
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404

from core.errors import DomainError
from monitoring import request_context
from monitoring.client_ip import client_ip, is_trusted_proxy, trusted_proxies
from monitoring.errors import (
    DATABASE_UNAVAILABLE,
    domain_error_fields,
    log_domain_error,
    report_system_error,
)
from monitoring.logging import log_access
from monitoring.views import database_unavailable, render_error
from vevurn.middleware import signed_in_user

access_logger = logging.getLogger("vevurn.access")

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from a proxy: a uuid, a hex or base64url token... not free text for the logs.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
# Exceptions Django itself turns into 400/403/404 pages through the handlers.
DJANGO_HANDLED = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)


# Fresh request ids come from a generator of this process's own, seeded from os.urandom at start
# and again in each forked worker. Not uuid4(): its os.urandom call releases the GIL on every
# request, and a thread waiting for the GIL at that moment (the metrics flush thread, after each
# Redis reply) is woken each time and may lose the race for it again and again (up to ~100 ms
# measured), each request paying for the wake-up meanwhile: ~9 µs on the median of the in-process
# benchmark. A request id correlates log lines; it is not a secret.
_request_ids = random.Random()  # noqa: S311 - a correlation id, not a secret
os.register_at_fork(after_in_child=_request_ids.seed)


def new_request_id() -> str:
    """32 lowercase hex digits, like uuid4().hex."""
    return f"{_request_ids.getrandbits(128):032x}"


def incoming_request_id(request, networks: list) -> str | None:
    """The proxy's X-Request-ID, only from a trusted proxy and only when well-formed."""
    if not is_trusted_proxy(request.META.get("REMOTE_ADDR", ""), networks):
        return None
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    return candidate if VALID_REQUEST_ID.fullmatch(candidate) else None


def route_of(request) -> str | None:
    """The URL pattern that matched (`sales/<int:pk>/`), never the raw path with its ids."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    return "/" + match.route


class RequestIdMiddleware:
    """Goes first in MIDDLEWARE, so every answer -- redirects included -- has a request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        networks = trusted_proxies()
        request_id = incoming_request_id(request, networks) or new_request_id()
        request.request_id = request_id
        token = request_context.bind(
            request_id=request_id,
            method=request.method,
            client_ip=client_ip(request, networks),
            route=None,
            user=None,
        )
        try:
            if sentry_sdk.get_client().is_active():
                with sentry_sdk.isolation_scope() as scope:
                    scope.set_tag("request_id", request_id)
                    response = self.get_response(request)
            else:  # no Sentry (no SENTRY_DSN): no scope to keep apart, skip the copying
                response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            route = route_of(request)
            request_context.update(route=route)
            log_access(
                access_logger,
                request.method,
                route or "<unmatched>",
                response.status_code,
                round((time.perf_counter() - started) * 1000, 1),
            )
            return response
        finally:
            request_context.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request_context.update(route=route_of(request))
        # The session's user; an API token's user is named when the API authenticates it
        # (pos.api.authentication), which happens inside the view.
        request_context.identify(signed_in_user(request))
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            log_domain_error(exception)
            return render_error(
                request,
                exception.status,
                code=exception.code,
                message=exception.message,
                fields=domain_error_fields(exception),
            )
        if isinstance(exception, DJANGO_HANDLED):
            return None
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return database_unavailable(request, exception)
        report_system_error(exception)
        return render_error(request, 500, exc=exception)
