"""Background jobs: a worker has been seen, and the schedule is running (jobs/health.py)."""

from django.utils import timezone

from monitoring.deployment.base import check, failed, passed, warned

START_WORKER = (
    "Start python manage.py run_worker (Procfile worker:, or docs/deploy/vevurn-worker.service)."
)
START_SCHEDULER = (
    "Start python manage.py run_scheduler (Procfile scheduler:, or "
    "docs/deploy/vevurn-scheduler.service)."
)


@check("jobs.worker", category="application", title="A worker has been seen", severity="high")
def worker_seen(context):
    from jobs import health as jobs

    if not jobs.needs_worker():
        return warned(
            "jobs run inside the process that enqueues them (TASKS_BACKEND is not the "
            "database queue): a slow job slows a request",
            "Unset TASKS_BACKEND (the database queue is the default) and run a worker.",
        )
    state = jobs.process_status("worker", timezone.now())
    queued = jobs.queue_figures(timezone.now())["queued"]
    if state["status"] == jobs.NEVER:
        return warned(f"no worker has run yet ({queued} job(s) queued)", START_WORKER)
    if state["status"] == jobs.DOWN:
        return failed(
            f"no worker heartbeat for {state['seconds_since']} s ({queued} job(s) queued): "
            "Mobile Money, alerts and reminders wait",
            START_WORKER,
        )
    return passed(f"{state['alive']} worker(s) alive, {queued} job(s) queued")


@check("jobs.schedule", category="application", title="The schedule runs", severity="high")
def schedule_running(context):
    from jobs import health as jobs

    if not jobs.needs_worker():
        return passed("jobs run in-process; no scheduler needed")
    now = timezone.now()
    state = jobs.process_status("scheduler", now)
    if state["status"] == jobs.NEVER:
        return warned("no scheduler has run yet", START_SCHEDULER)
    if state["status"] == jobs.DOWN:
        return failed(
            f"no scheduler heartbeat for {state['seconds_since']} s: periodic jobs are not "
            "enqueued",
            START_SCHEDULER,
        )
    late = [row["name"] for row in jobs.job_rows(now) if row["status"] in ("late", "failing")]
    if late:
        return warned(
            f"scheduler alive, but late or failing: {', '.join(late)}",
            "See the admin's System health page and Failed jobs list, and the worker's log.",
        )
    return passed(f"{state['alive']} scheduler(s) alive; every periodic job on time")
