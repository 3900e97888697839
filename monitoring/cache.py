"""The cache backend: Redis shared by every instance, with a circuit breaker and a bounded
in-process fallback so that a slow or dead Redis never stops the shop.

`ResilientRedisCache` wraps django-redis. On a Redis error it opens the circuit: for a back-off
period (doubling from `BACKOFF_INITIAL` up to `BACKOFF_MAX` seconds) every call goes straight to
a `BoundedMemoryCache` in this process, so no request waits on Redis. After the back-off exactly
one call (guarded by a lock) tries Redis again; success closes the circuit and the fallback is
emptied (what was written there during the outage is per process and may be stale).

While the circuit is open, rate-limit counters and metrics live in each process's memory: limits
then hold per process, not across instances.

Django keeps one cache object per thread, so the breaker state and the fallback store live at
module level, one per Redis location, shared by the threads of a process.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import socket
import statistics
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import NoScriptError, RedisError

logger = logging.getLogger("vevurn.redis")

# What counts as "Redis is unavailable". ValueError (incr of a missing key) is not among them.
REDIS_ERRORS = (ConnectionInterrupted, RedisError, ConnectionError, TimeoutError, socket.timeout)

# Rough per-entry overhead of the dict, OrderedDict links, the tuple and the key string.
ENTRY_OVERHEAD_BYTES = 200


class BoundedMemoryCache(BaseCache):
    """An LRU cache in process memory, bounded by entry count and approximate bytes.

    Values are pickled (as LocMemCache does), so the size of an entry is known: the pickled value
    plus its key plus a fixed overhead. Expired entries are dropped when read and swept
    periodically on writes; when a bound is exceeded the least recently used entries go.
    """

    pickle_protocol = pickle.HIGHEST_PROTOCOL

    def __init__(self, name: str = "fallback", params: dict | None = None):
        params = dict(params or {})
        options = params.get("OPTIONS", {})
        super().__init__(params)
        self.max_entries = int(options.get("MAX_ENTRIES", 10_000))
        self.max_bytes = int(options.get("MAX_BYTES", 32 * 1024 * 1024))
        self.sweep_every = int(options.get("SWEEP_EVERY", 1000))
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._bytes = 0
        self._writes = 0
        self._lock = threading.RLock()

    # --- accounting ---------------------------------------------------------------------------

    @property
    def entry_count(self) -> int:
        return len(self._data)

    @property
    def approx_bytes(self) -> int:
        return self._bytes

    @staticmethod
    def _size(key: str, blob: bytes) -> int:
        return len(key) + len(blob) + ENTRY_OVERHEAD_BYTES

    def _expired(self, expiry: float | None, now: float) -> bool:
        return expiry is not None and expiry <= now

    def _drop(self, key: str) -> bool:
        entry = self._data.pop(key, None)
        if entry is None:
            return False
        self._bytes -= self._size(key, entry[0])
        return True

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._data.items() if self._expired(exp, now)]:
            self._drop(key)

    def _store(self, key: str, value, timeout) -> None:
        blob = pickle.dumps(value, self.pickle_protocol)
        self._drop(key)
        size = self._size(key, blob)
        if size > self.max_bytes:
            return  # larger than the whole store: not kept at all
        self._data[key] = (blob, self._expiry(timeout))
        self._bytes += size
        self._writes += 1
        if self._writes % self.sweep_every == 0:
            self._sweep()
        while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._data))
            self._drop(oldest)

    def _expiry(self, timeout) -> float | None:
        """Monotonic expiry time; None never expires, 0 or less is already expired (Django)."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else time.monotonic() + timeout

    def _live(self, key: str):
        """The entry under `key` if present and unexpired (marked recently used), else None."""
        entry = self._data.get(key)
        if entry is None:
            return None
        if self._expired(entry[1], time.monotonic()):
            self._drop(key)
            return None
        self._data.move_to_end(key)
        return entry

    # --- the cache API ------------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._live(key) is not None:
                return False
            self._store(key, value, timeout)
            return True

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return default
            blob = entry[0]
        return pickle.loads(blob)  # noqa: S301 - only what this process stored itself

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            self._store(key, value, timeout)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return False
            self._data[key] = (entry[0], self._expiry(timeout))
            return True

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(entry[0]) + delta  # noqa: S301
            expiry = entry[1]
            self._store(key, value, None)
            self._data[key] = (self._data[key][0], expiry)
            return value

    def count(self, key, delta=1, timeout=DEFAULT_TIMEOUT, version=None) -> int:
        """Add `delta` to the counter under `key`, created with `timeout` when missing (a
        window's rate-limit counter); its new value. A `delta` of 0 only reads it (0 if missing)."""
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                if delta:
                    self._store(key, delta, timeout)
                return delta
            value = pickle.loads(entry[0]) + delta  # noqa: S301
            if delta:
                expiry = entry[1]
                self._store(key, value, None)
                self._data[key] = (self._data[key][0], expiry)
            return value

    def count_many(self, counters, version=None) -> list[int]:
        """`count` for each (key, delta, timeout) of `counters`; their new values, in order."""
        return [self.count(key, delta, timeout, version) for key, delta, timeout in counters]

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            return self._live(key) is not None

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            return self._drop(key)

    def ttl(self, key, version=None):
        """Seconds left, None for no expiry, 0 when missing (django-redis semantics)."""
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return 0
            if entry[1] is None:
                return None
            return max(0, int(entry[1] - time.monotonic()))

    def expire(self, key, timeout, version=None):
        return self.touch(key, timeout, version=version)

    def clear(self):
        with self._lock:
            self._data.clear()
            self._bytes = 0

    # --- counter hashes (the metrics store; Redis HINCRBY semantics) -------------------------

    def merge_counters(self, updates: dict[str, dict[str, int]], timeout: int) -> None:
        """Add each field's amount into the hash stored under each key; keys expire after
        `timeout` seconds from this write. Keys are raw strings (no validation: they hold
        route patterns with spaces, which only memcached minds)."""
        with self._lock:
            for raw_key, fields in updates.items():
                key = self.make_key(raw_key)
                entry = self._live(key)
                counters = pickle.loads(entry[0]) if entry is not None else {}  # noqa: S301
                for name, amount in fields.items():
                    counters[name] = counters.get(name, 0) + amount
                self._store(key, counters, timeout)

    def read_counters(self, keys: list[str]) -> dict[str, dict[str, int]]:
        """The hashes under `keys` (missing keys are left out)."""
        found = {}
        with self._lock:
            for raw_key in keys:
                entry = self._live(self.make_key(raw_key))
                if entry is not None:
                    found[raw_key] = pickle.loads(entry[0])  # noqa: S301
        return found


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat()


