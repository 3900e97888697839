"""Benchmark 7: a background worker's resident memory over 10,000 jobs (it must level off).

    python -m bench worker [--quick]

10,000 jobs (bench/jobs.py: the shop settings, a product by pk, a small result) are put in the
database queue, then one `manage.py run_worker` process (production settings, PostgreSQL, Redis)
runs them. Its RSS is read at checkpoints as the finished count passes them; growth over the
second half is the figure to watch: bounded means about zero. Jobs per second are the worker's
pace on this machine (the jobs are cheap; the figure is the queue's overhead per job).
"""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from bench.common import (
    BASE_DIR,
    Figure,
    app_environ,
    ensure_database,
    print_header,
    print_table,
)

TASK = "bench.jobs.look_up"


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    total = 2_000 if quick else 10_000
    checkpoints = [total // 100, total // 10, total // 2, total]
    parameters = {"jobs": f"{total:,} of {TASK}, one worker"}
    print_header("worker", parameters)
    ensure_database()

    import django

    django.setup()
    from django.db import transaction
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from bench.jobs import look_up

    DBTaskResult.objects.filter(task_path=TASK).delete()
    with transaction.atomic():  # one commit for the lot: the enqueueing is not what is measured
        for n in range(total):
            look_up.enqueue(n)
    done = DBTaskResult.objects.filter(task_path=TASK, status=TaskResultStatus.SUCCESSFUL)

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.05", "--no-startup-delay"],
        cwd=BASE_DIR,
        env=app_environ(DJANGO_SETTINGS_MODULE="bench.settings"),
    )
    process = psutil.Process(worker.pid)
    rss: dict[int, float] = {}
    started = time.monotonic()
    try:
        while len(rss) < len(checkpoints):
            if worker.poll() is not None:
                sys.exit("the worker stopped before running every job")
            finished = done.count()
            megabytes = round(process.memory_info().rss / 2**20, 1)
            for checkpoint in checkpoints:
                if finished >= checkpoint and checkpoint not in rss:
                    rss[checkpoint] = megabytes
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    failed = DBTaskResult.objects.filter(task_path=TASK, status=TaskResultStatus.FAILED).count()
    half, end = rss[checkpoints[-2]], rss[checkpoints[-1]]
    print_table(
        [*(f"RSS after {c:,} jobs MB" for c in checkpoints), "second half +MB", "jobs/s", "failed"],
        [[*(rss[c] for c in checkpoints), round(end - half, 1), round(total / elapsed), failed]],
    )
    figures = [
        Figure("worker", f"RSS after {total:,} jobs MB", end, "MB"),
        Figure("worker", "growth over the second half MB", round(end - half, 1), "MB", "info"),
        Figure("worker", "jobs/s", round(total / elapsed, 1), "jobs/s", "higher"),
    ]
    return figures, parameters
