"""The schedule (once per period), the worker's retries with back-off, recovery of a dead
worker's job, and the run records, in this process against the test database."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs import schedule
from jobs.models import Heartbeat, JobRecord, ScheduledRun
from jobs.worker import Worker, recover_orphans, retry_now
from pos.tasks import poll_mobile_money
from tests.jobs import sample_jobs

POLL = "pos.tasks.poll_mobile_money"
KIGALI = ZoneInfo("Africa/Kigali")


def run_worker_once() -> None:
    """A worker that runs what is ready now, then stops (no heartbeat thread beat needed)."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def make_due(pk) -> None:
    DBTaskResult.objects.filter(pk=pk).update(run_after=timezone.now())


def test_a_periodic_job_is_enqueued_once_per_period_however_often_asked(db, database_queue):
    now = datetime(2026, 3, 2, 10, 0, 1, tzinfo=KIGALI)
    assert POLL in schedule.enqueue_due(now)
    assert POLL not in schedule.enqueue_due(now + timedelta(seconds=3))  # same 5 s period
    assert POLL in schedule.enqueue_due(now + timedelta(seconds=5))  # the next one
    assert DBTaskResult.objects.filter(task_path=POLL).count() == 2
    runs = ScheduledRun.objects.filter(job=POLL)
    assert runs.count() == 2
    assert set(runs.values_list("task_id", flat=True)) == {
        str(pk) for pk in DBTaskResult.objects.filter(task_path=POLL).values_list("pk", flat=True)
    }


def test_the_claim_and_the_job_row_are_written_together(db, database_queue, monkeypatch):
    """A scheduler that fails to write the job row leaves no claim: the next tick tries again."""
    now = datetime(2026, 3, 2, 10, 0, 1, tzinfo=KIGALI)

    def broken_enqueue(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(type(poll_mobile_money), "enqueue", broken_enqueue)
    with pytest.raises(RuntimeError):
        schedule.enqueue_due(now)
    assert not ScheduledRun.objects.filter(job=POLL).exists()
    monkeypatch.undo()
    assert POLL in schedule.enqueue_due(now)


def test_a_daily_job_is_due_once_its_time_has_passed_that_day():
    daily = schedule.daily(at=lambda: time(21, 0))
    assert daily.period_key(datetime(2026, 3, 2, 20, 59, tzinfo=KIGALI)) is None
    assert daily.period_key(datetime(2026, 3, 2, 21, 0, tzinfo=KIGALI)) == "2026-03-02"
    # A scheduler that was down at 21:00 still runs that day's job when it comes back.
    assert daily.period_key(datetime(2026, 3, 2, 23, 30, tzinfo=KIGALI)) == "2026-03-02"
    # Shop time, not UTC: 22:30 UTC is already the next day in Kigali (and before 21:00 there).
    assert daily.period_key(datetime(2026, 3, 2, 22, 30, tzinfo=ZoneInfo("UTC"))) is None


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_is_retried_with_growing_back_off_then_fails_and_the_admin_retries_it(
    database_queue, tmp_path
):
    database_queue.JOBS_RETRY_BASE_SECONDS = 30
    result = sample_jobs.fail_until.enqueue(str(tmp_path), 4)

    delays = []
    for _ in range(2):
        run_worker_once()
        row = DBTaskResult.objects.get(pk=result.id)
        assert row.status == TaskResultStatus.READY
        delays.append(round((row.run_after - timezone.now()).total_seconds()))
        make_due(result.id)
    assert delays[0] == pytest.approx(30, abs=3)
    assert delays[1] == pytest.approx(60, abs=3)

    run_worker_once()  # the third attempt of three
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert len(row.worker_ids) == 3
    assert "attempt 3 fails" in row.traceback
    record = JobRecord.objects.get(job="tests.jobs.sample_jobs.fail_until")
    assert (record.runs, record.failures, record.last_status) == (3, 3, "failed")
    assert record.last_error == "RuntimeError: attempt 3 fails"

    assert retry_now(result.id)
    run_worker_once()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == 4
    record.refresh_from_db()
    assert record.last_status == "successful"
    assert record.last_success_at is not None


def running_row(*, worker_id: str, attempts: int, started_ago: timedelta) -> DBTaskResult:
    result = sample_jobs.always_fails.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - started_ago,
        worker_ids=[f"earlier-{n}" for n in range(attempts - 1)] + [worker_id],
    )
    return DBTaskResult.objects.get(pk=result.id)


def test_a_dead_workers_job_goes_back_in_the_queue_and_a_live_workers_is_left(db, database_queue):
    Heartbeat.objects.create(process_id="alive", kind="worker", last_seen=timezone.now())
    Heartbeat.objects.create(
        process_id="dead", kind="worker", last_seen=timezone.now() - timedelta(minutes=5)
    )
    dead = running_row(worker_id="dead", attempts=1, started_ago=timedelta(minutes=6))
    alive = running_row(worker_id="alive", attempts=1, started_ago=timedelta(minutes=6))
    lost = running_row(worker_id="never-seen", attempts=2, started_ago=timedelta(minutes=6))
    just_claimed = running_row(worker_id="new", attempts=1, started_ago=timedelta(seconds=1))

    assert sorted(recover_orphans()) == sorted([str(dead.pk), str(lost.pk)])

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[dead.pk] == statuses[lost.pk] == TaskResultStatus.READY
    assert statuses[alive.pk] == statuses[just_claimed.pk] == TaskResultStatus.RUNNING
    assert recover_orphans() == []  # recovered once


def test_a_job_whose_worker_died_on_its_last_attempt_fails_for_good(db, database_queue):
    settings_attempts = schedule.max_attempts("tests.jobs.sample_jobs.always_fails")
    row = running_row(
        worker_id="dead", attempts=settings_attempts, started_ago=timedelta(minutes=6)
    )
    recover_orphans()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert "WorkerDied" in row.traceback


def test_immediate_backend_records_each_jobs_last_run(db, tmp_path):
    sample_jobs.always_fails.enqueue()
    record = JobRecord.objects.get(job="tests.jobs.sample_jobs.always_fails")
    assert record.last_status == "failed"
    assert record.last_error.startswith("ValueError: this job always fails")
    assert record.last_success_at is None
