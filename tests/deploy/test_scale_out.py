"""Two app instances behind nginx share one PostgreSQL and one Redis: nothing lives in a process.

Started for real: two gunicorns (tests.deploy_settings) on spare ports, Debian's nginx in front
of them (round robin), against this test's PostgreSQL database and the shared Redis.
"""

import contextlib
import re
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from django.conf import settings

from tests.conftest import PASSWORD
from tests.deploy.cluster import Cluster

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.nginx,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

MONITORING_TOKEN = "scale-out-test-monitoring-token-0123456789"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


FLUSH_INTERVAL = 1.0
WHOAMI = "GET /deploy-test/whoami/"


@contextlib.contextmanager
def started_cluster(tmp_path, instances: int = 2, **environ):
    if not settings.REDIS_URL:
        pytest.fail("the scale-out test needs REDIS_URL: the instances must share one Redis")
    running = Cluster(tmp_path)
    try:
        running.start(
            instances,
            **{
                # Two sync workers per instance: a request waits for a free worker, so a burst
                # spreads over both (threads would let one worker take them all).
                "WEB_CONCURRENCY": "2",
                "GUNICORN_THREADS": "1",
                "MONITORING_API_TOKEN": MONITORING_TOKEN,
                "METRICS_FLUSH_INTERVAL_SECONDS": str(FLUSH_INTERVAL),
                **environ,
            },
        )
        yield running
    except Exception:
        print(running.logs())
        raise
    finally:
        running.stop()


@pytest.fixture
def cluster(tmp_path):
    """Two instances of 2 workers each behind nginx."""
    with started_cluster(tmp_path) as running:
        yield running


def csrf_token(client: httpx.Client) -> str:
    """The login page sets the CSRF cookie and carries the form's token."""
    page = client.get("/")
    return CSRF_FIELD.search(page.content).group(1).decode()


def post_login(client: httpx.Client, token: str, username: str, password: str) -> httpx.Response:
    return client.post(
        "/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": str(client.base_url) + "/"},
    )


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Post the login form as a browser does: the page first, then the form."""
    return post_login(client, csrf_token(client), username, password)


def test_a_session_started_on_one_instance_continues_on_the_other(cluster, cashier):
    with httpx.Client(base_url=cluster.app_url(0), timeout=30) as first:
        signed_in = sign_in(first, "cashier", PASSWORD)
        assert signed_in.status_code == 302
        cookies = dict(first.cookies)

    for index in (0, 1):
        with httpx.Client(base_url=cluster.app_url(index), cookies=cookies, timeout=30) as other:
            home = other.get("/home/")
            assert home.status_code == 200, index
            assert "Welcome, Grace" in home.text

    # And through the balancer, whichever instance answers.
    with httpx.Client(base_url=cluster.url, cookies=cookies, timeout=30) as balanced:
        upstreams = set()
        for _ in range(4):
            home = balanced.get("/home/")
            assert home.status_code == 200
            assert "Welcome, Grace" in home.text
            upstreams.add(home.headers["X-Upstream"])
    assert len(upstreams) == 2


def test_failed_sign_ins_are_limited_once_across_both_instances(cluster, cashier):
    with httpx.Client(base_url=cluster.url, timeout=30) as client:
        token = csrf_token(client)
        upstreams = set()
        for _ in range(5):
            failed = post_login(client, token, "cashier", "wrong password")
            assert failed.status_code == 200
            assert "Please enter a correct username and password" in failed.text
            upstreams.add(failed.headers["X-Upstream"])
        assert len(upstreams) == 2, "round robin should have used both instances"

        assert post_login(client, token, "cashier", "wrong password").status_code == 429

    # Each instance, asked directly, knows: the count is in the shared Redis.
    for index in (0, 1):
        with httpx.Client(base_url=cluster.app_url(index), timeout=30) as direct:
            assert sign_in(direct, "cashier", PASSWORD).status_code == 429, index


def test_concurrent_guessers_get_no_more_than_the_limit_between_them(cluster, make_user):
    make_user("target", "cashier")

    def guess(_):
        with httpx.Client(base_url=cluster.url, timeout=30) as client:
            return sign_in(client, "target", "wrong password").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(16)))

    # At most 5 guesses were checked (200 with the form error); the rest were refused, either
    # over the limit or while another guess held the (username, IP) slot.
    assert statuses.count(200) <= 5
    assert statuses.count(200) + statuses.count(429) == 16

    # Guessing on one at a time, exactly 5 guesses in all get checked: none was lost or
    # double-counted by the concurrent burst. Then even the right password is refused.
    with httpx.Client(base_url=cluster.url, timeout=30) as client:
        checked = statuses.count(200)
        for _ in range(6):
            status = sign_in(client, "target", "wrong password").status_code
            if status == 429:
                break
            assert status == 200
            checked += 1
        assert checked == 5
        assert sign_in(client, "target", PASSWORD).status_code == 429


def whoami_counts(base_url: str) -> dict:
    """What /api/monitoring/endpoints on this instance says about GET /deploy-test/whoami/."""
    answer = httpx.get(
        f"{base_url}/api/monitoring/endpoints",
        headers={"Authorization": f"Bearer {MONITORING_TOKEN}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["store"] != "process"
    for row in answer.json()["endpoints"]:
        if (row["method"], row["route"]) == ("GET", "/deploy-test/whoami/"):
            return row
    return {"count": 0}


def stored_count(endpoint: str) -> int:
    """What the shared Redis holds for `endpoint` (this minute and the last), read from here: a
    poll of an instance would flush the worker that answers it, and hide what the others hold."""
    from monitoring import metrics

    minute = int(time.time() // 60)
    indexes = metrics.read_counters([metrics.index_key(m) for m in (minute - 1, minute)])
    return sum(index.get(endpoint, 0) for index in indexes.values())


def send_whoami(url: str, count: int) -> list[tuple[str, int]]:
    """`count` requests, 8 at a time; (instance, worker pid) of each answer."""

    def call(_):
        answer = httpx.get(f"{url}/deploy-test/whoami/", timeout=30)
        assert answer.status_code == 200
        return answer.headers["X-Upstream"], answer.json()["pid"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(call, range(count)))


def test_requests_then_silence_the_fleet_wide_count_is_exact_within_two_flush_intervals(cluster):
    answered = send_whoami(cluster.url, 60)
    sent = time.monotonic()
    assert len({instance for instance, _ in answered}) == 2, "both instances should answer"
    assert len({pid for _, pid in answered}) > 2, "more than one worker of an instance answered"

    # Silence: no request reaches any worker from here on, so only the workers' own periodic
    # flushes can bring their last requests to Redis.
    while stored_count(WHOAMI) < 60 and time.monotonic() - sent < 2 * FLUSH_INTERVAL:
        time.sleep(0.05)
    assert stored_count(WHOAMI) == 60

    # And the monitoring API of either instance shows the merged figures of all four workers.
    seen = [whoami_counts(cluster.app_url(index)) for index in (0, 1)]
    assert [row["count"] for row in seen] == [60, 60]
    assert seen[0]["p95_ms"] == seen[1]["p95_ms"]


def test_a_worker_that_stops_writes_the_metrics_it_has_not_flushed(tmp_path):
    """With an hour between flushes, only the workers' exit (SIGTERM, as in a deploy) can write
    the counts: gunicorn's worker_exit hook flushes them."""
    with started_cluster(tmp_path, instances=1, METRICS_FLUSH_INTERVAL_SECONDS="3600") as cluster:
        answered = send_whoami(cluster.url, 20)
        assert len({pid for _, pid in answered}) == 2, "both workers should answer"
        assert stored_count(WHOAMI) == 0  # still in the workers

    # Leaving the block stopped nginx and gunicorn (SIGTERM), as a deploy does.
    assert stored_count(WHOAMI) == 20


