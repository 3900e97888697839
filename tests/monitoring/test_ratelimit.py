"""Rate limits as a client sees them: 429s with headers, the login page's wait, what is exempt."""

import time
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path
from django_ratelimit.decorators import ratelimit

from accounts.models import AuditLog
from monitoring.client_ip import client_ip
from monitoring.ratelimit import limit, wait_message
from monitoring.signals import LOGIN_FAILED_COUNTER
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def fail_login(client, username="cashier", ip="10.0.0.7"):
    return client.post("/", {"username": username, "password": "wrong"}, REMOTE_ADDR=ip)


def test_five_failed_sign_ins_lock_the_username_from_that_ip(client, cashier):
    for _ in range(5):
        response = fail_login(client)
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content

    # Even the right password is refused now, and the page says how long to wait.
    response = client.post(
        "/", {"username": "cashier", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    # "Please wait 7 minutes" (or "42 seconds" near the end of the window).
    assert f"Please wait {wait_message(retry_after)}".encode() in response.content
    assert response["RateLimit-Limit"] == "5"
    assert response["RateLimit-Remaining"] == "0"

    # Another address, or another username, is not locked out.
    response = client.post(
        "/", {"username": "cashier", "password": PASSWORD}, REMOTE_ADDR="10.0.0.8"
    )
    assert response.status_code == 302


def test_a_successful_sign_in_is_not_counted(client, cashier):
    for _ in range(4):
        fail_login(client)
    for _ in range(3):
        response = client.post(
            "/", {"username": "cashier", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
        )
        assert response.status_code == 302
        client.logout()
    assert fail_login(client).status_code == 200  # the fifth failure is still allowed
    assert fail_login(client).status_code == 429


def test_twenty_failures_from_one_ip_lock_that_ip(client, cashier):
    for i in range(20):
        assert fail_login(client, username=f"guess{i}").status_code == 200
    response = client.post(
        "/", {"username": "cashier", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 429
    assert response["RateLimit-Limit"] == "20"


def test_failed_sign_ins_are_audited_and_counted(client, cashier):
    fail_login(client, username="Cashier", ip="10.0.0.9")
    fail_login(client, username="nobody", ip="10.0.0.9")
    rows = AuditLog.objects.filter(action="auth.login_failed").order_by("pk")
    assert [(r.details["username"], r.ip_address) for r in rows] == [
        ("Cashier", "10.0.0.9"),
        ("nobody", "10.0.0.9"),
    ]
    assert "password" not in str(rows[0].details)
    assert cache.get(LOGIN_FAILED_COUNTER) == 2


@override_settings(
    RATE_LIMITS={
        **settings.RATE_LIMITS,
        "api_anon": "3/15m",
        "api_user": "5/15m",
    }
)
def test_the_api_limit_answers_429_json_with_headers(client):
    for remaining in (2, 1, 0):
        response = client.get("/api/monitoring/redis", REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 401
        assert response["RateLimit-Limit"] == "3"
        assert response["RateLimit-Remaining"] == str(remaining)
    response = client.get("/api/monitoring/redis", REMOTE_ADDR="10.1.1.1", HTTP_X_REQUEST_ID="r1")
    assert response.status_code == 429
    body = response.json()
    assert body["error"]["code"] == "rate_limited"
    assert "Try again in" in body["error"]["message"]
    assert body["error"]["fields"] == {}
    assert "request_id" in body["error"]
    assert int(response["Retry-After"]) == int(response["RateLimit-Reset"]) > 0
    assert response["RateLimit-Remaining"] == "0"
    # Another client is unaffected.
    assert client.get("/api/monitoring/redis", REMOTE_ADDR="10.1.1.2").status_code == 401


@override_settings(
    RATE_LIMITS={
        **settings.RATE_LIMITS,
        "api_anon": "2/15m",
        "api_user": "4/15m",
    }
)
def test_signed_in_api_traffic_is_keyed_by_user_not_by_the_shop_ip(client, make_user):
    staff = make_user("owner", "admin", is_staff=True)
    other = make_user("owner2", "admin", is_staff=True)
    client.force_login(staff)
    for _ in range(4):
        assert client.get("/api/monitoring/redis", REMOTE_ADDR="10.2.2.2").status_code == 200
    assert client.get("/api/monitoring/redis", REMOTE_ADDR="10.2.2.2").status_code == 429
    client.force_login(other)  # same shop IP, another user: own budget
    response = client.get("/api/monitoring/redis", REMOTE_ADDR="10.2.2.2")
    assert response.status_code == 200
    assert response["RateLimit-Limit"] == "4"


@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "api_anon": "2/15m"})
def test_api_requests_that_reach_no_view_count_too(client):
    """Counted with the view's limit once the view is known; a request that reaches none (not
    found) is counted after its answer, so a client cannot probe unknown paths for free."""
    for remaining in (1, 0):
        response = client.get("/api/no-such-thing", REMOTE_ADDR="10.9.9.9")
        assert response.status_code == 404
        assert response["RateLimit-Remaining"] == str(remaining)
    response = client.get("/api/monitoring/redis", REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "api_anon": "1/15m"})
def test_health_probes_and_static_files_are_never_limited(client):
    for _ in range(5):
        response = client.get("/api/health/live", REMOTE_ADDR="10.3.3.3")
        assert response.status_code != 429
        assert "RateLimit-Limit" not in response
        response = client.get("/static/pos/vevurn.css", REMOTE_ADDR="10.3.3.3")
        assert response.status_code != 429


def checkout_view(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", include("vevurn.urls")),
    path("api/pos/checkout", limit("checkout")(checkout_view)),
    path("password-reset", limit("strict", key="ip")(checkout_view)),
    path(
        "ratelimited",
        ratelimit(key="ip", rate="1/h", block=True)(checkout_view),
    ),
]


@override_settings(
    ROOT_URLCONF=__name__,
    RATE_LIMITS={
        **settings.RATE_LIMITS,
        "checkout": "2/h",
        "strict": "1/15m",
    },
)
def test_the_reusable_decorator_limits_checkout_per_user_and_resets_per_ip(
    client, cashier, manager
):
    client.force_login(cashier)
    assert client.post("/api/pos/checkout").status_code == 200
    assert client.post("/api/pos/checkout").status_code == 200
    response = client.post("/api/pos/checkout")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    client.force_login(manager)
    assert client.post("/api/pos/checkout").status_code == 200

    assert client.post("/password-reset", REMOTE_ADDR="10.4.4.4").status_code == 200
    response = client.post("/password-reset", REMOTE_ADDR="10.4.4.4")
    assert response.status_code == 429
    assert b"Too many requests" in response.content  # the friendly page, not JSON
    assert 0 < int(response["Retry-After"])


@override_settings(ROOT_URLCONF=__name__)
def test_django_ratelimits_own_decorator_gives_a_429_not_a_403(client):
    assert client.get("/ratelimited", REMOTE_ADDR="10.5.5.5").status_code == 200
    response = client.get("/ratelimited", REMOTE_ADDR="10.5.5.5")
    assert response.status_code == 429
    assert "Retry-After" in response


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        ([], "1.1.1.1", "10.0.0.1"),  # no trusted proxy: the header is ignored
        (["10.0.0.1"], "6.6.6.6, 41.186.0.5", "41.186.0.5"),  # one proxy: the last hop
        (["10.0.0.0/8", "172.16.0.0/12"], "6.6.6.6, 41.186.0.5, 172.16.0.2", "41.186.0.5"),
        (["10.0.0.1"], "", "10.0.0.1"),  # a trusted proxy that forwarded nothing
        (["10.0.0.1"], "not-an-ip", "10.0.0.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(trusted, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXIES=trusted):
        assert client_ip(request) == expected


def test_monitoring_endpoint_is_for_staff_only(client, cashier, make_user):
    response = client.get("/api/monitoring/redis")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    client.force_login(cashier)
    assert client.get("/api/monitoring/redis").status_code == 403
    client.force_login(make_user("owner", "admin", is_staff=True))
    response = client.get("/api/monitoring/redis")
    assert response.status_code == 200
    assert response.json()["status"] in {"connected", "not_configured"}


def test_the_admin_sign_in_obeys_the_same_limit(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    for _ in range(5):
        response = client.post(
            "/admin/login/", {"username": "boss", "password": "wrong"}, REMOTE_ADDR="10.6.6.6"
        )
        assert response.status_code == 200
    response = client.post(
        "/admin/login/", {"username": "boss", "password": PASSWORD}, REMOTE_ADDR="10.6.6.6"
    )
    assert response.status_code == 429
    assert b"Too many requests" in response.content
    assert "_auth_user_id" not in client.session
    # The shop's sign-in page shares the counter.
    response = client.post("/", {"username": "boss", "password": PASSWORD}, REMOTE_ADDR="10.6.6.6")
    assert response.status_code == 429


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_slip_past_the_limit(cashier, monkeypatch):
    import threading

    from django.contrib.auth import forms

    real_authenticate = forms.authenticate

    def slow_authenticate(*args, **kwargs):
        time.sleep(0.2)  # a slow password hash: every guess is in flight at once
        return real_authenticate(*args, **kwargs)

    monkeypatch.setattr(forms, "authenticate", slow_authenticate)
    # Not what is tested here, and SQLite's in-memory test database refuses parallel writers.
    monkeypatch.setattr("accounts.audit.record", lambda **kwargs: None)
    statuses = []
    barrier = threading.Barrier(10)

    def guess():
        from django.db import connection

        client = Client()
        barrier.wait()
        statuses.append(fail_login(client).status_code)
        connection.close()

    threads = [threading.Thread(target=guess) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 10
    assert statuses.count(200) <= 5  # without the per-user slot all ten were checked
    assert set(statuses) <= {200, 429}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "1 second"), (42, "42 seconds"), (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes")],
)
def test_the_wait_reads_naturally(seconds, text):
    assert wait_message(seconds) == text


@pytest.mark.redis
def test_an_api_sale_counts_each_rate_limit_in_one_redis_round_trip(
    redis_server, redis_round_trips, cashier, shift, make_product, settings
):
    from rest_framework.authtoken.models import Token

    from tests.monitoring.conftest import cache_config

    settings.CACHES = cache_config(redis_server.url)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "checkout": "2/m", "api_user": "100/m"}
    product = make_product(stock=10)
    till = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cashier).key}")

    def sell():
        return till.post(
            "/api/v1/sales/",
            {
                "lines": [{"product": product.pk, "quantity": 1}],
                "tenders": [{"tender": "cash", "amount": "12000"}],
            },
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )

    assert sell().status_code == 201  # opens the connection, teaches Redis the script
    redis_round_trips.clear()
    second = sell()

    assert second.status_code == 201
    # The general API limit's headers (the middleware's, written over the checkout's).
    assert second["RateLimit-Limit"] == "100" and second["RateLimit-Remaining"] == "98"
    # The API limit (middleware) and the checkout limit (view) in one EVALSHA, where
    # django-ratelimit's add + incr took SET NX, then EVAL of its incr script, two per limit.
    # The MGET: the shop's settings (once per request) with whether the till is in training.
    assert sorted(trip[0] for trip in redis_round_trips.trips) == ["EVALSHA", "MGET"]
    assert all(len(trip) == 1 for trip in redis_round_trips.trips)
    assert second.wsgi_request.counted_limits == {}  # the view used the middleware's count

    third = sell()
    assert third.status_code == 429  # the checkout limit: 2 a minute
    assert third.json()["error"]["code"] == "rate_limited" and int(third["Retry-After"]) > 0
    # Both counters live in Redis, where another instance counts them too.
    counters = sorted(
        int(redis_server.client().get(k)) for k in redis_server.client().keys("*:rl:*")
    )
    assert counters == [3, 3]


def test_a_limit_counts_django_ratelimits_own_counter(settings):
    """`usage` counts in one cache call the counter django-ratelimit's `get_usage` keeps (its
    key, window and expiry), so that both agree, e.g. during a rolling deploy."""
    from django_ratelimit.core import get_usage

    from monitoring.ratelimit import usage

    request = RequestFactory().post("/api/v1/sales/")
    rate = settings.RATE_LIMITS["checkout"]

    def theirs(increment):
        return get_usage(
            request,
            group="vevurn.checkout",
            key=lambda group, request: "user:7",
            rate=rate,
            increment=increment,
        )

    ours = [usage(request, "checkout", "user:7", increment=True) for _ in range(2)]
    assert [found.count for found in ours] == [1, 2]
    assert theirs(increment=False)["count"] == 2
    assert theirs(increment=True)["count"] == 3
    found = usage(request, "checkout", "user:7", increment=False)
    assert (found.count, found.limit) == (3, int(rate.split("/")[0]))
    assert abs(found.reset - max(1, theirs(increment=False)["time_left"])) <= 1
    assert usage(request, "checkout", "user:8", increment=False).count == 0  # another bucket

    settings.RATELIMIT_ENABLE = False
    assert usage(request, "checkout", "user:7", increment=True) is None


def test_the_token_middleware_reads_the_user_the_orm_reads(cashier):
    """The API limit's token check reads the token's user in a plain statement: the same
    user, each field's value of the same type as the ORM gives it (dates, flags on SQLite),
    and the same refusals as DRF's own check."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from rest_framework.authtoken.models import Token
    from rest_framework.exceptions import AuthenticationFailed

    from monitoring.ratelimit import _token_authentication

    get_user_model().objects.filter(pk=cashier.pk).update(last_login=timezone.now())
    token = Token.objects.create(user=cashier)
    user, found = _token_authentication().authenticate_credentials(token.key)
    orms = get_user_model().objects.get(pk=cashier.pk)
    for field in type(orms)._meta.concrete_fields:
        mine, theirs = getattr(user, field.attname), getattr(orms, field.attname)
        assert (mine, type(mine)) == (theirs, type(theirs)), field.name
    assert (found.key, found.user_id, found.user) == (token.key, cashier.pk, user)
    assert not user._state.adding

    for key in ("not-a-real-token", token.key.upper()):
        with pytest.raises(AuthenticationFailed):
            _token_authentication().authenticate_credentials(key)
    get_user_model().objects.filter(pk=cashier.pk).update(is_active=False)
    with pytest.raises(AuthenticationFailed):
        _token_authentication().authenticate_credentials(token.key)


def test_a_token_clients_session_user_is_not_loaded(cashier, shift, make_product, monkeypatch):
    """A token client sends no session cookie: the API limit keys it by its token's user
    without loading the session's (anonymous) user first; with a session, it is loaded."""
    from django.contrib.auth import middleware as auth_middleware
    from rest_framework.authtoken.models import Token

    loads = []
    real_get_user = auth_middleware.get_user
    monkeypatch.setattr(
        auth_middleware,
        "get_user",
        lambda request: loads.append(request.path) or real_get_user(request),
    )
    product = make_product(stock=10)
    till = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cashier).key}")
    sold = till.post(
        "/api/v1/sales/",
        {
            "lines": [{"product": product.pk, "quantity": 1}],
            "tenders": [{"tender": "cash", "amount": "12000"}],
        },
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert sold.status_code == 201
    assert loads == []

    browser = Client()
    browser.force_login(cashier)
    assert browser.get("/api/v1/sales/").status_code == 200
    assert loads == ["/api/v1/sales/"]