@dataclass
class RedisState:
    """Circuit-breaker state for one Redis location, shared by the threads of this process."""

    location: str
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    connected: bool = True
    since: float = field(default_factory=time.time)
    last_error: str = ""
    last_error_at: float | None = None
    reconnect_attempts: int = 0
    backoff: float = 0.0
    retry_at: float = 0.0  # time.monotonic() when Redis may be tried again
    fallback_operations: int = 0
    redis_operations: int = 0
    probe_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict:
        return {
            "status": "connected" if self.connected else "fallback",
            "since": _iso(self.since),
            "last_error": self.last_error or None,
            "last_error_at": _iso(self.last_error_at),
            "reconnect_attempts": self.reconnect_attempts,
            "backoff_seconds": self.backoff if not self.connected else 0,
            "retry_in_seconds": (
                max(0.0, round(self.retry_at - time.monotonic(), 3)) if not self.connected else 0
            ),
            "fallback_operations": self.fallback_operations,
            "redis_operations": self.redis_operations,
        }

    def record_failure(self, error: BaseException, *, probe: bool = False) -> None:
        """Open the circuit, or after a failed probe double the back-off. Calls that were already
        in flight when Redis failed only report their error; they do not grow the back-off."""
        cause = error.__cause__ if isinstance(error, ConnectionInterrupted) else error
        message = f"{type(cause or error).__name__}: {cause or error}"[:300]
        with self.lock:
            self.last_error = message
            self.last_error_at = time.time()
            if self.connected:
                self.connected = False
                self.since = time.time()
                self.reconnect_attempts = 0
                self.backoff = self.backoff_initial
                logger.warning(
                    "Redis unavailable (%s); using the in-process fallback for %.1f s",
                    message,
                    self.backoff,
                )
                self.retry_at = time.monotonic() + self.backoff
            elif probe:
                self.backoff = min(self.backoff * 2, self.backoff_max)
                self.retry_at = time.monotonic() + self.backoff

    def record_success(self, fallback: BoundedMemoryCache) -> None:
        if self.connected:
            return
        with self.lock:
            if self.connected:
                return
            outage = time.time() - self.since
            self.connected = True
            self.since = time.time()
            self.backoff = 0.0
            fallback.clear()
        logger.info("Redis recovered after %.1f s; the in-process fallback is emptied", outage)


