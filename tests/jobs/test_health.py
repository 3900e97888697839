"""The jobs on the health pages, in the metrics export, in the alerts and in check_deployment:
a worker is down when its heartbeat is older than three intervals."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import Heartbeat, JobRecord
from monitoring import alerts
from monitoring.alert_rules import check_jobs_down, check_jobs_failing
from monitoring.deployment.base import REGISTRY
from monitoring.deployment.runner import all_checks
from monitoring.tasks import evaluate_alerts


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def beat(kind: str, seconds_ago: float, name: str | None = None) -> None:
    Heartbeat.objects.create(
        process_id=name or f"{kind}-{seconds_ago}",
        kind=kind,
        host="till-server",
        pid=42,
        last_seen=timezone.now() - timedelta(seconds=seconds_ago),
    )


def enqueue_rows(status: str, count: int) -> None:
    for _ in range(count):
        DBTaskResult.objects.create(
            status=status,
            args_kwargs={"args": [], "kwargs": {}},
            task_path="pos.tasks.poll_mobile_money",
            backend_name="default",
        )


def finding(check_id: str):
    all_checks()
    return REGISTRY[check_id].result()


def test_with_jobs_run_in_process_no_worker_is_expected(staff):
    body = staff.get("/api/health/detailed").json()
    assert body["checks"]["worker"]["status"] == "ok"
    assert body["checks"]["worker"]["detail"]["mode"].startswith("immediate")
    assert check_jobs_down({}) == {}


def test_detailed_health_shows_the_worker_the_queue_and_each_schedule(staff, database_queue):
    beat("worker", 2)
    beat("scheduler", 1)
    enqueue_rows(TaskResultStatus.READY, 3)
    enqueue_rows(TaskResultStatus.FAILED, 1)
    JobRecord.objects.create(
        job="pos.tasks.poll_mobile_money",
        last_started_at=timezone.now(),
        last_success_at=timezone.now(),
        last_status="successful",
    )

    body = staff.get("/api/health/detailed").json()

    worker = body["checks"]["worker"]
    assert worker["status"] == "ok"
    assert worker["detail"]["alive"] == 1
    assert worker["detail"]["queue"]["queued"] == 3
    assert worker["detail"]["queue"]["failed"] == 1
    schedule = {row["name"]: row for row in body["checks"]["scheduler"]["detail"]["schedule"]}
    assert schedule["pos.tasks.poll_mobile_money"]["status"] == "ok"
    assert schedule["pos.tasks.poll_mobile_money"]["schedule"] == "every 5 s"
    assert schedule["pos.tasks.poll_mobile_money"]["last_success"]
    assert schedule["monitoring.tasks.evaluate_alerts"]["status"] == "never_seen"
    assert body["status"] == "healthy"


def test_a_heartbeat_older_than_three_intervals_is_a_worker_down(staff, database_queue):
    database_queue.JOBS_HEARTBEAT_SECONDS = 10
    beat("worker", 29)
    beat("scheduler", 31)

    checks = staff.get("/api/health/detailed").json()["checks"]

    assert checks["worker"]["status"] == "ok"
    assert checks["scheduler"]["status"] == "failed"
    assert checks["scheduler"]["detail"]["message"] == "scheduler down: last heartbeat 31 s ago"
    assert set(check_jobs_down({})) == {"scheduler"}
    Heartbeat.objects.filter(kind="worker").update(last_seen=timezone.now() - timedelta(seconds=31))
    assert set(check_jobs_down({})) == {"worker", "scheduler"}
    assert "No worker heartbeat for 31 s" in check_jobs_down({})["worker"]


def test_the_worker_down_alert_fires_once_and_resolves_when_a_worker_beats_again(
    db, database_queue, mailoutbox
):
    database_queue.ALERT_EMAILS = ["owner@myshop.rw"]
    beat("worker", 600, name="old-worker")
    beat("scheduler", 1)
    evaluate_alerts.call()  # what the worker runs each minute
    subjects = [m.subject for m in mailoutbox]
    assert subjects == ["[My shop] FIRING: Background worker or scheduler down"]

    Heartbeat.objects.filter(process_id="old-worker").update(last_seen=timezone.now())
    alerts.evaluate(force=True)  # the next minute's evaluation
    assert [m.subject for m in mailoutbox][-1] == (
        "[My shop] RESOLVED: Background worker or scheduler down"
    )


def test_a_failing_or_late_periodic_job_is_an_alert(db, database_queue):
    database_queue.JOBS_HEARTBEAT_SECONDS = 10
    JobRecord.objects.create(
        job="monitoring.tasks.evaluate_alerts",
        last_started_at=timezone.now() - timedelta(minutes=5),
        last_status="successful",
    )
    JobRecord.objects.create(
        job="pos.tasks.poll_mobile_money",
        last_started_at=timezone.now(),
        last_status="failed",
        last_error="RuntimeError: MTN unreachable",
    )
    found = check_jobs_failing({})
    assert found["pos.tasks.poll_mobile_money"].endswith("RuntimeError: MTN unreachable")
    assert "has not run since" in found["monitoring.tasks.evaluate_alerts"]


def test_metrics_export_has_the_queue_depth_and_the_failed_jobs(staff, database_queue):
    beat("worker", 1)
    enqueue_rows(TaskResultStatus.READY, 2)
    enqueue_rows(TaskResultStatus.FAILED, 3)

    text = staff.get("/api/monitoring/metrics").content.decode()

    assert "vevurn_jobs_queued 2.0" in text
    assert "vevurn_jobs_failed 3.0" in text
    assert 'vevurn_job_processes_alive{kind="worker"} 1.0' in text
    assert 'vevurn_job_processes_alive{kind="scheduler"} 0.0' in text


def test_check_deployment_says_whether_a_worker_and_the_schedule_run(db, database_queue):
    database_queue.JOBS_HEARTBEAT_SECONDS = 10
    assert finding("jobs.worker").status == "warn"  # none has run yet
    assert finding("jobs.schedule").status == "warn"
    beat("worker", 60, name="w")
    beat("scheduler", 60, name="s")
    assert finding("jobs.worker").status == "fail"
    assert "no worker heartbeat for 60 s" in finding("jobs.worker").detail
    assert finding("jobs.schedule").status == "fail"
    Heartbeat.objects.update(last_seen=timezone.now())
    assert finding("jobs.worker").status == "pass"
    assert finding("jobs.schedule").status == "pass"


def test_check_deployment_command_lists_the_job_checks(db, database_queue):
    beat("worker", 1)
    beat("scheduler", 1)
    out = StringIO()
    call_command("check_deployment", "--format", "json", stdout=out)
    out = out.getvalue()
    assert '"jobs.worker"' in out
    assert '"jobs.schedule"' in out


def test_the_system_health_page_shows_the_background_jobs(staff, database_queue):
    beat("worker", 1)
    beat("scheduler", 1)
    enqueue_rows(TaskResultStatus.FAILED, 1)
    page = staff.get(reverse("admin:health")).content.decode()
    assert "Background jobs" in page
    assert "pos.tasks.poll_mobile_money" in page
    assert "every 5 s" in page
    assert "See the failed jobs" in page


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["Jamais exécutée", "À l’heure", "toutes les 5 s", "En panne"]),
        ("rw", ["Ntirakorwa na rimwe", "Ku gihe", "buri masegonda 5", "Yahagaze"]),
    ],
)
def test_the_health_page_names_job_states_in_the_users_language(
    staff, admin_user, database_queue, language, words
):
    """The background jobs' section: each periodic job's state and schedule, and the worker's
    and scheduler's state, in French and Kinyarwanda (the JSON report keeps its codes)."""
    database_queue.JOBS_HEARTBEAT_SECONDS = 10
    beat("worker", 2)
    beat("scheduler", 31)
    JobRecord.objects.create(
        job="pos.tasks.poll_mobile_money",
        last_started_at=timezone.now(),
        last_success_at=timezone.now(),
        last_status="successful",
    )
    admin_user.preferred_language = language
    admin_user.save(update_fields=["preferred_language"])

    page = staff.get(reverse("admin:health")).content.decode()

    for word in words:
        assert word in page, word
    for english in ("never_seen", "every 5 s", "daily at", ">down<", "scheduler down", "Never run"):
        assert english not in page, english
    schedule = staff.get("/api/health/detailed").json()["checks"]["scheduler"]["detail"]
    assert schedule["status"] == "down"
    assert {row["status"] for row in schedule["schedule"]} >= {"ok", "never_seen"}
