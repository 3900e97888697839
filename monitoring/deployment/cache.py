"""Cache and Redis: configured, URL, reachability, latency, TLS, eviction policy, fallback state.

Redis calls go through the cache backend's own client, bounded by REDIS_SOCKET_TIMEOUT.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches

from monitoring.cache import REDIS_ERRORS, ResilientRedisCache, redis_status
from monitoring.deployment.base import check, failed, passed, warned

LATENCY_WARN_MS = 10
LATENCY_FAIL_MS = 100
SET_REDIS_URL = "Set REDIS_URL=redis://host:6379/0 (rediss:// for TLS)."


def _redis_cache() -> ResilientRedisCache | None:
    cache = caches["default"]
    return cache if isinstance(cache, ResilientRedisCache) else None


def _not_configured():
    return passed("no Redis configured (see cache.configured)")


@check("cache.configured", category="cache", title="Shared cache configured", severity="high")
def cache_configured(context):
    if _redis_cache() is None:
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        return warned(
            f"{backend}: each process has its own cache, so rate limits and metrics are per "
            "process",
            SET_REDIS_URL,
        )
    return passed("Redis (resilient backend with in-process fallback)")


@check("cache.url", category="cache", title="REDIS_URL well formed", severity="high")
def cache_url(context):
    url = settings.REDIS_URL
    if not url:
        return _not_configured()
    fix = "Write it as redis://[user:password@]host:6379/0 (rediss:// for TLS)."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return failed(f"REDIS_URL does not parse: {error}", fix)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return failed(f"REDIS_URL scheme {parts.scheme!r} is not redis, rediss or unix", fix)
    if parts.scheme != "unix" and not parts.hostname:
        return failed("REDIS_URL names no host", fix)
    db = parts.path.strip("/")
    if db and not db.isdigit():
        return failed(f"REDIS_URL database {db!r} is not a number", fix)
    return passed(f"{parts.scheme}://{parts.hostname}:{port or 6379}/{db or 0}")


@check("cache.reachable", category="cache", title="Redis reachable", severity="critical")
def cache_reachable(context):
    if _redis_cache() is None:
        return _not_configured()
    status = redis_status()
    if status.get("status") != "connected" or "info" not in status:
        return failed(
            f"Redis does not answer: {status.get('last_error') or status.get('status')}",
            "Check REDIS_URL and that Redis is up; until then each process uses its own cache.",
        )
    context.cache["redis_info"] = status["info"]
    return passed(f"Redis {status['info'].get('version')} answered PING")


@check("cache.latency", category="cache", title="Redis round trip", severity="low")
def cache_latency(context):
    if _redis_cache() is None:
        return _not_configured()
    info = context.cache.get("redis_info") or redis_status().get("info")
    if not info:
        return failed("Redis does not answer", "See cache.reachable.")
    ping_ms = info["ping_ms"]
    detail = f"PING {ping_ms:.1f} ms"
    fix = "Run Redis close to the app (same region / network)."
    if ping_ms > LATENCY_FAIL_MS:
        return failed(detail, fix)
    if ping_ms > LATENCY_WARN_MS:
        return warned(detail, fix)
    return passed(detail)


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback


@check("cache.tls", category="cache", title="TLS to a remote Redis", severity="medium")
def cache_tls(context):
    url = settings.REDIS_URL
    if not url:
        return _not_configured()
    parts = urlsplit(url)
    if parts.scheme == "unix" or _is_local(parts.hostname or ""):
        return passed("Redis on this machine: no TLS needed")
    if parts.scheme != "rediss":
        return warned(
            f"Redis at {parts.hostname} over plain TCP: cached data and passwords travel in clear",
            "Use rediss:// if the Redis host is not on a private network.",
        )
    if settings.REDIS_SSL_CERT_REQS != "required":
        return warned(
            f"TLS without certificate verification (REDIS_SSL_CERT_REQS="
            f"{settings.REDIS_SSL_CERT_REQS})",
            "Set REDIS_SSL_CERT_REQS=required when the provider's certificate is valid.",
        )
    return passed(f"rediss:// to {parts.hostname}, certificate verified")


@check(
    "cache.eviction", category="cache", title="Eviction policy and max memory", severity="medium"
)
def cache_eviction(context):
    cache = _redis_cache()
    if cache is None:
        return _not_configured()
    try:
        client = cache.client.get_client(write=False)
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
        maxmemory = int(client.config_get("maxmemory").get("maxmemory") or 0)
    except REDIS_ERRORS as error:
        return warned(
            f"cannot read the eviction policy (CONFIG GET refused or Redis down): {error}"[:300],
            "Check in your Redis provider's console that maxmemory and an eviction policy "
            "(allkeys-lru) are set.",
        )
    limit = f"{maxmemory // (1024 * 1024)} MiB" if maxmemory else "no memory limit"
    if policy == "noeviction":
        return warned(
            f"maxmemory-policy noeviction with {limit}: when memory runs out, writes fail"
            if maxmemory
            else "maxmemory-policy noeviction with no memory limit: Redis grows until the "
            "machine runs out of memory",
            "Set maxmemory (e.g. 256mb) and maxmemory-policy allkeys-lru.",
        )
    if not maxmemory:
        return warned(
            f"maxmemory-policy {policy} but no memory limit, so nothing is ever evicted",
            "Set maxmemory (e.g. 256mb).",
        )
    return passed(f"maxmemory-policy {policy}, {limit}")


@check("cache.fallback", category="cache", title="Not running on the fallback", severity="high")
def cache_fallback(context):
    if _redis_cache() is None:
        return _not_configured()
    status = redis_status()
    if status.get("status") == "fallback":
        return failed(
            f"the in-process fallback is in use since {status.get('since')} "
            f"({status.get('last_error')})",
            "Bring Redis back; the app reconnects by itself.",
        )
    if status.get("fallback_operations"):
        return warned(
            f"{status['fallback_operations']} cache call(s) went to the fallback in this process",
            "Redis was unavailable for a while: look at its logs.",
        )
    return passed("every cache call went to Redis")
