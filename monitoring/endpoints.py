"""JSON endpoints for operators under /api/monitoring/ (staff only, or the monitoring token)."""

import os

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring import metrics
from monitoring.access import staff_json
from monitoring.cache import redis_status
from monitoring.errors import error_response

MAX_RECENT = 1000  # the ring's size


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        self.name, self.message = name, message


def int_param(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(
            name,
            gettext("Must be a whole number from %(low)s to %(high)s.")
            % {"low": low, "high": high},
        ) from None
    if not low <= value <= high:
        raise BadParameter(
            name,
            gettext("Must be a whole number from %(low)s to %(high)s.")
            % {"low": low, "high": high},
        )
    return value


def with_parameters(view):
    """Turns a BadParameter into a 400 naming the field."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadParameter as error:
            return error_response(
                request,
                "invalid",
                gettext("Invalid parameter."),
                400,
                {error.name: [error.message]},
            )

    return wrapped


def minutes_param(request) -> int:
    return int_param(request, "minutes", 60, 1, settings.METRICS_RETENTION_MINUTES)


def performance_summary(minutes: int) -> dict:
    per_minute = metrics.window(minutes)
    total = metrics.totals(per_minute)
    return {
        "minutes": minutes,
        "store": metrics.store_name(),
        **total.summary(),
        "requests_per_minute": round(total.count / minutes, 2),
        "process_memory": metrics.process_memory(),
    }


@never_cache
@require_GET
@staff_json
@with_parameters
def performance(request):
    return JsonResponse(performance_summary(minutes_param(request)))


@never_cache
@require_GET
@staff_json
@with_parameters
def recent(request):
    limit = int_param(request, "limit", 50, 1, MAX_RECENT)
    return JsonResponse(
        {
            "store": "process",
            "pid": os.getpid(),
            "limit": limit,
            "requests": metrics.recorder.recent_requests(limit),
        }
    )


@never_cache
@require_GET
@staff_json
@with_parameters
def endpoints(request):
    minutes = minutes_param(request)
    rows = metrics.endpoint_rows(metrics.window(minutes))
    return JsonResponse({"minutes": minutes, "store": metrics.store_name(), "endpoints": rows})


def redis_report() -> dict:
    status = redis_status()
    on_fallback = status["status"] != "connected"
    # The cache, django-ratelimit's counters and the metrics share the one default cache
    # backend, so they are on Redis or on the in-process fallback together.
    status["on_fallback"] = (
        ["cache", "rate_limiting", "metrics"] if status["status"] == "fallback" else []
    )
    status["store"] = "memory" if on_fallback else "redis"
    return status


@never_cache
@require_GET
@staff_json
def redis(request):
    return JsonResponse(redis_report())
