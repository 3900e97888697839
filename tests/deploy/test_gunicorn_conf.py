"""gunicorn.conf.py reads its settings from the environment; the Procfile runs it."""

import runpy

import pytest
from django.conf import settings

CONF = settings.BASE_DIR / "gunicorn.conf.py"
GUNICORN_VARS = (
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_WORKER_CLASS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER",
    "GUNICORN_PRELOAD",
    "GUNICORN_CONTROL_SOCKET",
    "FORWARDED_ALLOW_IPS",
    "LOG_FORMAT",
    "LOG_LEVEL",
)


def load_conf(monkeypatch, **environ):
    for name in GUNICORN_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENV_FILE", "/nonexistent/.env")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_defaults_bind_port_8000_with_threaded_workers_per_core_and_no_access_log(monkeypatch):
    conf = load_conf(monkeypatch, DEBUG="0")

    assert conf["bind"] == ["0.0.0.0:8000"]
    assert 2 <= conf["workers"] <= 12
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 4)
    assert conf["accesslog"] is None
    assert conf["errorlog"] == "-"
    assert conf["max_requests"] > 0 and 0 < conf["max_requests_jitter"] < conf["max_requests"]
    # A new worker loads the whole app: recycled rarely, and not all at once.
    assert conf["max_requests"] >= 10_000
    assert conf["max_requests_jitter"] >= conf["max_requests"] // 4
    # The app writes the access line; gunicorn builds none of its own.
    assert conf["logger_class"]._compute_access_log_enabled(None) is False
    assert conf["graceful_timeout"] > 0 and conf["timeout"] > 0 and conf["keepalive"] > 0
    assert conf["forwarded_allow_ips"] == "127.0.0.1"
    assert conf["control_socket_disable"] is True


def test_environment_sets_port_workers_threads_and_proxies(monkeypatch):
    conf = load_conf(
        monkeypatch,
        DEBUG="0",
        PORT="9123",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        FORWARDED_ALLOW_IPS="10.0.0.1,10.0.0.2",
        GUNICORN_MAX_REQUESTS="500",
        GUNICORN_MAX_REQUESTS_JITTER="50",
    )

    assert conf["bind"] == ["0.0.0.0:9123"]
    assert conf["workers"] == 3
    assert conf["threads"] == 4
    assert conf["worker_class"] == "gthread"
    assert conf["forwarded_allow_ips"] == "10.0.0.1,10.0.0.2"
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (500, 50)


def test_one_thread_gives_sync_workers(monkeypatch):
    conf = load_conf(monkeypatch, DEBUG="0", GUNICORN_THREADS="1")

    assert (conf["worker_class"], conf["threads"]) == ("sync", 1)


@pytest.mark.parametrize(
    ("log_format", "formatter_class"),
    [("json", "monitoring.logging.JsonFormatter"), ("console", None)],
)
def test_gunicorn_logs_to_stdout_in_the_apps_format(monkeypatch, log_format, formatter_class):
    conf = load_conf(monkeypatch, DEBUG="0", LOG_FORMAT=log_format)
    logging_config = conf["logconfig_dict"]

    handler = logging_config["handlers"]["stdout"]
    assert handler["stream"] == "ext://sys.stdout"
    formatter = logging_config["formatters"][handler["formatter"]]
    assert formatter.get("()") == formatter_class
    # The same formatters as the app's own log lines.
    assert formatter == settings.LOGGING["formatters"][log_format]
    assert logging_config["loggers"]["gunicorn.error"]["propagate"] is True


def test_procfile_runs_gunicorn_with_the_config_and_migrates_and_checks_on_release():
    lines = dict(
        line.split(": ", 1)
        for line in (settings.BASE_DIR / "Procfile").read_text().splitlines()
        if line.strip()
    )

    assert lines["web"] == "gunicorn vevurn.wsgi -c gunicorn.conf.py"
    assert lines["release"] == (
        "python manage.py migrate --noinput && python manage.py check_deployment --fail-under 70"
    )


def test_a_worker_freezes_the_loaded_app_out_of_the_garbage_collectors_sight(monkeypatch):
    import gc
    from types import SimpleNamespace

    from monitoring import draining

    sockets = []
    monkeypatch.setattr(draining, "install_sigterm_handler", sockets.append)
    conf = load_conf(monkeypatch, DEBUG="0")
    worker = SimpleNamespace(sockets=["listening"])
    try:
        conf["post_worker_init"](worker)
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()

    assert sockets == [["listening"]]  # the drain on SIGTERM, as before
    assert frozen > 10_000  # Django and the app, loaded: never walked by a full collection
