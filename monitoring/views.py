from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring.cache import redis_status


def staff_json(view):
    """Staff only; anonymous callers get a 401 and others a 403, as JSON (never a redirect)."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _error(request, 401, "not_authenticated", "Sign in to see this.")
        if not request.user.is_staff:
            return _error(request, 403, "permission_denied", "You are not allowed to see this.")
        return view(request, *args, **kwargs)

    return wrapped


def _error(request, status, code, message):
    body = {
        "error": {
            "code": code,
            "message": message,
            "fields": {},
            "request_id": getattr(request, "request_id", None),
        }
    }
    return JsonResponse(body, status=status)


@never_cache
@require_GET
@staff_json
def redis(request):
    return JsonResponse(redis_status())
