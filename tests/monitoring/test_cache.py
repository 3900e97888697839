"""The resilient backend against a real Redis that the test starts, kills and restarts."""

import logging
import threading
import time

import pytest

from monitoring.cache import ResilientRedisCache
from tests.monitoring.conftest import cache_config

pytestmark = pytest.mark.redis


def backend(url: str, **options) -> ResilientRedisCache:
    config = cache_config(url, **options)["default"]
    return ResilientRedisCache(config["LOCATION"], config)


def test_values_live_in_redis_while_it_is_up(redis_server):
    cache = backend(redis_server.url)
    cache.set("greeting", "muraho", 60)
    assert cache.add("n", 1, 60) is True
    assert cache.add("n", 1, 60) is False
    assert cache.incr("n") == 2
    with pytest.raises(ValueError):
        cache.incr("missing")
    cache.set_many({"a": 1, "b": 2}, 60)
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    assert cache.has_key("a") and cache.touch("a", 30)
    cache.delete_many(["a"])
    assert not cache.has_key("a")
    keys = sorted(redis_server.client().keys("*"))
    assert keys == [b"vevurn:1:b", b"vevurn:1:greeting", b"vevurn:1:n"]
    assert cache.state.connected and cache.state.fallback_operations == 0


def test_a_dead_redis_opens_the_circuit_and_recovery_closes_it(redis_server, caplog):
    caplog.set_level(logging.INFO, logger="vevurn.redis")
    cache = backend(redis_server.url, BACKOFF_INITIAL=0.2, BACKOFF_MAX=0.4)
    cache.set("before", 1, 60)

    redis_server.kill()
    cache.set("during", 2, 60)  # fails over: no exception
    assert cache.get("during") == 2
    assert cache.add("rl", 1, 60) is True and cache.incr("rl") == 2
    with pytest.raises(ValueError):
        cache.incr("missing")  # Django semantics hold in the fallback too
    assert not cache.state.connected
    assert cache.state.fallback_operations >= 4
    assert "ConnectionError" in cache.state.last_error

    redis_server.start()
    time.sleep(0.45)  # longer than the longest back-off
    cache.set("after", 3, 60)
    assert cache.state.connected
    assert redis_server.client().exists("vevurn:1:after")
    assert cache.get("during") is None  # the fallback was emptied, it may be stale

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    recoveries = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(warnings) == 1 and len(recoveries) == 1


def test_backoff_grows_and_is_capped(redis_server):
    cache = backend(redis_server.url, BACKOFF_INITIAL=0.05, BACKOFF_MAX=0.2)
    redis_server.kill()
    seen = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        cache.get("x")
        if not seen or seen[-1] != cache.state.backoff:
            seen.append(cache.state.backoff)
        time.sleep(0.005)
    assert seen[:3] == [0.05, 0.1, 0.2]
    assert max(seen) == 0.2
    assert cache.state.reconnect_attempts >= 3


def test_a_hung_redis_holds_only_the_first_call_after_each_backoff(silent_redis, monkeypatch):
    from django_redis.cache import RedisCache

    timeout = 0.2
    cache = backend(silent_redis, SOCKET_TIMEOUT=timeout, BACKOFF_INITIAL=0.5, BACKOFF_MAX=4)
    reached_redis = []
    for name in ("get", "set"):
        original = getattr(RedisCache, name)

        def counted(self, *args, _original=original, **kwargs):
            reached_redis.append(time.monotonic())
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(RedisCache, name, counted)

    durations = []
    lock = threading.Lock()
    started_at = time.monotonic()
    deadline = started_at + 1.6

    def worker():
        while time.monotonic() < deadline:
            started = time.monotonic()
            cache.set("k", 1, 60)
            cache.get("k")
            with lock:
                durations.append(time.monotonic() - started)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started_at

    # Only the calls in flight when Redis hung (one per thread) and one probe per back-off
    # period ever reached (and waited on) Redis; thousands of others went straight to memory.
    assert len(durations) > 100
    assert len(reached_redis) <= 4 + int(elapsed / 0.5) + 1
    assert cache.state.reconnect_attempts <= int(elapsed / 0.5) + 1
    # Those few calls (counted above: the only ones that could wait on Redis) waited no longer
    # than the socket timeout; the bound is generous, as CI runs other tests at the same time.
    assert max(durations) < 5 * timeout
    assert not cache.state.connected
    assert "Timeout" in cache.state.last_error
    # The calls that failed together opened the circuit once; only failed probes grew the
    # back-off (0.5 s, then 1 s after the probe at about 0.7 s).
    assert cache.state.backoff <= 1.0


