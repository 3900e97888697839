"""The DRF exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]): every API error in one shape."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import DomainError
from monitoring.errors import (
    DATABASE_RETRY_AFTER,
    DATABASE_UNAVAILABLE,
    GENERIC_MESSAGE,
    debug_detail,
    domain_error_fields,
    error_payload,
    log_domain_error,
    report_system_error,
    too_large_message,
)


def _field_messages(detail) -> dict:
    """DRF ValidationError detail -> {field: [messages]}.

    Nested serializers become dotted paths ("lines.1.qty"); errors naming no field go under
    "non_field_errors".
    """
    fields: dict[str, list[str]] = {}
    _collect(detail, "", fields)
    return fields


def _collect(value, path: str, out: dict) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            _collect(inner, f"{path}.{name}" if path else str(name), out)
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        for index, item in enumerate(value):  # one entry per nested row; valid rows are empty
            _collect(item, f"{path}.{index}" if path else str(index), out)
    else:
        messages = value if isinstance(value, list) else [value]
        if messages:
            out.setdefault(path or "non_field_errors", []).extend(str(m) for m in messages)


def _respond(request, code, message, status, fields=None, headers=None) -> Response:
    return Response(
        error_payload(request, code, message, status, fields), status=status, headers=headers
    )


def exception_handler(exc, context):
    request = context.get("request")
    set_rollback()  # like DRF's own handler: an ATOMIC_REQUESTS transaction is not committed
    if isinstance(exc, DomainError):
        # A business rule's refusal (out of stock, credit limit...) is a 422 in the API; the
        # error class says so with `api_status` (pos/errors.py); screens keep `status`.
        status = getattr(exc, "api_status", None) or exc.status
        log_domain_error(exc, status=status)
        return _respond(request, exc.code, exc.message, status, domain_error_fields(exc))
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() in a service: the same 400 with field messages as a serializer.
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(fields)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        report_system_error(exc)
        return _respond(
            request, "unavailable", None, 503, headers={"Retry-After": str(DATABASE_RETRY_AFTER)}
        )
    if isinstance(exc, RequestDataTooBig):
        return _respond(request, "request_too_large", too_large_message(), 413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        # A refusal that names no field reads best as the message itself.
        general = fields.get("non_field_errors", [])
        message = (
            general[0] if len(fields) == 1 and general else gettext("Some fields are not valid.")
        )
        return _respond(request, "invalid", message, 400, fields)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        auth_header = getattr(exc, "auth_header", None)  # set by DRF from the first auth class
        headers = {"WWW-Authenticate": auth_header} if auth_header else None
        return _respond(request, exc.default_code, str(exc.detail), 401, headers=headers)
    if isinstance(exc, exceptions.Throttled):
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait is not None else None
        return _respond(request, "rate_limited", str(exc.detail), 429, headers=headers)
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        return _respond(request, code, str(exc.detail), exc.status_code)

    report_system_error(exc)
    response = _respond(request, "server_error", GENERIC_MESSAGE, 500)
    detail = debug_detail(exc)
    if detail:
        response.data["error"]["detail"] = detail
    return response
