"""Alert rules driven into firing and resolving: what the operators receive (Django's email
outbox and a chat webhook receiver on 127.0.0.1), exactly one message per transition."""

import threading
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import caches
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client, override_settings
from django.utils import timezone
from health_check.exceptions import ServiceUnavailable

from monitoring import alerts, metrics
from monitoring.checks import Database
from monitoring.models import AlertIncident
from tests.monitoring.conftest import WebhookReceiver, cache_config
from tests.test_settings import load_settings, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(settings):
    receiver = WebhookReceiver()
    settings.ALERT_WEBHOOK_URL = receiver.url
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def operators(settings, make_user):
    """Alerts go to users with the admin role (ALERT_EMAILS unset)."""
    settings.ALERT_EMAILS = []
    make_user("owner", "admin", email="owner@myshop.rw")
    make_user("floor", "manager", email="floor@myshop.rw")  # not an admin: no alert email
    metrics.recorder.reset()
    yield
    metrics.recorder.reset()


def record(route, durations, status=200):
    for duration in durations:
        metrics.recorder.record(
            route=route, method="POST", status=status, duration_ms=duration, mem_kb=0,
            request_id="r",
        )  # fmt: skip


def evaluate():
    outcome = alerts.evaluate(force=True)
    assert outcome.evaluated, outcome.reason
    return outcome


def subjects():
    return [m.subject for m in mail.outbox]


def test_error_rate_fires_once_stays_quiet_then_resolves_once(webhook):
    record("/pos/checkout/", [50] * 90)
    record("/pos/checkout/", [50] * 10, status=500)
    evaluate()
    assert subjects() == ["[My shop] FIRING: Error rate above 5%"]
    assert mail.outbox[0].to == ["owner@myshop.rw"]
    assert (
        "10.0% of requests failed with a 5xx over the last 5 min (10 of 100)" in mail.outbox[0].body
    )
    assert len(webhook.messages) == 1
    assert webhook.texts()[0].startswith("[My shop] FIRING: Error rate above 5%")

    record("/pos/checkout/", [50] * 50)  # still 10 / 150 = 6.7 %: still firing, no message
    evaluate()
    assert len(mail.outbox) == 1 and len(webhook.messages) == 1

    record("/pos/checkout/", [50] * 150)  # 10 / 300 = 3.3 %
    evaluate()
    assert subjects()[1] == "[My shop] RESOLVED: Error rate above 5%"
    assert "Back to normal after 0 min" in mail.outbox[1].body
    assert webhook.texts()[1].startswith("[My shop] RESOLVED: Error rate above 5%")
    evaluate()
    assert len(mail.outbox) == 2 and len(webhook.messages) == 2
    incident = AlertIncident.objects.get()
    assert (incident.rule, incident.firing) == ("error_rate", False)


def test_client_errors_give_no_error_alert(webhook):
    record("/api/v1/products/", [20] * 80)
    record("/api/v1/products/", [20] * 20, status=404)  # 20 % 4xx: the clients' mistakes
    evaluate()
    assert subjects() == [] and webhook.messages == []


def test_thin_traffic_gives_no_verdict(webhook):
    record("/pos/", [20] * 15, status=500)  # fewer than ALERT_MIN_REQUESTS (20)
    evaluate()
    assert subjects() == [] and webhook.messages == []
    record("/pos/", [20] * 5)
    evaluate()  # 15 of 20 failed: now it counts
    assert subjects() == ["[My shop] FIRING: Error rate above 5%"]


def test_p95_fires_and_resolves(webhook):
    record("/reports/sales/", [100] * 90 + [3000] * 10)  # P95 about 3 s
    evaluate()
    assert subjects() == ["[My shop] FIRING: P95 latency above 2 s"]
    assert "P95 was 2.79 s over the last 5 min (100 requests)." in mail.outbox[0].body
    record("/reports/sales/", [100] * 300)
    evaluate()
    assert subjects()[1:] == ["[My shop] RESOLVED: P95 latency above 2 s"]
    assert len(webhook.messages) == 2


def test_readiness_failing_fires_and_resolves(webhook, monkeypatch):
    def refused(self):
        raise ServiceUnavailable("connection refused")

    monkeypatch.setattr(Database, "run", refused)
    evaluate()
    evaluate()
    assert subjects() == ["[My shop] FIRING: Not ready"]
    assert "Readiness fails (database: connection refused;" in mail.outbox[0].body
    monkeypatch.undo()
    evaluate()
    assert subjects()[1:] == ["[My shop] RESOLVED: Not ready"]
    assert len(webhook.messages) == 2


@pytest.mark.redis
def test_redis_on_fallback_for_five_minutes_fires_and_resolves(webhook, redis_server):
    with override_settings(CACHES=cache_config(redis_server.url)):
        backend = caches["default"]
        evaluate()
        assert subjects() == []
        redis_server.kill()
        backend.get("anything")  # the breaker opens
        assert not backend.state.connected
        evaluate()
        assert subjects() == []  # not five minutes yet
        backend.state.since = time.time() - 301
        evaluate()
        assert subjects() == ["[My shop] FIRING: Redis down for over 5 min"]
        assert "Redis unreachable for 5 min" in mail.outbox[0].body
        redis_server.start()
        time.sleep(0.6)  # past the test back-off (BACKOFF_MAX 0.5 s)
        evaluate()
        assert backend.state.connected
        assert subjects()[1:] == ["[My shop] RESOLVED: Redis down for over 5 min"]
        assert len(webhook.messages) == 2


