"""Real worker and scheduler processes on PostgreSQL: a pending Mobile Money request settles
with no web request, two schedulers enqueue once per period, and a killed worker's job runs
again with nothing half-written."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import Heartbeat, ScheduledRun
from pos.models import Category, MobileMoneyRequest
from pos.services import mobile_money
from tests.jobs import sample_jobs
from tests.jobs.conftest import DATABASE_QUEUE

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),  # the processes must see the test's rows
]

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER'] or ''}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def start(command: str, *args: str, **env) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.jobs.process_settings",
        "DEBUG": "1",
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": database_url(),
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "JOBS_HEARTBEAT_SECONDS": "1",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", command, *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    return out


def wait_for(condition, *, seconds: float = 30, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_pending_mobile_money_request_settles_with_no_web_request(
    shift, cashier, momo_simulator, processes
):
    momo_simulator.on_payer("250788123456", outcome="SUCCESSFUL", pending_polls=1)
    momo_request = mobile_money.start_request(
        shift=shift, amount="12000", phone="0788 123 456", user=cashier
    )
    assert momo_request.status == "pending"

    momo_env = {
        "MOMO_BASE_URL": momo_simulator.base_url,
        "MOMO_SUBSCRIPTION_KEY": momo_simulator.subscription_key,
        "MOMO_API_USER": momo_simulator.api_user,
        "MOMO_API_KEY": momo_simulator.api_key,
        "MOMO_TARGET_ENVIRONMENT": momo_simulator.target_environment,
        "MOMO_CALLBACK_URL": "",
    }
    processes.append(start("run_scheduler", "--tick", "0.2", **momo_env))
    processes.append(start("run_worker", "--interval", "0.2", **momo_env))

    def settled():
        return MobileMoneyRequest.objects.get(pk=momo_request.pk).status != "pending"

    wait_for(settled, seconds=60, what="the worker to settle the request")
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert momo_request.financial_transaction_id
    assert len(momo_simulator.received_for("status")) == 2  # pending, then successful
    assert Heartbeat.objects.filter(kind="worker").exists()
    assert Heartbeat.objects.filter(kind="scheduler").exists()


def test_two_schedulers_started_at_once_enqueue_each_periodic_job_once_per_period(processes):
    processes += [start("run_scheduler", "--tick", "0.05") for _ in range(2)]
    every_second = "tests.jobs.tasks.every_second"
    wait_for(
        lambda: ScheduledRun.objects.filter(job=every_second).count() >= 4,
        what="four periods of the every-second job",
    )
    for process in processes:
        stop(process)

    periods = list(ScheduledRun.objects.filter(job=every_second).values_list("period", flat=True))
    jobs = DBTaskResult.objects.filter(task_path=every_second)
    assert jobs.count() == len(periods) == len(set(periods))
    polls = DBTaskResult.objects.filter(task_path="pos.tasks.poll_mobile_money").count()
    assert polls == ScheduledRun.objects.filter(job="pos.tasks.poll_mobile_money").count()
    # Both were running and looking the whole time.
    assert Heartbeat.objects.filter(kind="scheduler").count() == 2


def test_killing_the_worker_mid_job_leaves_nothing_half_written_and_the_job_runs_again(
    settings, tmp_path, processes
):
    settings.TASKS = DATABASE_QUEUE
    result = sample_jobs.write_two_rows.enqueue("Killed", str(tmp_path))

    first = start("run_worker", "--interval", "0.1")
    processes.append(first)
    wait_for(lambda: (tmp_path / "started").exists(), what="the job to write its first row")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.RUNNING  # as the dead worker left it
    assert not Category.objects.filter(name__startswith="Killed").exists()

    (tmp_path / "go").touch()
    processes.append(start("run_worker", "--interval", "0.1"))
    wait_for(
        lambda: DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL,
        what="another worker to run the job again",
    )
    row = DBTaskResult.objects.get(pk=result.id)
    assert len(row.worker_ids) == 2
    assert sorted(
        Category.objects.filter(name__startswith="Killed").values_list("name", flat=True)
    ) == [
        "Killed 1",
        "Killed 2",
    ]
