"""The shop's nightly and closing-time jobs (pos/tasks.py), run at once as the tests do, and
the job machinery's own clean-up (jobs/tasks.py)."""

from datetime import timedelta
from decimal import Decimal

from django.core import mail
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs import schedule
from jobs.models import Heartbeat, JobRecord, ScheduledRun
from jobs.tasks import prune_job_rows
from pos.models import HeldSale, Product
from pos.services.checkout import Cart, CartLine, TenderLine
from pos.services.holds import hold_sale
from pos.tasks import nightly_checks, send_daily_summary


def test_every_periodic_job_is_declared_with_its_schedule():
    declared = {spec.name: spec.schedule.describe() for spec in schedule.periodic_jobs()}
    assert declared == {
        # Fiscal signing (docs/fiscal.md): they do nothing while FISCAL_BACKEND=none.
        "fiscal.tasks.register_fiscal_items": "every 60 s",
        "fiscal.tasks.send_fiscal_documents": "every 3 s",
        "fiscal.tasks.send_receipt_messages": "every 5 s",
        "jobs.tasks.prune_job_rows": "daily at 03:00",
        "monitoring.tasks.evaluate_alerts": "every 60 s",
        "pos.tasks.close_journal": "daily at 00:10",
        "pos.tasks.expire_gift_cards": "daily at 00:30",
        "pos.tasks.expire_loyalty_points": "daily at 00:30",
        "pos.tasks.nightly_checks": "daily at 02:30",
        "pos.tasks.poll_mobile_money": "every 5 s",
        "pos.tasks.send_daily_summary": "daily at 21:00",
        "pos.tasks.send_invoice_reminders": "daily at 09:00",
        "pos.tasks.verify_journal": "daily at 02:00",
    }


def test_nightly_checks_pass_on_consistent_ledgers_and_expire_old_held_sales(
    sell, product, register, cashier
):
    sell((product, 2))
    old = hold_sale(register=register, cashier=cashier, cart=Cart([CartLine(product.pk, 1)]))
    HeldSale.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    recent = hold_sale(register=register, cashier=cashier, cart=Cart([CartLine(product.pk, 1)]))

    result = nightly_checks.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value.endswith("1 held sale(s) expired")
    assert list(HeldSale.objects.values_list("pk", flat=True)) == [recent.pk]
    assert nightly_checks.enqueue().return_value.endswith("0 held sale(s) expired")


def test_nightly_checks_fail_naming_the_drift_and_change_nothing(sell, product):
    sell((product, 1))
    Product.objects.filter(pk=product.pk).update(stock_on_hand=50)  # a write behind the ledger

    result = nightly_checks.enqueue()

    assert result.status == TaskResultStatus.FAILED
    record = JobRecord.objects.get(job="pos.tasks.nightly_checks")
    assert record.last_error.startswith("pos.tasks.LedgerDrift: 1 product(s) and 0 sale(s)")
    assert f"{product.sku} {product.name}: stock 50, ledger 9 (drift +41)" in record.last_error
    assert Product.objects.get(pk=product.pk).stock_on_hand == 50


def test_the_owner_gets_the_days_summary_at_closing_time(sell, product, make_user, settings):
    make_user("owner", "admin", email="owner@myshop.rw")
    settings.DAILY_SUMMARY_EMAILS = []
    sell((product, 2), tenders=[TenderLine("cash", Decimal(30000))])

    assert send_daily_summary.enqueue().return_value == 1

    [message] = mail.outbox
    assert message.to == ["owner@myshop.rw"]
    assert "1 sales" in message.subject
    assert "Sales: 1, " in message.body
    assert "Tenders:" in message.body and "Cash: " in message.body
    assert "Low stock:" in message.body


def test_old_job_rows_claims_and_heartbeats_are_pruned_recent_ones_kept(db, settings):
    settings.JOBS_RESULT_RETENTION_DAYS = 2
    now = timezone.now()

    def row(status, days_ago):
        return DBTaskResult.objects.create(
            status=status,
            args_kwargs={"args": [], "kwargs": {}},
            task_path="pos.tasks.poll_mobile_money",
            backend_name="default",
            finished_at=now - timedelta(days=days_ago),
        )

    old_done, new_done = row("SUCCESSFUL", 3), row("SUCCESSFUL", 1)
    recent_failure, old_failure = row("FAILED", 10), row("FAILED", 31)
    ScheduledRun.objects.create(job="x", period="1", enqueued_at=now - timedelta(days=3))
    ScheduledRun.objects.create(job="x", period="2")
    Heartbeat.objects.create(process_id="gone", kind="worker", last_seen=now - timedelta(days=2))
    Heartbeat.objects.create(process_id="here", kind="worker")

    prune_job_rows.enqueue()

    kept = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert new_done.pk in kept and recent_failure.pk in kept
    assert old_done.pk not in kept and old_failure.pk not in kept
    assert list(ScheduledRun.objects.values_list("period", flat=True)) == ["2"]
    assert list(Heartbeat.objects.values_list("process_id", flat=True)) == ["here"]
