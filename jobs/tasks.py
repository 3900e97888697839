"""The job machinery's own clean-up: finished job rows past retention, the schedule's claims,
and the heartbeats of processes gone for a day. Idempotent: a second run finds nothing."""

from datetime import time, timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import Heartbeat, ScheduledRun
from jobs.schedule import daily, periodic

FAILED_RETENTION_DAYS = 30


@periodic(daily(at=lambda: time(3, 0)))
@task()
def prune_job_rows() -> dict:
    now = timezone.now()
    kept = timedelta(days=settings.JOBS_RESULT_RETENTION_DAYS)
    done, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - kept
    ).delete()
    failed, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED,
        finished_at__lt=now - timedelta(days=FAILED_RETENTION_DAYS),
    ).delete()
    claims, _ = ScheduledRun.objects.filter(enqueued_at__lt=now - kept).delete()
    gone, _ = Heartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    return {"successful": done, "failed": failed, "claims": claims, "heartbeats": gone}
