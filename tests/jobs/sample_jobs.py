"""Jobs that only the tests use (the worker imports them by name from the job rows)."""

import os
import time
from pathlib import Path

from django.db import transaction
from django_tasks import task

from jobs.schedule import retries
from pos.models import Category


@retries(3)
@task()
def write_two_rows(marker: str, folder: str) -> None:
    """Writes two rows in one transaction, and between them waits (up to a minute) for the test
    to create `folder`/go, after telling it `folder`/started: the test kills the worker there."""
    with transaction.atomic():
        Category.objects.create(name=f"{marker} 1")
        Path(folder, "started").touch()
        deadline = time.monotonic() + 60
        while not Path(folder, "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        Category.objects.create(name=f"{marker} 2")


@retries(3)
@task()
def fail_until(folder: str, succeed_on: int) -> int:
    """Fails until its `succeed_on`-th attempt (attempts counted in a file); returns the count."""
    counter = Path(folder, "attempts")
    attempts = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempts))
    if attempts < succeed_on:
        raise RuntimeError(f"attempt {attempts} fails")
    return attempts


@task()
def always_fails() -> None:
    raise ValueError(f"this job always fails (pid {os.getpid()})")