# For each key, INCRBY its delta, and EXPIRE when the key has no expiry yet (the call that created
# it); a delta of 0 only reads the counter (0 if missing), never creating it. All the keys
# atomically in one command: a request's limits are counted in one round trip. TTL rather than
# EXPIRE's NX flag: any Redis from 2.6 runs it. Sent as EVALSHA; the first call on a server that
# does not know it yet (a restart, SCRIPT FLUSH) sends EVAL instead.
COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
    local delta = tonumber(ARGV[2 * i - 1])
    if delta == 0 then
        counts[i] = tonumber(redis.call('GET', key) or 0)
    else
        counts[i] = redis.call('INCRBY', key, delta)
        if redis.call('TTL', key) < 0 then
            redis.call('EXPIRE', key, ARGV[2 * i])
        end
    end
end
return counts
"""
COUNT_SCRIPT_SHA = hashlib.sha1(COUNT_SCRIPT.encode(), usedforsecurity=False).hexdigest()
_states: dict[str, RedisState] = {}
_fallbacks: dict[str, BoundedMemoryCache] = {}
_registry_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    """django-redis with a circuit breaker and a bounded in-process fallback.

    OPTIONS beyond django-redis's: BACKOFF_INITIAL, BACKOFF_MAX (seconds), FALLBACK_MAX_ENTRIES,
    FALLBACK_MAX_BYTES. Every Redis error is handled here (IGNORE_EXCEPTIONS is forced off so
    that django-redis raises and we can fall back instead of returning None).
    """

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS", {}))
        backoff_initial = float(options.pop("BACKOFF_INITIAL", 1.0))
        backoff_max = float(options.pop("BACKOFF_MAX", 30.0))
        max_entries = int(options.pop("FALLBACK_MAX_ENTRIES", 10_000))
        max_bytes = int(options.pop("FALLBACK_MAX_BYTES", 32 * 1024 * 1024))
        options["IGNORE_EXCEPTIONS"] = False
        params["OPTIONS"] = options
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        registry_key = f"{location}|{params.get('KEY_PREFIX', '')}"
        with _registry_lock:
            if registry_key not in _states:
                _states[registry_key] = RedisState(
                    location=location, backoff_initial=backoff_initial, backoff_max=backoff_max
                )
                _fallbacks[registry_key] = BoundedMemoryCache(
                    params={
                        "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                        "VERSION": params.get("VERSION", 1),
                        "TIMEOUT": params.get("TIMEOUT", 300),
                        "OPTIONS": {"MAX_ENTRIES": max_entries, "MAX_BYTES": max_bytes},
                    }
                )
        self.state = _states[registry_key]
        self.fallback = _fallbacks[registry_key]

    def _call(self, name: str, *args, **kwargs):
        state = self.state
        probing = False
        if not state.connected:
            if time.monotonic() < state.retry_at or not state.probe_lock.acquire(blocking=False):
                return self._fall_back(name, *args, **kwargs)
            probing = True
            state.reconnect_attempts += 1
        try:
            operation = getattr(self, f"_redis_{name}", None) or getattr(super(), name)
            result = operation(*args, **kwargs)
        except REDIS_ERRORS as error:
            state.record_failure(error, probe=probing)
            return self._fall_back(name, *args, **kwargs)
        finally:
            if probing:
                state.probe_lock.release()
        state.redis_operations += 1
        if probing:
            # Only the probe closes the circuit: a call that was in flight when Redis failed
            # and answered late says little about Redis now.
            state.record_success(self.fallback)
        return result

    def _fall_back(self, name: str, *args, **kwargs):
        self.state.fallback_operations += 1
        kwargs.pop("client", None)
        return getattr(self.fallback, name)(*args, **kwargs)

    # The methods the app, django-ratelimit and the metrics use. Anything else reaches Redis
    # directly through django-redis (and may raise): add it here before relying on it.
    def get(self, key, default=None, version=None):
        return self._call("get", key, default=default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout=timeout, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout=timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", key, version=version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta=delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta=delta, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        result = self._call("set_many", data, timeout=timeout, version=version)
        return result or []

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout=timeout, version=version)

    def ttl(self, key, version=None):
        return self._call("ttl", key, version=version)

    def expire(self, key, timeout, version=None):
        return self._call("expire", key, timeout, version=version)

    def clear(self):
        self.fallback.clear()
        return self._call("clear")

    def count(self, key, delta=1, timeout=DEFAULT_TIMEOUT, version=None) -> int:
        """Add `delta` to the counter under `key`, created with `timeout` when missing; its new
        value (a `delta` of 0 only reads it, 0 if missing). One round trip: the rate limits'
        counters (Django's add-then-incr takes two)."""
        return self._call("count", key, delta=delta, timeout=timeout, version=version)

    def count_many(self, counters, version=None) -> list[int]:
        """`count` for each (key, delta, timeout) of `counters`, all in one round trip (a
        request's limits: the API's and its view's); their new values, in order."""
        return self._call("count_many", counters, version=version)

    def _redis_count(self, key, delta=1, timeout=DEFAULT_TIMEOUT, version=None):
        return self._redis_count_many([(key, delta, timeout)], version=version)[0]

    def _redis_count_many(self, counters, version=None):
        client = self.client.get_client(write=True)
        keys, args = [], []
        for key, delta, timeout in counters:
            if timeout is DEFAULT_TIMEOUT:
                timeout = self.default_timeout
            keys.append(self.make_key(key, version=version))
            args += (delta, max(1, int(timeout)))
        try:
            counts = client.evalsha(COUNT_SCRIPT_SHA, len(keys), *keys, *args)
        except NoScriptError:
            counts = client.eval(COUNT_SCRIPT, len(keys), *keys, *args)
        return [int(count) for count in counts]

    def merge_counters(self, updates: dict[str, dict[str, int]], timeout: int) -> None:
        """HINCRBY every field of every hash and reset its expiry, in one pipeline round trip;
        through the breaker, so that during an outage the counters go to the fallback."""
        return self._call("merge_counters", updates, timeout)

    def read_counters(self, keys: list[str]) -> dict[str, dict[str, int]]:
        """HGETALL each key in one pipeline round trip (missing keys are left out)."""
        return self._call("read_counters", keys)

    def _redis_merge_counters(self, updates, timeout):
        pipe = self.client.get_client(write=True).pipeline(transaction=False)
        for raw_key, fields in updates.items():
            key = self.make_key(raw_key)
            for name, amount in fields.items():
                pipe.hincrby(key, name, amount)
            pipe.expire(key, int(timeout))
        pipe.execute()

    def _redis_read_counters(self, keys):
        pipe = self.client.get_client(write=False).pipeline(transaction=False)
        for raw_key in keys:
            pipe.hgetall(self.make_key(raw_key))
        found = {}
        for raw_key, values in zip(keys, pipe.execute(), strict=True):
            if values:
                found[raw_key] = {name.decode(): int(value) for name, value in values.items()}
        return found

    def redis_info(self) -> dict:
        """Live facts from Redis (version, memory, PING latency); raises when it is down."""
        client = self.client.get_client(write=False)
        info = client.info()  # also opens the connection, which the round trip must not count
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            client.ping()
            timings.append((time.perf_counter() - started) * 1000)
        latency_ms = statistics.median(timings)
        return {
            "version": info.get("redis_version"),
            "used_memory": info.get("used_memory"),
            "used_memory_human": info.get("used_memory_human"),
            "connected_clients": info.get("connected_clients"),
            "ping_ms": round(latency_ms, 3),
        }


def redis_status(alias: str = "default") -> dict:
    """The state of the Redis behind cache `alias`, for /api/monitoring/redis and health checks."""
    from django.core.cache import caches

    cache = caches[alias]
    if not isinstance(cache, ResilientRedisCache):
        return {
            "status": "not_configured",
            "backend": f"{type(cache).__module__}.{type(cache).__name__}",
        }
    status = {
        **cache.state.as_dict(),
        "fallback": {
            "entries": cache.fallback.entry_count,
            "approx_bytes": cache.fallback.approx_bytes,
            "max_entries": cache.fallback.max_entries,
            "max_bytes": cache.fallback.max_bytes,
        },
    }
    if cache.state.connected:
        try:
            status["info"] = cache.redis_info()
        except REDIS_ERRORS as error:
            cache.state.record_failure(error)
            status.update(cache.state.as_dict())
    return status
