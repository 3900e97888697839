"""Error pages (handler400/403/404/500) and the rendering used by the middleware.

Every page extends templates/error_base.html and shows the request id; API paths and JSON
clients get the JSON error shape from monitoring.errors instead.
"""

import logging
import sys

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from monitoring.errors import (
    GENERIC_MESSAGE,
    debug_detail,
    error_payload,
    report_system_error,
    request_id_of,
    wants_json,
)

DEFAULT_MESSAGES = {
    400: ("bad_request", "The request could not be understood."),
    403: ("permission_denied", "You are not allowed to do that."),
    404: ("not_found", "We could not find that page."),
    429: ("rate_limited", "Too many attempts. Please wait and try again."),
    500: ("server_error", GENERIC_MESSAGE),
    503: ("unavailable", "The shop system is briefly unavailable. Please try again shortly."),
}


def render_error(request, status: int, *, code=None, message=None, fields=None, exc=None, **ctx):
    """Answer an error with the given status: JSON for the API, the shop's error page otherwise."""
    default_code, default_message = DEFAULT_MESSAGES.get(status, DEFAULT_MESSAGES[400])
    code = code or default_code
    message = message or default_message
    if wants_json(request):
        payload = error_payload(request, code, message, fields)
        detail = debug_detail(exc)
        if detail:
            payload["error"]["detail"] = detail
        return JsonResponse(payload, status=status)
    template = f"{status}.html" if status in DEFAULT_MESSAGES else "error_base.html"
    context = {
        "status": status,
        "code": code,
        "message": message,
        "fields": fields or {},
        "request_id": request_id_of(request),
        "debug_detail": debug_detail(exc),
        **ctx,
    }
    try:
        return render(request, template, context, status=status)
    except Exception:  # the page itself failed (database down?): still answer, still say the id
        logging.getLogger("vevurn.errors").exception("Could not render the %s page", status)
        return HttpResponse(
            f"{message}\nReference for support: {context['request_id']}\n",
            status=status,
            content_type="text/plain; charset=utf-8",
        )


def bad_request(request, exception=None):
    return render_error(request, 400)


def permission_denied(request, exception=None):
    return render_error(request, 403)


def page_not_found(request, exception=None):
    return render_error(request, 404)


def server_error(request):
    """Django's handler500: reached only by exceptions that escaped outside a view (a view's own
    are answered by RequestIdMiddleware.process_exception), so report them here."""
    exc = sys.exc_info()[1]
    if exc is not None:
        report_system_error(exc)
    return render_error(request, 500, exc=exc)
