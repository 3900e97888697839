from django.apps import AppConfig


class JobsTestsConfig(AppConfig):
    """Installed only in the worker/scheduler processes the tests start, so that their
    tasks.py (a fast periodic job, a job that writes slowly) is discovered there."""

    name = "tests.jobs"
    label = "jobs_tests"