def test_concurrent_checkouts_through_both_instances_never_oversell(
    cluster, make_user, make_product
):
    """Two cashiers on two tills each send 8 checkouts at once through nginx, for one product
    with 10 in stock: exactly 10 sales, stock 0, receipt numbers per till without gaps."""
    from rest_framework.authtoken.models import Token

    from pos.models import Register, Sale
    from pos.services.shifts import open_shift

    product = make_product(stock=10)
    tokens = []
    for index in (1, 2):
        cashier = make_user(f"till{index}", "cashier")
        register = Register.objects.create(name=f"Till {index}", code=f"R{index}")
        open_shift(register=register, cashier=cashier, opening_float=Decimal(0))
        tokens.append(Token.objects.create(user=cashier).key)

    def checkout(token):
        answer = httpx.post(
            f"{cluster.url}/api/v1/sales/",
            json={
                "lines": [{"product": product.pk, "quantity": 1}],
                "tenders": [{"tender": "cash", "amount": "12000"}],
            },
            headers={"Authorization": f"Token {token}", "Idempotency-Key": str(uuid4())},
            timeout=60,
        )
        return answer.status_code, answer.json(), answer.headers["X-Upstream"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(checkout, tokens * 8))

    sold = [body for status, body, _ in answers if status == 201]
    refused = [body for status, body, _ in answers if status != 201]
    assert len(sold) == 10, answers
    assert len(refused) == 6
    assert {body["error"]["code"] for body in refused} == {"out_of_stock"}, refused
    assert len({upstream for _, _, upstream in answers}) == 2

    product.refresh_from_db()
    assert product.stock_on_hand == 0
    for index in (1, 2):
        numbers = sorted(
            Sale.objects.filter(shift__register__code=f"R{index}").values_list("number", flat=True)
        )
        expected = [f"R{index}-{n:06d}" for n in range(1, len(numbers) + 1)]
        assert numbers == expected
    assert Sale.objects.count() == 10
