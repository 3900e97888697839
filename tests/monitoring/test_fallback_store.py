"""The in-process fallback: bounded in entries and bytes, expiring, LRU, Django cache semantics."""

import threading

import pytest

from monitoring.cache import BoundedMemoryCache


def store(**options) -> BoundedMemoryCache:
    return BoundedMemoryCache(params={"KEY_PREFIX": "t", "OPTIONS": options})


@pytest.mark.slow
def test_memory_stays_bounded_under_a_million_distinct_keys():
    fallback = store(MAX_ENTRIES=1000, MAX_BYTES=64 * 1024)
    peak_entries = peak_bytes = 0
    for i in range(1_000_000):
        fallback.set(f"rl:{i}", i, timeout=900)
        if i % 1000 == 0:
            peak_entries = max(peak_entries, fallback.entry_count)
            peak_bytes = max(peak_bytes, fallback.approx_bytes)
    assert fallback.entry_count <= 1000 and peak_entries <= 1000
    assert fallback.approx_bytes <= 64 * 1024 and peak_bytes <= 64 * 1024
    # The newest keys survive, the oldest were evicted.
    assert fallback.get("rl:999999") == 999999
    assert fallback.get("rl:0") is None


def test_the_byte_bound_holds_for_large_values():
    fallback = store(MAX_ENTRIES=10_000, MAX_BYTES=100_000)
    for i in range(500):
        fallback.set(f"page:{i}", "x" * 5000)
    assert fallback.approx_bytes <= 100_000
    assert 10 <= fallback.entry_count < 25
    fallback.set("huge", "x" * 200_000)  # bigger than the whole store: not kept
    assert fallback.get("huge") is None
    assert fallback.approx_bytes <= 100_000


def test_entries_expire_on_their_own(monkeypatch):
    import monitoring.cache as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    fallback = store(MAX_ENTRIES=100, SWEEP_EVERY=10)
    fallback.set("short", 1, timeout=5)
    fallback.set("forever", 2, timeout=None)
    now[0] += 6
    assert fallback.get("short") is None
    assert fallback.get("forever") == 2
    # The periodic sweep on writes drops expired entries nobody reads again.
    for i in range(20):
        fallback.set(f"k{i}", i, timeout=1)
    now[0] += 2
    for i in range(10):
        fallback.set(f"fresh{i}", i, timeout=60)
    assert fallback.entry_count == 11  # forever + 10 fresh


def test_least_recently_used_goes_first():
    fallback = store(MAX_ENTRIES=3)
    fallback.set("a", 1)
    fallback.set("b", 2)
    fallback.set("c", 3)
    assert fallback.get("a") == 1  # a is now the most recently used
    fallback.set("d", 4)
    assert fallback.get("b") is None
    assert [fallback.get(k) for k in "acd"] == [1, 3, 4]


def test_add_and_incr_follow_django_semantics():
    fallback = store()
    assert fallback.add("n", 1, timeout=60) is True
    assert fallback.add("n", 5, timeout=60) is False
    assert fallback.incr("n") == 2
    assert fallback.decr("n") == 1
    with pytest.raises(ValueError):
        fallback.incr("missing")
    assert fallback.get_many(["n", "missing"]) == {"n": 1}
    fallback.set_many({"x": 1, "y": 2})
    fallback.delete_many(["x"])
    assert not fallback.has_key("x") and fallback.has_key("y")
    assert fallback.touch("y", 10) is True
    assert 9 <= fallback.ttl("y") <= 10


def test_incr_keeps_the_expiry(monkeypatch):
    import monitoring.cache as module

    now = [0.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    fallback = store()
    fallback.add("window", 1, timeout=10)
    now[0] += 9
    fallback.incr("window")
    now[0] += 2
    assert fallback.get("window") is None


def test_concurrent_increments_are_not_lost():
    fallback = store()
    fallback.add("count", 0, timeout=60)

    def bump():
        for _ in range(1000):
            fallback.incr("count")

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fallback.get("count") == 8000
