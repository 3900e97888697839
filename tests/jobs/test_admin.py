"""The admin's list of failed jobs: error, attempts, and the Retry action."""

from django.urls import reverse
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.conftest import PASSWORD

LIST = reverse("admin:jobs_failedjob_changelist")


def failed_row(**fields) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.FAILED,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="pos.tasks.poll_mobile_money",
        backend_name="default",
        worker_ids=["w1", "w2", "w3"],
        exception_class_path="builtins.RuntimeError",
        traceback='Traceback (most recent call last):\n  File "x"\nRuntimeError: MTN unreachable',
        **fields,
    )


def test_failed_jobs_are_listed_with_their_error_and_attempts_and_can_be_retried(
    client, admin_user
):
    row = failed_row()
    DBTaskResult.objects.create(  # a job that succeeded is not listed
        status=TaskResultStatus.SUCCESSFUL,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="pos.tasks.send_nothing",
        backend_name="default",
    )
    client.login(username=admin_user.username, password=PASSWORD)

    page = client.get(LIST)

    assert page.status_code == 200
    text = page.content.decode()
    assert "RuntimeError: MTN unreachable" in text
    assert "pos.tasks.poll_mobile_money" in text
    assert "pos.tasks.send_nothing" not in text
    assert '<td class="field-attempts">3</td>' in text

    done = client.post(LIST, {"action": "retry", "_selected_action": [str(row.pk)]}, follow=True)

    assert "1 job queued again." in done.content.decode()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.READY
    assert "MTN unreachable" not in client.get(LIST).content.decode()


def test_a_manager_cannot_retry_jobs(client, manager):
    row = failed_row()
    client.login(username=manager.username, password=PASSWORD)
    response = client.post(LIST, {"action": "retry", "_selected_action": [str(row.pk)]})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
