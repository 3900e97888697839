"""The declared schedule and retry policy of jobs, and the scheduler's one step.

Apps declare their jobs in their tasks.py:

    @periodic(every(seconds=60))
    @task()
    def evaluate_alerts(): ...

    @retries(5)
    @periodic(daily(at=lambda: settings.INVOICE_REMINDER_TIME))
    @task()
    def send_invoice_reminders(): ...

A period is named by a key: for `every(N)` the number of whole N-second spans since the epoch,
for `daily(at)` the shop's local date once its time has passed (a scheduler that starts late
in the day still runs that day's job, once). `enqueue_due` inserts a `ScheduledRun` for
(job, key) and the job's row in one transaction; the unique constraint makes a second
scheduler's insert fail, so a job is enqueued once per period however many schedulers run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks.base import Task

logger = logging.getLogger("vevurn.jobs")


@dataclasses.dataclass(frozen=True)
class Every:
    seconds: int

    def period_key(self, now: datetime) -> str | None:
        return f"{int(now.timestamp()) // self.seconds}"

    def describe(self) -> str:
        return f"every {self.seconds} s"

    def interval_seconds(self) -> float:
        return float(self.seconds)


@dataclasses.dataclass(frozen=True)
class Daily:
    at: Callable[[], time]  # read when asked, so that a changed setting applies at once

    def period_key(self, now: datetime) -> str | None:
        local = timezone.localtime(now)
        if local.time() < self.at():
            return None
        return local.date().isoformat()

    def describe(self) -> str:
        return f"daily at {self.at():%H:%M}"

    def interval_seconds(self) -> float:
        return 86400.0


def every(*, seconds: int = 0, minutes: int = 0) -> Every:
    total = seconds + 60 * minutes
    if total < 1:
        raise ValueError("a periodic job needs an interval of at least one second")
    return Every(total)


def daily(*, at: Callable[[], time]) -> Daily:
    return Daily(at)


@dataclasses.dataclass
class JobSpec:
    task: Task
    schedule: Every | Daily | None = None
    max_attempts: int | None = None  # None: JOBS_MAX_ATTEMPTS (periodic jobs: 1)

    @property
    def name(self) -> str:
        return self.task.module_path

    def attempts(self) -> int:
        if self.max_attempts is not None:
            return self.max_attempts
        return 1 if self.schedule is not None else settings.JOBS_MAX_ATTEMPTS


REGISTRY: dict[str, JobSpec] = {}


def _spec(task: Task) -> JobSpec:
    if not isinstance(task, Task):
        raise TypeError("put @periodic / @retries above @task()")
    return REGISTRY.setdefault(task.module_path, JobSpec(task))


def periodic(schedule: Every | Daily):
    """Declare that the task runs on `schedule` (enqueued by the scheduler)."""

    def register(task: Task) -> Task:
        _spec(task).schedule = schedule
        return task

    return register


def retries(max_attempts: int):
    """Declare how many times the task is tried before it counts as failed (with back-off)."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be 1 or more")

    def register(task: Task) -> Task:
        _spec(task).max_attempts = max_attempts
        return task

    return register


def spec_for(task_path: str) -> JobSpec | None:
    return REGISTRY.get(task_path)


def max_attempts(task_path: str) -> int:
    spec = spec_for(task_path)
    return spec.attempts() if spec is not None else settings.JOBS_MAX_ATTEMPTS


def retry_delay(attempt: int) -> timedelta:
    """Back-off after the `attempt`-th failure: the base, doubled each time, at most an hour."""
    seconds = settings.JOBS_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return timedelta(seconds=min(seconds, 3600))


def periodic_jobs() -> list[JobSpec]:
    return sorted((s for s in REGISTRY.values() if s.schedule is not None), key=lambda s: s.name)


def enqueue_due(now: datetime | None = None, *, seen: set | None = None) -> list[str]:
    """Enqueue each periodic job whose current period has no run yet; returns the job names
    this call enqueued. `seen` (the caller's memory of (job, period) already handled) saves a
    database round trip per job per tick; the database stays the judge."""
    now = now or timezone.now()
    enqueued = []
    for spec in periodic_jobs():
        key = spec.schedule.period_key(now)
        if key is None or (seen is not None and (spec.name, key) in seen):
            continue
        if _enqueue_once(spec, key):
            enqueued.append(spec.name)
        if seen is not None:
            seen.add((spec.name, key))
    return enqueued


def _enqueue_once(spec: JobSpec, key: str) -> bool:
    from django_tasks_db import DatabaseBackend

    from jobs.models import ScheduledRun

    in_same_transaction = isinstance(spec.task.get_backend(), DatabaseBackend)
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(job=spec.name, period=key)
            if in_same_transaction:
                result = spec.task.enqueue()
                ScheduledRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
            else:
                # A backend that runs elsewhere (or at once, in tests): after the claim commits.
                transaction.on_commit(spec.task.enqueue)
    except IntegrityError:
        return False  # another scheduler enqueued this period
    logger.debug("Enqueued %s for period %s", spec.name, key)
    return True
