"""The project's URLs plus the benchmarks' views (never part of a deployment)."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from health_check.checks import Cache, Database
from health_check.contrib.psutil import Disk, Memory
from health_check.contrib.redis import Redis
from health_check.views import HealthCheckView
from redis.asyncio import Redis as AsyncRedis

from vevurn.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def ping(request):
    """The cheapest view that still goes through every middleware."""
    return JsonResponse({"ok": True})


def _redis_client():
    from django.conf import settings

    return AsyncRedis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


urlpatterns = [
    path("bench/ping/", never_cache(ping)),
    # django-health-check's own view over the checks our probes run, for reference.
    path("bench/health-check/ready/", HealthCheckView.as_view(checks=[Database])),
    path(
        "bench/health-check/detailed/",
        HealthCheckView.as_view(
            checks=[
                Database,
                Cache,
                (Redis, {"client_factory": _redis_client}),
                Disk,
                Memory,
            ]
        ),
    ),
    *urlpatterns,
]
