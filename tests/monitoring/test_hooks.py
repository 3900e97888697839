import json
import sys
import threading

from monitoring import hooks
from tests.test_settings import PRODUCTION, run


def fake_exc_info():
    try:
        raise LookupError("no such register")
    except LookupError:
        return sys.exc_info()


def test_excepthook_logs_the_uncaught_exception_with_its_stack(caplog):
    hooks.log_uncaught_exception(*fake_exc_info())

    (record,) = [r for r in caplog.records if r.name == "vevurn.unhandled"]
    assert record.levelname == "ERROR"
    assert record.getMessage() == "Unhandled LookupError: no such register"
    assert record.exc_info[0] is LookupError


def test_thread_hook_names_the_thread(caplog):
    exc_type, exc_value, exc_traceback = fake_exc_info()
    thread = threading.Thread(name="receipt-printer")
    args = threading.ExceptHookArgs([exc_type, exc_value, exc_traceback, thread])

    hooks.log_thread_exception(args)

    (record,) = [r for r in caplog.records if r.name == "vevurn.unhandled"]
    assert "receipt-printer" in record.getMessage()
    assert record.exc_info[1] is exc_value


def test_install_sets_both_hooks_once(monkeypatch):
    monkeypatch.setattr(hooks, "_installed", False)
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)

    hooks.install()
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    hooks.install()  # a second call (ready() twice) changes nothing

    assert threading.excepthook is hooks.log_thread_exception
    assert sys.excepthook is sys.__excepthook__


def test_app_ready_installed_the_hook():
    assert hooks._installed


def test_a_crashing_script_is_logged_as_one_json_line():
    code = "import django; django.setup(); raise LookupError('no such register')"
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "vevurn.settings", **PRODUCTION})

    assert result.returncode == 1
    (line,) = [json.loads(text) for text in result.stderr.splitlines()]
    assert line["logger"] == "vevurn.unhandled"
    assert line["level"] == "ERROR"
    assert "LookupError: no such register" in line["exception"]
