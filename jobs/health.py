"""How the background jobs stand: the worker and scheduler heartbeats, the queue, and each
declared job's last run and last success. Read by the health pages, the metrics export, the
alert rules and the deployment checks (all in monitoring, which imports this; never the reverse).

A process is down when its last heartbeat is older than three intervals (JOBS_HEARTBEAT_SECONDS).
A periodic job is late when it has not started for its interval plus that grace.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from jobs import schedule
from jobs.models import Heartbeat, JobRecord

OK, DOWN, NEVER = "ok", "down", "never_seen"


def grace() -> timedelta:
    return timedelta(seconds=3 * settings.JOBS_HEARTBEAT_SECONDS)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def process_status(kind: str, now: datetime) -> dict:
    """{"status": ok | down | never_seen, "alive": n, "last_seen": iso, "seconds_since": s}."""
    rows = list(Heartbeat.objects.filter(kind=kind).order_by("-last_seen")[:50])
    alive = [row for row in rows if row.last_seen >= now - grace()]
    last_seen = rows[0].last_seen if rows else None
    status = OK if alive else (DOWN if rows else NEVER)
    return {
        "status": status,
        "alive": len(alive),
        "last_seen": _iso(last_seen),
        "seconds_since": round((now - last_seen).total_seconds()) if last_seen else None,
        "processes": [
            {
                "host": row.host,
                "pid": row.pid,
                "last_seen": _iso(row.last_seen),
                "jobs_run": row.jobs_run,
            }
            for row in alive
        ],
    }


def queue_figures(now: datetime) -> dict:
    figures = DBTaskResult.objects.aggregate(
        queued=Count(
            "pk",
            filter=Q(status=TaskResultStatus.READY)
            & (Q(run_after__lte=now) | Q(run_after=get_date_max())),
        ),
        waiting_retry=Count(
            "pk",
            filter=Q(status=TaskResultStatus.READY, run_after__gt=now)
            & ~Q(run_after=get_date_max()),
        ),
        running=Count("pk", filter=Q(status=TaskResultStatus.RUNNING)),
        failed=Count("pk", filter=Q(status=TaskResultStatus.FAILED)),
    )
    oldest = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__lte=now)
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first()
    )
    oldest_max = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after=get_date_max())
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first()
    )
    oldest = min((o for o in (oldest, oldest_max) if o), default=None)
    figures["oldest_queued_seconds"] = round((now - oldest).total_seconds()) if oldest else 0
    return figures


def job_rows(now: datetime) -> list[dict]:
    records = {record.job: record for record in JobRecord.objects.all()}
    rows = []
    for spec in schedule.periodic_jobs():
        record = records.get(spec.name)
        started = record.last_started_at if record else None
        limit = timedelta(seconds=spec.schedule.interval_seconds()) + grace()
        if record is None or started is None:
            status = NEVER
        elif record.last_status == "failed":
            status = "failing"
        elif now - started > limit:
            status = "late"
        else:
            status = OK
        rows.append(
            {
                "name": spec.name,
                "schedule": spec.schedule.describe(),
                # The same, as parts a page can put in its own language.
                "every_seconds": getattr(spec.schedule, "seconds", None),
                "daily_at": spec.schedule.at().strftime("%H:%M")
                if hasattr(spec.schedule, "at")
                else None,
                "status": status,
                "last_run": _iso(started),
                "last_success": _iso(record.last_success_at if record else None),
                "last_error": record.last_error if record and status == "failing" else "",
            }
        )
    return rows


def report(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "worker": process_status(Heartbeat.Kind.WORKER, now),
        "scheduler": process_status(Heartbeat.Kind.SCHEDULER, now),
        "queue": queue_figures(now),
        "schedule": job_rows(now),
        "heartbeat_seconds": settings.JOBS_HEARTBEAT_SECONDS,
    }


def needs_worker() -> bool:
    """False when jobs run inside the process that enqueues them (the immediate backend of the
    tests, or a development setting): then no worker or scheduler is expected."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)
