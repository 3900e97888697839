"""Settings for the worker and scheduler processes started by tests/jobs/test_processes.py: the
test settings with the database queue, short heartbeats and the tests' own jobs."""

import os

from tests.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
JOBS_HEARTBEAT_SECONDS = int(os.environ.get("JOBS_HEARTBEAT_SECONDS", "1"))
INSTALLED_APPS = [*INSTALLED_APPS, "tests.jobs.apps.JobsTestsConfig"]  # noqa: F405
