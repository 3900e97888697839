from django.apps import AppConfig

BACKEND = "monitoring.cache.ResilientRedisCache"


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from django_ratelimit import checks as ratelimit_checks

        from monitoring import hooks, signals  # noqa: F401 - signals connects the receivers

        hooks.install()

        # django-ratelimit accepts the backends it knows to be shared and atomic. Ours is
        # django-redis (shared, atomic INCR) with a per-process fallback during a Redis outage,
        # when limits hold per process (documented in README "Redis and rate limits").
        if BACKEND not in ratelimit_checks.SUPPORTED_CACHE_BACKENDS:
            ratelimit_checks.SUPPORTED_CACHE_BACKENDS.append(BACKEND)
