"""Error pages (handler400/403/404/500) and the rendering used by the middleware.

Every page extends templates/error_base.html and shows the request id; API paths and JSON
clients get the JSON error shape from monitoring.errors instead.
"""

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from monitoring.errors import (
    DATABASE_RETRY_AFTER,
    DATABASE_UNAVAILABLE,
    DEFAULT_ERRORS,
    debug_detail,
    error_payload,
    report_system_error,
    request_id_of,
    too_large_message,
    wants_json,
)

PAGES = (400, 403, 404, 429, 500, 503)  # templates/<status>.html; others use error_base.html


def render_error(request, status: int, *, code=None, message=None, fields=None, exc=None, **ctx):
    """Answer an error with the given status: JSON for the API, the shop's error page otherwise."""
    default_code, default_message = DEFAULT_ERRORS.get(status, DEFAULT_ERRORS[400])
    code = code or default_code
    message = message or default_message
    if wants_json(request):
        payload = error_payload(request, code, message, status, fields)
        detail = debug_detail(exc)
        if detail:
            payload["error"]["detail"] = detail
        return JsonResponse(payload, status=status)
    template = f"{status}.html" if status in PAGES else "error_base.html"
    context = {
        "status": status,
        "code": code,
        "message": message,
        "fields": fields or {},
        "request_id": request_id_of(request),
        "debug_detail": debug_detail(exc),
        "title": None if status in PAGES else _("That could not be done"),
        **ctx,
    }
    try:
        return render(request, template, context, status=status)
    except Exception:  # the page itself failed (database down?): still answer, still say the id
        logging.getLogger("vevurn.errors").exception("Could not render the %s page", status)
        return HttpResponse(
            f"{message}\n{_('Reference for support:')} {context['request_id']}\n",
            status=status,
            content_type="text/plain; charset=utf-8",
        )


def database_unavailable(request, exc: BaseException):
    """503 with a Retry-After: the database is unreachable and nothing was half-written."""
    report_system_error(exc)
    response = render_error(request, 503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        # Read while a middleware looked at the form (CSRF): too large, not malformed.
        return render_error(request, 413, message=too_large_message())
    return render_error(request, 400)


def permission_denied(request, exception=None):
    return render_error(request, 403)


def page_not_found(request, exception=None):
    return render_error(request, 404)


def server_error(request):
    """Django's handler500: reached only by exceptions that escaped outside a view (a view's own
    are answered by RequestIdMiddleware.process_exception), so report them here."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return database_unavailable(request, exc)
    if exc is not None:
        report_system_error(exc)
    return render_error(request, 500, exc=exc)
