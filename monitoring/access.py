"""Who may read the operators' endpoints: staff, or a caller with the monitoring token. Low in
the package: the health, metrics and alert views all use it, and it uses only the errors."""

import hmac

from django.conf import settings

from monitoring.errors import error_response


def has_monitoring_token(request) -> bool:
    """`Authorization: Bearer <MONITORING_API_TOKEN>` -- a read-only key for an external monitor
    (DRF tokens do not exist yet). Off while the setting is empty."""
    expected = settings.MONITORING_API_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme == "Bearer" and hmac.compare_digest(given, expected)


def staff_json(view):
    """Staff (or the monitoring token) only; anonymous callers get a 401 and others a 403, as
    JSON (never a redirect)."""

    def wrapped(request, *args, **kwargs):
        if has_monitoring_token(request):
            return view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return error_response(request, "not_authenticated", "Sign in to see this.", 401)
        if not request.user.is_staff:
            return error_response(
                request, "permission_denied", "You are not allowed to see this.", 403
            )
        return view(request, *args, **kwargs)

    return wrapped
