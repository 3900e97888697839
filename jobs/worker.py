"""The worker: django_tasks_db's worker loop, plus what a shop needs from it.

- A heartbeat every JOBS_HEARTBEAT_SECONDS (a `Heartbeat` row, written by a thread with its own
  database connection), so health pages and alerts see the worker, and other workers can tell
  that it died.
- Recovery: a job left RUNNING by a worker whose heartbeat is older than three intervals (killed,
  out of memory, the machine lost) is put back in the queue and runs again; it counts as an
  attempt. Its writes were in transactions that died with it, so nothing is half-written.
- Retries: a job that raised is queued again after a back-off (jobs.schedule.retry_delay) until
  its attempts are used up; then it stays FAILED, listed in the admin with a retry action.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult, get_date_max

from jobs import schedule
from jobs.models import Heartbeat

logger = logging.getLogger("vevurn.jobs")


def stale_before(now=None):
    """Heartbeats older than this are dead processes (three missed intervals)."""
    now = now or timezone.now()
    return now - timedelta(seconds=3 * settings.JOBS_HEARTBEAT_SECONDS)


def beat(process_id: str, kind: str, *, jobs_run: int | None = None) -> None:
    """Record that this process is alive (creating its row on the first beat)."""
    changes = {"last_seen": timezone.now()}
    if jobs_run is not None:
        changes["jobs_run"] = jobs_run
    updated = Heartbeat.objects.filter(process_id=process_id).update(**changes)
    if not updated:
        Heartbeat.objects.create(
            process_id=process_id,
            kind=kind,
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            **changes,
        )


def recover_orphans(now=None) -> list[str]:
    """Put back in the queue the running jobs of dead workers; returns their ids.

    A job whose attempts are used up is marked failed instead. Each row is changed only if it
    is still the same run (status and started_at unchanged), so two workers recovering at once
    cannot both requeue it, and a job that finished meanwhile is left alone."""
    now = now or timezone.now()
    alive = set(
        Heartbeat.objects.filter(
            kind=Heartbeat.Kind.WORKER, last_seen__gte=stale_before(now)
        ).values_list("process_id", flat=True)
    )
    recovered = []
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only(
        "id", "worker_ids", "started_at", "task_path"
    )
    for row in running:
        if row.worker_ids and row.worker_ids[-1] in alive:
            continue
        if row.started_at and row.started_at >= stale_before(now):
            continue  # claimed moments ago by a worker whose first beat is on its way
        attempts = len(row.worker_ids)
        same_run = DBTaskResult.objects.filter(
            pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at
        )
        if attempts >= schedule.max_attempts(row.task_path):
            changed = same_run.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="jobs.worker.WorkerDied",
                traceback=f"WorkerDied: the worker running attempt {attempts} stopped "
                "(killed or lost) before the job finished.",
            )
        else:
            changed = same_run.update(
                status=TaskResultStatus.READY,
                run_after=now,
                exception_class_path="jobs.worker.WorkerDied",
                traceback=f"WorkerDied: attempt {attempts} was interrupted; running it again.",
            )
        if changed:
            logger.warning("Job %s (%s) of a dead worker recovered", row.pk, row.task_path)
            recovered.append(str(row.pk))
    return recovered


def schedule_retry(db_result: DBTaskResult, now=None) -> bool:
    """After a failed attempt: queue the job again after the back-off, if it has attempts
    left. Returns True when it will run again."""
    now = now or timezone.now()
    attempts = len(db_result.worker_ids)
    if attempts >= schedule.max_attempts(db_result.task_path):
        return False
    delay = schedule.retry_delay(attempts)
    DBTaskResult.objects.filter(pk=db_result.pk, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, run_after=now + delay, finished_at=None
    )
    logger.warning(
        "Job %s (%s) failed on attempt %s; retrying in %s s",
        db_result.pk,
        db_result.task_path,
        attempts,
        int(delay.total_seconds()),
    )
    return True


def retry_now(pk) -> bool:
    """The admin's retry action: a failed job runs again as soon as a worker is free."""
    return bool(
        DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.FAILED).update(
            status=TaskResultStatus.READY, run_after=get_date_max(), finished_at=None
        )
    )


class Worker(DatabaseWorker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stopped = threading.Event()
        self.heartbeat_thread: threading.Thread | None = None

    def run(self) -> None:
        beat(self.worker_id, Heartbeat.Kind.WORKER, jobs_run=0)
        recover_orphans()
        self.heartbeat_thread = threading.Thread(
            target=self._heartbeat_loop, name="jobs-heartbeat", daemon=True
        )
        self.heartbeat_thread.start()
        try:
            super().run()
        finally:
            self.stopped.set()

    def _heartbeat_loop(self) -> None:
        interval = settings.JOBS_HEARTBEAT_SECONDS
        while not self.stopped.wait(interval):
            try:
                beat(self.worker_id, Heartbeat.Kind.WORKER, jobs_run=self._run_tasks)
                recover_orphans()
            except DatabaseError:
                logger.exception("Worker heartbeat failed; trying again")
            finally:
                connection.close()  # this thread's own connection

    def run_task(self, db_task_result: DBTaskResult) -> None:
        super().run_task(db_task_result)
        if db_task_result.status == TaskResultStatus.FAILED:
            schedule_retry(db_task_result)
