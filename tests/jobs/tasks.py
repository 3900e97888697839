"""A periodic job with a short period, discovered only by the scheduler processes of
tests/jobs/test_processes.py (they install tests.jobs; the test process does not)."""

from django_tasks import task

from jobs.schedule import every, periodic


@periodic(every(seconds=1))
@task()
def every_second() -> None:
    pass