def test_low_stock_crossing_fires_and_restocking_resolves(
    webhook, sell, make_product, manager, django_capture_on_commit_callbacks
):
    from pos.services.stock import adjust_stock

    charger = make_product(stock=3, reorder_level=2, name="Anker 20W Charger", sku="ANK-20")
    make_product(stock=10, reorder_level=2)
    evaluate()
    assert subjects() == []
    with django_capture_on_commit_callbacks(execute=True):
        sell((charger, 1))  # 3 -> 2: crosses its reorder level
    evaluate()
    assert subjects() == ["[My shop] FIRING: Low stock"]
    assert "Anker 20W Charger (ANK-20): 2 left, reorder level 2." in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        sell((charger, 1))  # lower still: the same alert, no new message
    evaluate()
    assert len(mail.outbox) == 1
    adjust_stock(product=charger, quantity=10, reason="Delivery", user=manager)
    evaluate()
    assert subjects()[1:] == ["[My shop] RESOLVED: Low stock"]
    assert "Was: Anker 20W Charger (ANK-20): 2 left" in mail.outbox[1].body
    assert len(webhook.messages) == 2
    assert "Anker 20W Charger" in webhook.texts()[1]


def test_shift_closed_beyond_the_cash_difference_is_announced_once(
    webhook, shift, register, cashier, make_user, manager
):
    from pos.services.shifts import close_shift, open_shift, review_close

    ended = close_shift(shift=shift, counted={"cash": Decimal("14000")}, user=cashier)
    evaluate()
    assert subjects() == []  # ended, not yet reviewed: no over/short yet
    review_close(shift=ended, user=manager)  # 6000 short
    evaluate()
    evaluate()
    assert subjects() == ["[My shop] Cash difference beyond 5,000 at a shift close"]
    assert f"Shift {shift.pk} on Till 1 (cashier) closed 6,000 RWF short" in mail.outbox[0].body
    assert len(webhook.messages) == 1
    # Within the threshold: nothing to say.
    clerk = make_user("clerk", "cashier")
    second = open_shift(register=register, cashier=clerk, opening_float=Decimal("1000"))
    close_shift(shift=second, counted={"cash": Decimal("1500")}, user=manager)  # 500 over
    evaluate()
    assert len(mail.outbox) == 1 and len(webhook.messages) == 1


def test_one_evaluation_per_minute_and_scheduler_mode(settings, webhook, monkeypatch):
    monkeypatch.setattr(alerts, "current_minute", lambda: 29_000_000)
    record("/pos/", [10] * 30, status=500)
    assert alerts.evaluate().evaluated
    assert alerts.evaluate().reason == "already evaluated this minute"
    assert len(mail.outbox) == 1
    monkeypatch.setattr(alerts, "current_minute", lambda: 29_000_001)
    assert alerts.evaluate().evaluated  # the next minute
    # The flush thread's trigger tries at most once a minute, and never in scheduler mode. It
    # runs in a thread of its own, as the flush does (and closes that thread's connections).
    cache = caches["default"]
    cache.clear()
    ticked = cache.get(alerts.tick_key(29_000_001))
    trigger = alerts.FlushTrigger()

    def in_flush_thread():
        thread = threading.Thread(target=trigger)
        thread.start()
        thread.join()
        # The trigger evaluates in a thread of its own: wait for it before reading the tick.
        for evaluation in threading.enumerate():
            if evaluation.name == "alert-evaluation":
                evaluation.join(timeout=30)
        return cache.get(alerts.tick_key(29_000_001))

    settings.ALERT_EVALUATION = "scheduler"
    assert ticked is None and in_flush_thread() is None
    settings.ALERT_EVALUATION = "request"
    assert in_flush_thread() == 1
    cache.clear()
    assert in_flush_thread() is None  # the same minute in this process: not even a cache call


def test_run_alerts_command(capsys, monkeypatch):
    monkeypatch.setattr(alerts, "current_minute", lambda: 29_000_000)
    record("/pos/", [10] * 30, status=500)
    call_command("run_alerts")
    call_command("run_alerts")
    assert capsys.readouterr().out.splitlines() == [
        "Evaluated: error_rate firing",
        "Skipped: already evaluated this minute.",
    ]
    assert len(mail.outbox) == 1


def test_a_dead_webhook_is_logged_and_email_still_goes(settings, captured_logs):
    receiver = WebhookReceiver(status=500)
    settings.ALERT_WEBHOOK_URL = receiver.url
    try:
        record("/pos/", [10] * 30, status=500)
        evaluate()
    finally:
        receiver.stop()
    assert len(receiver.messages) == 1  # tried once, no retry storm
    assert subjects() == ["[My shop] FIRING: Error rate above 5%"]
    warnings = [r.getMessage() for r in captured_logs.named("vevurn.alerts")]
    assert any("Could not post the alert to the webhook" in w for w in warnings)


