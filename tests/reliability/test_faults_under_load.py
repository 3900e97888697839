"""Faults under load: Redis stopped, PostgreSQL restarted and a worker SIGKILLed while simulated
cashiers ring up sales on a live gunicorn. Afterwards the books must balance.

The servers a test stops and starts are its own: a private PostgreSQL cluster and a private
redis-server on spare ports (tests/reliability/services.py), never the shared ones.
"""

import itertools
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal

import pytest

from tests.deploy import servers
from tests.reliability.cashiers import Cashier, Cashiers
from tests.reliability.conftest import ReadinessWatch

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.postgres_server,
    pytest.mark.redis,
    pytest.mark.slow,
]

REDIS_DOWN_SECONDS = 10


def assert_books_balance(shop, before: dict, finals: dict) -> dict:
    """Every invariant an auditor checks, and each sale the tills finished is there once."""
    report = shop.report()
    assert report["problems"] == []
    checked = shop.check_stock()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "consistent" in checked.stdout
    # Each idempotency key the tills were answered for is exactly one sale, the one they were
    # told about; no sale exists that no till was answered for.
    answered = {key: a.number for key, a in finals.items() if a.status in (200, 201)}
    new_sales = {k: n for k, n in report["sales"].items() if k not in before["sales"]}
    assert new_sales == answered
    return report


def units_sold(before: dict, after: dict) -> Decimal:
    """Units that left the shelves between two reports (each test sale sells one unit).

    Stock is a decimal quantity in the stock unit; the report carries it as a string."""
    return sum(
        Decimal(before["stock"][pk]) - Decimal(stock) for pk, stock in after["stock"].items()
    )


def test_redis_outage_fails_no_checkout(seed_shop, private_redis, start_app):
    shop = seed_shop(cashiers=4)
    app = start_app(private_redis.url)
    before = shop.report()

    with ReadinessWatch(app.port) as ready, Cashiers(app.port, shop.tokens, shop.products) as tills:
        tills.wait_until_each_sold(3)
        ready.wait_for(200, "ok")

        private_redis.stop()
        down_since = time.monotonic()
        # The app notices (the cache runs on its in-process fallback) and keeps selling.
        ready.wait_for(200, "degraded")
        tills.wait_until_each_sold(3)
        time.sleep(max(0.0, down_since + REDIS_DOWN_SECONDS - time.monotonic()))
        tills.wait_until_each_sold(1)

        private_redis.start()
        ready.wait_for(200, "ok")
        tills.wait_until_each_sold(3)
        tills.stop()

    # Zero failed checkouts: every attempt was answered 201 the first time, no retry needed.
    assert {(a.status, a.code) for a in tills.attempts} == {(201, None)}
    assert len(tills.attempts) == len(tills.finals)
    # Readiness never wavered: Redis is not critical.
    assert {status for status, _ in ready.answers} == {200}
    report = assert_books_balance(shop, before, tills.finals)
    assert units_sold(before, report) == len(tills.finals)


def test_postgres_restart_refuses_cleanly_and_each_retry_sells_once(
    seed_shop, private_postgres, private_redis, start_app
):
    shop = seed_shop(cashiers=4)
    app = start_app(private_redis.url)
    before = shop.report()

    with ReadinessWatch(app.port) as ready, Cashiers(app.port, shop.tokens, shop.products) as tills:
        tills.wait_until_each_sold(3)
        ready.wait_for(200)

        # A sale is half-written (its row inserted, inside checkout's transaction) when the
        # database goes away.
        app.hold_next_sale()
        held = app.wait_for_held_sale()
        private_postgres.stop(mode="fast")
        app.release_held_sale()

        ready.wait_for(503)
        # Down until every till has been answered twice without a sale: requests caught in
        # flight, and fresh ones that meet the outage from their first query.
        tills.wait_until_each_saw(lambda a: a.status not in (200, 201), 2)

        private_postgres.start()
        # Back by itself: no restart of the app, stale persistent connections replaced.
        ready.wait_for(200)
        tills.wait_until_each_sold(3)
        tills.stop()

    attempts = tills.attempts
    answers = Counter((a.status, a.code) for a in attempts)
    # Committed (201, or 200 for a retry of a sale whose answer was lost) or cleanly refused:
    # 503 "unavailable" with a Retry-After. Never a 500, never a dropped connection.
    assert set(answers) <= {(201, None), (200, None), (503, "unavailable")}, answers
    assert answers[(503, "unavailable")] > 0
    assert all(a.retry_after and int(a.retry_after) > 0 for a in attempts if a.status == 503)

    # The held sale was refused, and its retry with the same key sold it exactly once.
    held_attempts = [a for a in attempts if a.key == held["idempotency_key"]]
    assert held_attempts[0].status == 503
    assert tills.finals[held["idempotency_key"]].status == 201

    # Every sale the tills started finished, and every key is one sale.
    assert {a.status for a in tills.finals.values()} <= {200, 201}
    report = assert_books_balance(shop, before, tills.finals)
    assert held["idempotency_key"] in report["sales"]
    assert units_sold(before, report) == len(tills.finals)

    # Readiness said so by itself: 200, then 503 during the outage, then 200 again.
    statuses = [status for status, _ in ready.answers]
    assert [s for s, _ in itertools.groupby(statuses)] == [200, 503, 200], Counter(statuses)


def test_a_worker_killed_mid_checkout_leaves_no_partial_sale(seed_shop, private_redis, start_app):
    shop = seed_shop(cashiers=1)
    # One worker: the checkout after the kill proves the master started a new one.
    app = start_app(private_redis.url, WEB_CONCURRENCY="1")
    till = Cashier(app.port, shop.tokens[0], shop.products)
    warm_up = till.post(str(uuid.uuid4()), till.sale_body(0))
    assert warm_up.status == 201, app.logs()
    before = shop.report()

    key = str(uuid.uuid4())
    answer = {}
    app.hold_next_sale()
    client = threading.Thread(target=lambda: answer.update(a=till.post(key, till.sale_body(1))))
    client.start()
    held = app.wait_for_held_sale()
    assert held["idempotency_key"] == key

    os.kill(held["pid"], signal.SIGKILL)
    client.join(timeout=60)

    # The till got no answer; the database kept nothing of the sale and no stock moved.
    assert answer["a"].status is None, answer
    after = shop.report()
    assert key not in after["sales"]
    assert after["sales"] == before["sales"]
    assert after["stock"] == before["stock"]
    assert after["problems"] == []

    # The master replaced the worker, and the till's retry with the same key sells once.
    deadline = time.monotonic() + 60
    retried = till.post(key, till.sale_body(1))
    while retried.status is None:
        assert time.monotonic() < deadline, app.logs()
        time.sleep(0.2)
        retried = till.post(key, till.sale_body(1))
    assert retried.status == 201, retried
    assert till.post(key, till.sale_body(1)).status == 200
    status, body = servers.get(app.port, "/deploy-test/whoami/")
    assert status == 200 and json.loads(body)["pid"] != held["pid"]
    final = shop.report()
    assert set(final["sales"]) == {*before["sales"], key}
    assert units_sold(before, final) == 1
    assert final["problems"] == []
    checked = shop.check_stock()
    assert checked.returncode == 0, checked.stdout
