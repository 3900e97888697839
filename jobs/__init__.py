"""Background jobs: Django's tasks API (the `django-tasks` backport on Django 5.2; `django.tasks`
from Django 6, an import change), a database queue (`django-tasks-db`), a worker with heartbeats,
retries and recovery, and a declared schedule that one or many schedulers enqueue exactly once
per period.

Rules this package owns:
- The job rows (django_tasks_db's DBTaskResult) are the source of truth: a job that is in the
  table runs, a job that is not does not. Nothing is kept in memory between runs.
- Every job is idempotent: running it twice changes nothing more than running it once, because
  a killed worker's job runs again (`worker.recover_orphans`) and a failed one is retried.
- A job never holds a row lock (or any transaction) while it calls out (Mobile Money, mail):
  services commit, then call, then write the answer in a new short transaction.
- A periodic job is enqueued under a unique (job, period) row (`ScheduledRun`), inserted in the
  same transaction as the job row, so two schedulers never enqueue it twice for one period.

This package knows nothing of the shop: the apps declare their jobs in their `tasks.py`
(pos/tasks.py, monitoring/tasks.py), which `JobsConfig.ready` imports.
"""