def test_alert_emails_setting_overrides_the_admins(settings):
    settings.ALERT_EMAILS = ["oncall@myshop.rw", "owner@gmail.com"]
    record("/pos/", [10] * 30, status=500)
    evaluate()
    assert mail.outbox[0].to == ["oncall@myshop.rw", "owner@gmail.com"]


def test_the_health_dashboard_shows_firing_alerts_and_history(admin_user, webhook):
    record("/pos/", [10] * 30, status=500)
    evaluate()
    record("/reports/", [10] * 3000)
    evaluate()
    record("/pos/", [10] * 300, status=500)  # 330 of 3330: 9.9 %
    evaluate()
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/health/").content.decode()
    assert "Alerts" in page
    assert "email to the users with the admin role · chat webhook configured" in page
    assert 'aria-label="Error rate above 5%: Firing"' in page  # what fires now
    assert page.count("<td>Error rate above 5%</td>") == 2  # the history: resolved, firing
    assert "Resolved</span>" in page
    history = client.get("/admin/monitoring/alertincident/?resolved_at__isempty=1")
    assert history.status_code == 200
    paginator = history.content.decode().split('<p class="paginator">')[1].split("</p>")[0]
    assert paginator.split() == ["1", "alert"]  # the one firing now
    assert client.get("/admin/monitoring/alertincident/add/").status_code == 403  # read only


def test_a_stale_evaluator_cannot_announce_a_transition_again(webhook):
    """What the database's constraints guard when the lock is per process (Redis down): an
    evaluator that read the state before another one recorded a change cannot record it too."""
    record("/pos/", [10] * 30, status=500)
    stale, database = alerts.load_firing()
    evaluate()  # the other evaluator
    error_rate = next(rule for rule in alerts.rules() if rule.name == "error_rate")
    start = alerts.Transition(error_rate, "", True, "again", timezone.now())
    assert alerts.record(start, stale, database) is False
    current, _ = alerts.load_firing()
    record("/pos/", [10] * 3000)
    evaluate()  # resolved by the other evaluator
    end = alerts.Transition(error_rate, "", False, "again", timezone.now())
    assert alerts.record(end, current, database) is False
    assert len(webhook.messages) == 2 and len(mail.outbox) == 2


def test_while_the_database_is_down_the_cache_keeps_the_state(webhook, monkeypatch):
    record("/pos/", [10] * 30, status=500)
    manager = AlertIncident.objects

    def down(*args, **kwargs):
        raise OperationalError("the connection is closed")

    for name in ("filter", "create", "get_or_create"):
        monkeypatch.setattr(manager, name, down)
    evaluate()
    evaluate()  # still firing: the cache remembers
    assert subjects() == ["[My shop] FIRING: Error rate above 5%"]
    monkeypatch.undo()
    record("/pos/", [10] * 3000)
    evaluate()  # the database is back: the incident is written, then resolved
    assert subjects()[1:] == ["[My shop] RESOLVED: Error rate above 5%"]
    incident = AlertIncident.objects.get()
    assert (incident.rule, incident.firing) == ("error_rate", False)
    assert len(webhook.messages) == 2


def test_rules_are_configured_from_the_environment():
    configured = load_settings(
        {
            "DEBUG": "1",
            "ALERT_ERROR_RATE": "0.1",
            "ALERT_P95_MS": "1500",
            "ALERT_CASH_DIFFERENCE": "2000",
            "ALERT_DISABLED_RULES": "low_stock",
        },
        "ALERT_RULES",
    )["ALERT_RULES"]
    assert configured["error_rate"]["threshold"] == 0.1
    assert configured["p95_latency"]["threshold_ms"] == 1500
    assert configured["cash_difference"]["threshold"] == "2000"
    assert configured["low_stock"]["enabled"] is False
    assert configured["readiness"]["enabled"] is True
    typo = run(["manage.py", "check"], {"DEBUG": "1", "ALERT_DISABLED_RULES": "lowstock"})
    assert typo.returncode != 0
    assert "ALERT_DISABLED_RULES: unknown rule 'lowstock'" in typo.stderr


def test_an_alert_that_starts_and_ends_while_the_database_is_down(webhook, monkeypatch):
    manager = AlertIncident.objects

    def down(*args, **kwargs):
        raise OperationalError("the connection is closed")

    for name in ("filter", "create", "get_or_create"):
        monkeypatch.setattr(manager, name, down)
    record("/pos/", [10] * 30, status=500)
    evaluate()
    record("/pos/", [10] * 3000)
    evaluate()
    evaluate()  # still down: the ended alert is remembered, not announced again
    assert subjects() == [
        "[My shop] FIRING: Error rate above 5%",
        "[My shop] RESOLVED: Error rate above 5%",
    ]
    monkeypatch.undo()
    evaluate()  # back: the history gets the incident, nobody is told twice
    assert len(mail.outbox) == 2 and len(webhook.messages) == 2
    incident = AlertIncident.objects.get()
    assert (incident.rule, incident.firing) == ("error_rate", False)
