"""The DRF exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]): every API error in one shape."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from monitoring.errors import (
    GENERIC_MESSAGE,
    debug_detail,
    domain_error_fields,
    error_payload,
    log_domain_error,
    report_system_error,
)
from vevurn.errors import DomainError


def _field_messages(detail) -> dict:
    """DRF ValidationError detail -> {field: [messages]}; others under "non_field_errors"."""
    if isinstance(detail, dict):
        fields = {}
        for name, value in detail.items():
            if isinstance(value, dict):  # nested serializer: flatten as parent.child
                for child, messages in _field_messages(value).items():
                    fields[f"{name}.{child}"] = messages
            elif isinstance(value, list):
                fields[name] = [str(item) for item in _flatten(value)]
            else:
                fields[name] = [str(value)]
        return fields
    return {"non_field_errors": [str(item) for item in _flatten(detail)]}


def _flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    else:
        yield value


def _respond(request, code, message, status, fields=None, headers=None) -> Response:
    return Response(
        error_payload(request, code, message, status, fields), status=status, headers=headers
    )


def exception_handler(exc, context):
    request = context.get("request")
    set_rollback()  # like DRF's own handler: an ATOMIC_REQUESTS transaction is not committed
    if isinstance(exc, DomainError):
        log_domain_error(exc)
        return _respond(request, exc.code, exc.message, exc.status, domain_error_fields(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        return _respond(
            request,
            "invalid",
            "Some fields are not valid.",
            400,
            _field_messages(exc.detail),
        )
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return _respond(request, exc.default_code, str(exc.detail), 401)
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
