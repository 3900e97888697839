"""One error shape for every JSON answer, and one way to report a system error.

JSON errors everywhere (API views, the DRF handler, the middleware, rate limits) look like::

    {"error": {"code": "out_of_stock", "message": "...", "fields": {"qty": ["..."]},
               "request_id": "3f2a..."}}
"""

import logging
import traceback

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from monitoring import request_context

logger = logging.getLogger("vevurn.errors")

SYSTEM_ERROR_COUNTER = "monitoring:errors:system"
# The database is unreachable or dropped the connection (a restart, a failover, a cancelled
# statement): whatever the request wrote was rolled back, so the client may send it again (a
# checkout with the same Idempotency-Key). Answered 503 with Retry-After, never 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# Seconds a client should wait before retrying when the database is unreachable.
DATABASE_RETRY_AFTER = 5
GENERIC_MESSAGE = _("Something went wrong on our side. It has been recorded; please try again.")


def request_id_of(request) -> str | None:
    return getattr(request, "request_id", None) or request_context.get("request_id")


# The code and message said for a status when the caller gives none.
DEFAULT_ERRORS = {
    400: ("bad_request", _("The request could not be understood.")),
    401: ("not_authenticated", _("Please sign in.")),
    403: ("permission_denied", _("You are not allowed to do that.")),
    404: ("not_found", _("We could not find that page.")),
    409: ("conflict", _("The request conflicts with the current state.")),
    413: ("request_too_large", _("The request is too large.")),
    415: ("unsupported_media_type", _("Send the request body as JSON.")),
    429: ("rate_limited", _("Too many attempts. Please wait and try again.")),
    500: ("server_error", GENERIC_MESSAGE),
    503: ("unavailable", _("The shop system is briefly unavailable. Please try again shortly.")),
}


def error_payload(
    request,
    code: str | None = None,
    message: str | None = None,
    status: int = 400,
    fields: dict | None = None,
) -> dict:
    """The JSON error body every error answer uses.

    `request` may be None (then request_id is the one in the logging context, if any);
    `code`/`message` default to the usual ones for `status`; `fields` maps a field name to its
    messages. Example: ``JsonResponse(error_payload(request, "rate_limited", msg, 429),
    status=429)`` -- or ``error_response(...)``, which does exactly that.
    """
    default_code, default_message = DEFAULT_ERRORS.get(status, DEFAULT_ERRORS[400])
    return {
        "error": {
            "code": code or default_code,
            "message": str(message or default_message),
            "fields": {name: [str(m) for m in msgs] for name, msgs in (fields or {}).items()},
            "request_id": request_id_of(request),
        }
    }


def error_response(
    request,
    code: str | None = None,
    message: str | None = None,
    status: int = 400,
    fields: dict | None = None,
) -> JsonResponse:
    """A JsonResponse with `error_payload(...)` as body and the given HTTP status."""
    return JsonResponse(error_payload(request, code, message, status, fields), status=status)


def wants_json(request) -> bool:
    """API paths and clients that ask for JSON get JSON errors; browsers get a page."""
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def domain_error_fields(error: DomainError) -> dict:
    return dict(getattr(error, "fields", None) or {})


def log_domain_error(error: DomainError, *, status: int | None = None) -> None:
    """Operational: a warning (info below 400), no stack trace. `status` is the status the
    client is sent when it is not the error's own (the API's 422 for a business rule)."""
    status = status or error.status
    level = logging.WARNING if status >= 400 else logging.INFO
    logger.log(
        level,
        "%s: %s",
        error.code,
        error.message,
        extra={"error_code": error.code, "error_status": status},
    )


def report_system_error(exc: BaseException) -> None:
    """A bug: logged at error with the stack trace, counted, sent to Sentry. Never raises."""
    logger.error(
        "Unhandled %s: %s",
        type(exc).__name__,
        exc,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    count_system_error()
    try:
        import sentry_sdk

        sentry_sdk.capture_exception(exc)
    except Exception:  # noqa: S110 - reporting must never turn into a second error
        pass


def count_system_error() -> None:
    """Increment the system error counter for monitoring; a cache failure is only logged."""
    try:
        if not cache.add(SYSTEM_ERROR_COUNTER, 1, timeout=None):
            cache.incr(SYSTEM_ERROR_COUNTER)
    except Exception:
        logging.getLogger("vevurn.monitoring").warning(
            "Could not count a system error in the cache", exc_info=False
        )


def debug_detail(exc: BaseException | None) -> str | None:
    """The exception and its traceback, only when DEBUG is on."""
    if exc is None or not settings.DEBUG:
        return None
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def too_large_message() -> str:
    """What a caller sees when the body passes DATA_UPLOAD_MAX_MEMORY_SIZE (a 413)."""
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    from django.utils.formats import number_format

    kilobytes = number_format(limit // 1024, 0, use_l10n=True, force_grouping=True)
    return _("The request is too large: send at most %(size)s KB.") % {"size": kilobytes}
