"""Production settings plus the benchmarks' own views; variants chosen from the environment.

BENCH_METRICS=off     drops the request metrics middleware (the baseline for its overhead)
BENCH_PROMETHEUS=on   wraps the stack in django-prometheus's middlewares (bench-only reference)
"""

import os

from vevurn.settings import *  # noqa: F403
from vevurn.settings import INSTALLED_APPS, MIDDLEWARE

ROOT_URLCONF = "bench.urls"

if os.environ.get("BENCH_METRICS", "on") == "off":
    MIDDLEWARE = [m for m in MIDDLEWARE if m != "monitoring.metrics.RequestMetricsMiddleware"]

if os.environ.get("BENCH_PROMETHEUS", "off") == "on":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_prometheus"]
    MIDDLEWARE = [
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        *MIDDLEWARE,
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ]
