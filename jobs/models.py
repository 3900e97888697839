"""What the job machinery writes besides the job rows themselves (django_tasks_db.DBTaskResult):
which periods a schedule has enqueued, the last run of each job, and who is alive."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult


class ScheduledRun(models.Model):
    """One periodic job enqueued for one period. Unique per (job, period): a scheduler inserts
    this row and the job's row in one transaction, so a second scheduler's insert fails and it
    enqueues nothing (jobs.schedule.enqueue_due)."""

    job = models.CharField(_("job"), max_length=200)
    period = models.CharField(_("period"), max_length=40)
    enqueued_at = models.DateTimeField(_("enqueued at"), default=timezone.now, db_index=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled run")
        constraints = [
            models.UniqueConstraint(fields=["job", "period"], name="one_run_per_job_period")
        ]

    def __str__(self):
        return f"{self.job} {self.period}"


class JobRecord(models.Model):
    """The last run and the last success of one job (by its task path), for health and alerts.
    Written by jobs.records from the tasks framework's started/finished signals."""

    job = models.CharField(_("job"), max_length=200, unique=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_status = models.CharField(_("last status"), max_length=16, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    runs = models.PositiveIntegerField(_("runs"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)

    class Meta:
        ordering = ["job"]
        verbose_name = _("job record")

    def __str__(self):
        return self.job


class Heartbeat(models.Model):
    """A worker or scheduler process saying it is alive, every JOBS_HEARTBEAT_SECONDS. A worker
    whose heartbeat is older than three intervals is dead: its running job is run again."""

    class Kind(models.TextChoices):
        WORKER = "worker", _("Worker")
        SCHEDULER = "scheduler", _("Scheduler")

    process_id = models.CharField(_("process id"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    host = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("pid"), default=0)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)
    jobs_run = models.PositiveIntegerField(_("jobs run"), default=0)

    class Meta:
        ordering = ["kind", "-last_seen"]
        verbose_name = _("heartbeat")

    def __str__(self):
        return f"{self.kind} {self.host}:{self.pid}"


class FailedJob(DBTaskResult):
    """The job rows that failed for good (their retries used up), for the admin's list."""

    class Meta:
        proxy = True
        verbose_name = _("failed job")
        verbose_name_plural = _("failed jobs")
