"""Two real processes evaluating the alert rules at once, against the same PostgreSQL (and
Redis): still exactly one message per transition, on each channel."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from monitoring import metrics
from monitoring.models import AlertIncident
from tests.conftest import REQUIRE_SERVICES
from tests.monitoring.conftest import WebhookReceiver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),  # the processes must see the test's rows
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def database_url() -> str:
    """The test database (test_<name>) as the processes must reach it."""
    db = connection.settings_dict
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def run_two_at_once(tmp_path, webhook, *, redis_url: str) -> list[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.monitoring.alert_process_settings",
        "DEBUG": "1",
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "ALERT_WEBHOOK_URL": webhook.url,
        "ALERT_EMAILS": "oncall@myshop.rw",
        "ALERT_TEST_MAIL_DIR": str(tmp_path / "mail"),
        "LOG_LEVEL": "ERROR",
    }
    command = [sys.executable, "manage.py", "run_alerts", "--force", "--wait", "60"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        outputs.append(out.strip())
    return sorted(outputs)


def email_subjects(tmp_path) -> list[str]:
    folder = tmp_path / "mail"
    if not folder.exists():
        return []
    return sorted(
        line.removeprefix("Subject: ")
        for path in folder.iterdir()
        for line in path.read_text().splitlines()
        if line.startswith("Subject: ")
    )


def test_two_processes_sharing_postgres_and_redis_announce_each_transition_once(tmp_path, webhook):
    if not settings.REDIS_URL:
        reason = "needs REDIS_URL: both processes share the lock and the metrics in Redis"
        if REQUIRE_SERVICES:
            pytest.fail(f"VEVURN_REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)
    metrics.recorder.reset()
    for status in [200] * 80 + [500] * 20:
        metrics.recorder.record(
            route="/pos/", method="GET", status=status, duration_ms=20, mem_kb=0, request_id="r"
        )
    metrics.recorder.flush()  # into Redis, where both processes read the merged figures

    outputs = run_two_at_once(tmp_path, webhook, redis_url=settings.REDIS_URL)
    # Both evaluated (--force), one after the other under the lock; the second saw the state.
    assert outputs == ["Evaluated: error_rate firing", "Evaluated: nothing started or ended."]
    assert email_subjects(tmp_path) == ["[My shop] FIRING: Error rate above 5%"]
    assert [m["text"].splitlines()[0] for m in webhook.messages] == [
        "[My shop] FIRING: Error rate above 5%"
    ]

    for _ in range(900):  # 20 of 1000: 2 %
        metrics.recorder.record(
            route="/pos/", method="GET", status=200, duration_ms=20, mem_kb=0, request_id="r"
        )
    metrics.recorder.flush()
    outputs = run_two_at_once(tmp_path, webhook, redis_url=settings.REDIS_URL)
    assert outputs == ["Evaluated: error_rate resolved", "Evaluated: nothing started or ended."]
    assert email_subjects(tmp_path) == [
        "[My shop] FIRING: Error rate above 5%",
        "[My shop] RESOLVED: Error rate above 5%",
    ]
    assert len(webhook.messages) == 2
    assert AlertIncident.objects.get().resolved_at is not None


def test_without_a_shared_lock_the_database_still_allows_one_announcement(
    tmp_path, webhook, sell, make_product, django_capture_on_commit_callbacks
):
    """Redis down (here: each process on its own in-process cache, so each takes its own lock
    and tick): both evaluate at the same time and see the same low stock; the open-incident
    constraint lets one of them record, and so announce, the start."""
    charger = make_product(stock=3, reorder_level=2, name="Anker 20W Charger", sku="ANK-20")
    with django_capture_on_commit_callbacks(execute=True):
        sell((charger, 1))  # crosses its reorder level: a LowStockAlert row

    outputs = run_two_at_once(tmp_path, webhook, redis_url="")
    store = charger.stock_levels.get().store_id
    assert f"Evaluated: low_stock {charger.pk}@{store} firing" in outputs
    assert outputs.count("Evaluated: nothing started or ended.") == 1
    assert email_subjects(tmp_path) == ["[My shop] FIRING: Low stock"]
    assert len(webhook.messages) == 1
    assert AlertIncident.objects.filter(rule="low_stock", resolved_at=None).count() == 1
