"""SIGTERM drains a real gunicorn: in-flight requests finish and commit, nothing new starts."""

import http.client
import json
import signal
import threading
import time

import pytest
from django.http import JsonResponse

from accounts.models import AuditLog
from monitoring import draining
from tests.deploy import servers


def test_draining_flag_is_set_by_sigterm_and_chains_to_the_previous_handler():
    calls = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        draining.install_sigterm_handler()
        assert not draining.is_draining()

        signal.raise_signal(signal.SIGTERM)

        assert draining.is_draining()
        assert calls == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
        draining.reset()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigterm_lets_the_in_flight_request_commit_and_stops_taking_new_ones(tmp_path):
    port = servers.spare_port()
    started_dir = tmp_path / "started"
    started_dir.mkdir()
    gunicorn = servers.start_gunicorn(
        port,
        log_path=tmp_path / "gunicorn.log",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        DEPLOY_TEST_STARTED_DIR=str(started_dir),
    )
    slow_answer = {}
    try:
        servers.wait_until_serving(port, gunicorn)
        # A connection the load balancer keeps open to the readiness probe.
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status, body = servers.get_json(probe, "/api/health/ready")
        assert status == 200 and body["status"] in ("ok", "degraded"), body

        def slow_request():
            slow_answer["status"], slow_answer["body"] = servers.get(
                port, "/deploy-test/slow-write/?name=sale-in-flight", timeout=30
            )

        client = threading.Thread(target=slow_request)
        client.start()
        deadline = time.monotonic() + 20
        while not (started_dir / "sale-in-flight").exists():
            assert time.monotonic() < deadline, "the slow request never started"
            time.sleep(0.05)

        gunicorn.send_signal(signal.SIGTERM)

        # A request on the kept-alive connection is still answered during the drain: not ready.
        answers = []
        while True:
            try:
                answers.append(servers.get_json(probe, "/api/health/ready"))
            except (http.client.HTTPException, OSError):
                break
            if answers[-1][0] != 200:
                break
        assert answers and answers[-1] == (503, {"status": "draining"}), answers
        probe.close()

        client.join(timeout=30)
        assert slow_answer["status"] == 200
        gunicorn.wait(timeout=30)
        assert gunicorn.returncode == 0
        # Once the master is gone nothing listens on the port.
        with pytest.raises(OSError):
            servers.get(port, "/login/", timeout=2)
    finally:
        servers.stop(gunicorn)

    assert AuditLog.objects.filter(
        action="deploy_test.slow_write", details__name="sale-in-flight"
    ).exists()


def test_a_view_marked_unready_while_draining_answers_503_draining(rf):
    @draining.unready_while_draining
    def ready(request):
        return JsonResponse({"status": "ok"})

    assert ready(rf.get("/api/health/ready")).status_code == 200
    draining.start_draining()
    try:
        answer = ready(rf.get("/api/health/ready"))
    finally:
        draining.reset()

    assert answer.status_code == 503
    assert json.loads(answer.content) == {"status": "draining"}
