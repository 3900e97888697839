"""JSON endpoints for operators under /api/monitoring/ (staff only)."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring.cache import redis_status
from monitoring.errors import error_response


def staff_json(view):
    """Staff only; anonymous callers get a 401 and others a 403, as JSON (never a redirect)."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return error_response(request, "not_authenticated", "Sign in to see this.", 401)
        if not request.user.is_staff:
            return error_response(
                request, "permission_denied", "You are not allowed to see this.", 403
            )
        return view(request, *args, **kwargs)

    return wrapped


@never_cache
@require_GET
@staff_json
def redis(request):
    return JsonResponse(redis_status())
