"""SIGTERM drains a real gunicorn: in-flight requests finish and commit, new connections are
refused at once (a balancer tries another instance), a reload keeps listening."""

import http.client
import json
import signal
import socket
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


def test_a_second_sigterm_after_the_sockets_are_closed_only_chains():
    """A stopping worker gets SIGTERM from its process group's kill and again from its master;
    by then gunicorn may have closed its listeners (their wrapper then holds None)."""

    class ClosedListener:  # gunicorn's socket wrapper after close()
        def fileno(self):
            raise AttributeError("'NoneType' object has no attribute 'fileno'")

    calls = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        draining.install_sigterm_handler([ClosedListener()])
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)
        assert draining.is_draining()
        assert calls == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
        draining.reset()


def refused_at_once(port: int) -> bool:
    """Whether a new connection to the port is refused (True) or accepted by the kernel."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigterm_refuses_new_connections_and_lets_the_in_flight_request_commit(tmp_path):
    port = servers.spare_port()
    started_dir = tmp_path / "started"
    started_dir.mkdir()
    gunicorn = servers.start_gunicorn(
        port,
        log_path=tmp_path / "gunicorn.log",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
        GUNICORN_GRACEFUL_TIMEOUT="60",
        DEPLOY_TEST_STARTED_DIR=str(started_dir),
    )
    slow_answer = {}
    try:
        servers.wait_until_serving(port, gunicorn)
        # A connection the load balancer keeps open to the readiness probe.
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status, body = servers.get_json(probe, "/api/health/ready")
        assert status == 200 and body["status"] in ("ok", "degraded"), body
        assert not refused_at_once(port)

        def slow_request():
            slow_answer["status"], slow_answer["body"] = servers.get(
                port, "/deploy-test/slow-write/?name=sale-in-flight&hold=1", timeout=60
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

        # A new connection (a probe, the next request from nginx) is refused while the sale is
        # still in flight: the balancer tries another instance instead of waiting on this one.
        deadline = time.monotonic() + 20
        while not refused_at_once(port):
            assert time.monotonic() < deadline, "new connections were still accepted"
            time.sleep(0.05)
        assert client.is_alive() and slow_answer == {}

        (started_dir / "sale-in-flight.release").touch()
        client.join(timeout=30)
        assert slow_answer["status"] == 200
        gunicorn.wait(timeout=30)
        assert gunicorn.returncode == 0
    finally:
        (started_dir / "sale-in-flight.release").touch()
        servers.stop(gunicorn)

    assert AuditLog.objects.filter(
        action="deploy_test.slow_write", details__name="sale-in-flight"
    ).exists()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_reload_keeps_listening_while_the_old_workers_drain(tmp_path):
    """SIGHUP replaces the workers; the old ones let go of their copy only, never the socket."""
    port = servers.spare_port()
    started_dir = tmp_path / "started"
    started_dir.mkdir()
    gunicorn = servers.start_gunicorn(
        port,
        log_path=tmp_path / "gunicorn.log",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
        DEPLOY_TEST_STARTED_DIR=str(started_dir),
    )
    try:
        servers.wait_until_serving(port, gunicorn)
        status, body = servers.get(port, "/deploy-test/whoami/")
        old_pid = json.loads(body)["pid"]

        gunicorn.send_signal(signal.SIGHUP)

        deadline = time.monotonic() + 30
        while True:
            status, body = servers.get(port, "/deploy-test/whoami/")
            assert status == 200
            if json.loads(body)["pid"] != old_pid:
                break
            assert time.monotonic() < deadline, "no new worker answered after the reload"
            time.sleep(0.1)
        # The old worker has gone (it let go of its copy on SIGTERM); the socket still listens.
        assert not refused_at_once(port)
        assert servers.get(port, "/api/health/live")[0] == 200
    finally:
        servers.stop(gunicorn)


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