def test_a_counter_is_counted_in_one_round_trip_and_expires_with_its_window(
    redis_server, redis_round_trips
):
    cache = backend(redis_server.url)
    cache.get("warm")  # opens the connection (its handshake is not the counter's)
    redis_server.client().script_flush()  # as after a Redis restart: the script is unknown

    redis_round_trips.clear()
    assert cache.count("rl", 1, 65) == 1
    # The server did not know the script: EVALSHA, then EVAL (which teaches it) once.
    assert redis_round_trips.trips == [["EVALSHA"], ["EVAL"]]

    redis_round_trips.clear()
    assert [cache.count("rl", 1, 65), cache.count("rl", 1, 65), cache.count("rl", 0, 65)] == [
        2,
        3,
        3,
    ]
    assert cache.count("other", 0, 65) == 0  # reading a counter never creates it
    assert redis_round_trips.trips == [["EVALSHA"]] * 4

    raw = redis_server.client()
    assert raw.get("vevurn:1:rl") == b"3"  # a plain integer: Django's add and incr share it
    assert 60 < raw.ttl("vevurn:1:rl") <= 65  # set by the call that created it, kept after
    assert not raw.exists("vevurn:1:other")
    assert cache.incr("rl") == 4  # django-ratelimit's own path counts the same counter
    assert cache.count("rl", 1, 65) == 5
    raw.persist("vevurn:1:rl")  # a counter that lost its expiry gets one on the next count
    cache.count("rl", 1, 65)
    assert 60 < raw.ttl("vevurn:1:rl") <= 65


def test_a_requests_counters_are_counted_together_in_one_round_trip(
    redis_server, redis_round_trips
):
    cache = backend(redis_server.url)
    cache.count("warm", 1, 60)  # opens the connection and teaches Redis the script
    redis_round_trips.clear()
    assert cache.count_many([("api", 1, 65), ("sale", 1, 125), ("login", 0, 65)]) == [1, 1, 0]
    assert cache.count_many([("api", 1, 65), ("sale", 2, 125), ("api", 0, 65)]) == [2, 3, 2]
    assert redis_round_trips.trips == [["EVALSHA"], ["EVALSHA"]]

    raw = redis_server.client()
    assert (raw.get("vevurn:1:api"), raw.get("vevurn:1:sale")) == (b"2", b"3")
    assert 60 < raw.ttl("vevurn:1:api") <= 65 and 120 < raw.ttl("vevurn:1:sale") <= 125
    assert not raw.exists("vevurn:1:login")  # only read: never created

    redis_server.kill()  # the same answers from this process's memory, a new window
    assert cache.count_many([("api", 1, 65), ("sale", 1, 125), ("api", 0, 65)]) == [1, 1, 1]
    assert not cache.state.connected
    assert cache.fallback.ttl("sale") in (124, 125)


def test_a_counter_keeps_counting_in_memory_while_redis_is_down(redis_server):
    cache = backend(redis_server.url, BACKOFF_INITIAL=0.2, BACKOFF_MAX=0.4)
    assert cache.count("rl", 1, 60) == 1

    redis_server.kill()
    # The failed call falls back: the window starts again in this process's memory.
    assert [cache.count("rl", 1, 60) for _ in range(3)] == [1, 2, 3]
    assert cache.count("rl", 0, 60) == 3
    assert cache.count("fresh", 0, 60) == 0
    assert not cache.state.connected and cache.state.fallback_operations == 5
    assert cache.fallback.ttl("rl") in (59, 60)

    redis_server.start()
    time.sleep(0.45)
    # Back in Redis (restarted empty, without the script: EVAL teaches it again).
    assert cache.count("rl", 1, 60) == 1
    assert cache.state.connected
    assert redis_server.client().get("vevurn:1:rl") == b"1"
    assert cache.fallback.entry_count == 0
