import time

import pytest
from django.core.cache import cache

from monitoring.deployment import cache as cache_checks
from tests.monitoring.conftest import cache_config, free_port
from tests.monitoring.deployment.conftest import run

CACHE_CHECKS = [
    "cache.url",
    "cache.reachable",
    "cache.latency",
    "cache.tls",
    "cache.eviction",
    "cache.fallback",
]


@pytest.fixture
def use_redis(settings):
    def use(url: str):
        settings.CACHES = cache_config(url)
        settings.REDIS_URL = url

    return use


def test_without_redis_the_shared_cache_warns_and_redis_checks_do_not_apply(settings):
    settings.REDIS_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    result = run("cache.configured")
    assert result.status == "warn"
    assert "rate limits and metrics are per process" in result.detail
    for check_id in CACHE_CHECKS:
        assert run(check_id).detail == "no Redis configured (see cache.configured)"


@pytest.mark.parametrize(
    ("url", "status", "detail"),
    [
        ("redis://cache.internal:6380/2", "pass", "redis://cache.internal:6380/2"),
        ("rediss://cache.internal/0", "pass", "rediss://cache.internal:6379/0"),
        ("http://cache.internal:6379/0", "fail", "scheme 'http' is not redis"),
        ("redis://cache.internal:port/0", "fail", "does not parse"),
        ("redis:///0", "fail", "names no host"),
        ("redis://cache.internal:6379/first", "fail", "database 'first' is not a number"),
    ],
)
def test_redis_url(settings, url, status, detail):
    settings.REDIS_URL = url
    result = run("cache.url")
    assert result.status == status
    assert detail in result.detail


@pytest.mark.parametrize(
    ("url", "cert_reqs", "status"),
    [
        ("redis://127.0.0.1:6379/0", "required", "pass"),
        ("redis://localhost:6379/0", "required", "pass"),
        ("rediss://cache.internal:6379/0", "required", "pass"),
        ("redis://cache.internal:6379/0", "required", "warn"),
        ("rediss://cache.internal:6379/0", "none", "warn"),
    ],
)
def test_tls_for_a_remote_redis(settings, url, cert_reqs, status):
    settings.REDIS_URL = url
    settings.REDIS_SSL_CERT_REQS = cert_reqs
    assert run("cache.tls").status == status


@pytest.mark.redis
def test_a_running_redis_passes(redis_server, use_redis):
    use_redis(redis_server.url)
    assert run("cache.configured").status == "pass"
    assert run("cache.reachable").detail.startswith("Redis ")
    assert run("cache.latency").detail.startswith("PING ")
    assert run("cache.fallback").detail == "every cache call went to Redis"


@pytest.mark.redis
@pytest.mark.parametrize(("warn_ms", "fail_ms", "status"), [(-1, 1000, "warn"), (-1, -1, "fail")])
def test_a_slow_redis_warns_then_fails(
    redis_server, use_redis, monkeypatch, warn_ms, fail_ms, status
):
    use_redis(redis_server.url)
    monkeypatch.setattr(cache_checks, "LATENCY_WARN_MS", warn_ms)
    monkeypatch.setattr(cache_checks, "LATENCY_FAIL_MS", fail_ms)
    assert run("cache.latency").status == status


@pytest.mark.redis
def test_eviction_policy(redis_server, use_redis):
    use_redis(redis_server.url)
    result = run("cache.eviction")
    assert result.status == "warn"
    assert result.detail == (
        "maxmemory-policy noeviction with no memory limit: Redis grows until the machine runs "
        "out of memory"
    )
    client = redis_server.client()
    client.config_set("maxmemory", "64mb")
    assert "when memory runs out, writes fail" in run("cache.eviction").detail
    client.config_set("maxmemory-policy", "allkeys-lru")
    assert run("cache.eviction").status == "pass"
    assert run("cache.eviction").detail == "maxmemory-policy allkeys-lru, 64 MiB"


@pytest.mark.redis
def test_eviction_policy_unreadable_warns(redis_server, use_redis, monkeypatch):
    import redis

    use_redis(redis_server.url)

    def refused(self, *args, **kwargs):
        raise redis.ResponseError("unknown command 'CONFIG'")

    monkeypatch.setattr(redis.Redis, "config_get", refused)
    result = run("cache.eviction")
    assert result.status == "warn"
    assert "CONFIG GET refused" in result.detail


def test_a_redis_where_nothing_answers_fails_quickly(use_redis):
    use_redis(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    reachable = run("cache.reachable")
    assert reachable.status == "fail"
    assert reachable.detail.startswith("Redis does not answer: ")
    assert run("cache.latency").status == "fail"
    assert run("cache.eviction").status == "warn"
    assert time.monotonic() - started < 5


@pytest.mark.redis
def test_the_fallback_state(redis_server, use_redis):
    use_redis(redis_server.url)
    assert run("cache.fallback").status == "pass"
    redis_server.kill()
    cache.set("key", "value")  # fails over to the in-process fallback
    result = run("cache.fallback")
    assert result.status == "fail"
    assert "the in-process fallback is in use since" in result.detail
    redis_server.start()
    time.sleep(0.6)  # longer than the test configuration's longest back-off
    cache.set("key", "value")  # the probe reconnects
    result = run("cache.fallback")
    assert result.status == "warn"
    assert "went to the fallback in this process" in result.detail
