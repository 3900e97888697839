"""Each job's last run and last success (JobRecord), from the tasks framework's signals, so the
immediate backend (tests, development) and the database worker record alike."""

from __future__ import annotations

import logging

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_finished, task_started

logger = logging.getLogger("vevurn.jobs")


def _update(job: str, **changes) -> None:
    from jobs.models import JobRecord

    try:
        if JobRecord.objects.filter(job=job).update(**changes):
            return
        try:
            with transaction.atomic():
                JobRecord.objects.create(job=job)
        except IntegrityError:
            pass  # another worker created it first
        JobRecord.objects.filter(job=job).update(**changes)
    except DatabaseError:
        # The record is for health pages; a job's own work must not fail because of it.
        logger.exception("Could not record the run of job %s", job)


def last_line(traceback: str, fallback: str = "") -> str:
    """The exception line of a traceback ("ValueError: ..."), for lists and alerts."""
    lines = [line for line in (traceback or "").strip().splitlines() if line.strip()]
    return (lines[-1] if lines else fallback)[:500]


def error_line(task_result) -> str:
    if not task_result.errors:
        return ""
    error = task_result.errors[-1]
    return last_line(error.traceback, error.exception_class_path)


@receiver(task_started)
def job_started(sender, task_result, **kwargs):
    _update(task_result.task.module_path, last_started_at=timezone.now())


@receiver(task_finished)
def job_finished(sender, task_result, **kwargs):
    now = timezone.now()
    if task_result.status == TaskResultStatus.SUCCESSFUL:
        _update(
            task_result.task.module_path,
            last_finished_at=now,
            last_success_at=now,
            last_status="successful",
            runs=F("runs") + 1,
        )
    else:
        _update(
            task_result.task.module_path,
            last_finished_at=now,
            last_failure_at=now,
            last_status="failed",
            last_error=error_line(task_result),
            runs=F("runs") + 1,
            failures=F("failures") + 1,
        )
