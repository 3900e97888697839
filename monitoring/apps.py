from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

BACKEND = "monitoring.cache.ResilientRedisCache"


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
        from django_ratelimit import checks as ratelimit_checks

        from monitoring import (
            alerts,
            hooks,
            metrics,
            signals,  # noqa: F401 - connects the receivers
        )

        hooks.install()
        # The alerts evaluate from the metrics flush thread (at most once a minute).
        if alerts.after_flush not in metrics.after_flush_hooks:
            metrics.after_flush_hooks.append(alerts.after_flush)

        # django-ratelimit accepts the backends it knows to be shared and atomic. Ours is
        # django-redis (shared, atomic INCR) with a per-process fallback during a Redis outage,
        # when limits hold per process (documented in README "Redis and rate limits").
        if BACKEND not in ratelimit_checks.SUPPORTED_CACHE_BACKENDS:
            ratelimit_checks.SUPPORTED_CACHE_BACKENDS.append(BACKEND)
