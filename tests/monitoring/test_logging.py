import io
import json
import logging
import sys
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.conf import settings

from monitoring import request_context
from monitoring.logging import (
    JSON_FIELDS,
    BufferedStreamHandler,
    RequestContextFilter,
    log_access,
)
from tests.monitoring.conftest import Capture, configured_json_formatter
from tests.test_settings import PRODUCTION, run

pytestmark = [pytest.mark.urls("tests.monitoring.urls")]


@pytest.mark.django_db
def test_every_line_written_during_a_request_carries_its_request_id(client, cashier, captured_logs):
    client.force_login(cashier)
    logging.getLogger("tests.monitoring").info("before the request")

    response = client.get("/test/items/17/log/")
    logging.getLogger("tests.monitoring").info("after the request")

    request_id = response["X-Request-ID"]
    during = [r for r in captured_logs.records if "request" not in r.getMessage()]
    messages = [r.getMessage() for r in during]
    assert "looking up item 17" in messages
    assert "item 17 is low on stock" in messages
    assert any(r.name == "vevurn.access" for r in during)
    for record in during:
        assert record.request_id == request_id, record.getMessage()
        assert record.user == cashier.pk
        assert record.method == "GET"
        assert record.route == "/test/items/<int:pk>/log/"
        assert record.client_ip == "127.0.0.1"
    outside = [r for r in captured_logs.records if "request" in r.getMessage()]
    assert [r.request_id for r in outside] == [None, None]


@pytest.mark.django_db
def test_access_line_names_the_route_not_the_raw_url(client, captured_logs):
    response = client.get("/test/items/17/log/?page=2")

    (line,) = captured_logs.named("vevurn.access")
    assert line.levelno == logging.INFO
    assert line.getMessage() == "GET /test/items/<int:pk>/log/ 200"
    assert line.status == 200
    assert isinstance(line.duration, float) and line.duration >= 0
    assert line.request_id == response["X-Request-ID"]
    assert "17" not in line.getMessage() and "page" not in line.getMessage()


@pytest.mark.django_db
def test_json_lines_parse_with_every_field(client, json_lines):
    response = client.get("/test/items/5/log/")

    lines = json_lines()
    assert len(lines) == 3  # two from the view, one access line
    for line in lines:
        assert set(line) >= {
            "time",
            "level",
            "logger",
            "message",
            "request_id",
            "user",
            "route",
            "status",
            "duration",
            "exception",
        }
        assert line["request_id"] == response["X-Request-ID"]
        assert line["route"] == "/test/items/<int:pk>/log/"
    access = lines[-1]
    assert access["logger"] == "vevurn.access"
    assert access["level"] == "INFO"
    assert access["status"] == 200
    assert access["message"] == "GET /test/items/<int:pk>/log/ 200"
    assert access["time"].startswith("20")  # ISO 8601, UTC
    assert lines[0]["status"] is None and lines[0]["exception"] is None


def test_json_line_carries_the_stack_trace():
    record = logging.LogRecord("vevurn.errors", logging.ERROR, __file__, 1, "boom", (), None)
    try:
        raise ValueError("bad drawer")
    except ValueError:
        record.exc_info = sys.exc_info()
    RequestContextFilter().filter(record)

    line = json.loads(configured_json_formatter().format(record))

    assert line["level"] == "ERROR"
    assert line["message"] == "boom"
    assert "Traceback" in line["exception"] and "ValueError: bad drawer" in line["exception"]
    assert line["request_id"] is None  # outside a request


def test_configured_handlers_attach_the_request_context():
    root = logging.getLogger()
    console = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    assert console, "settings.LOGGING must give the root logger a stream handler"
    assert any(isinstance(f, RequestContextFilter) for h in console for f in h.filters)
    # Django's own loggers reach the root handlers instead of printing on their own.
    assert logging.getLogger("django").propagate
    assert logging.getLogger("django").handlers == []


def emit_one_line(env: dict) -> str:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('vevurn.check').warning('drawer %s open', 3)"
    )
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "vevurn.settings", **env})
    assert result.returncode == 0, result.stderr
    return result.stderr.strip()


def test_production_writes_json_lines_and_development_console_lines():
    production = emit_one_line(PRODUCTION)
    development = emit_one_line({"DEBUG": "1"})
    forced = emit_one_line({"DEBUG": "1", "LOG_FORMAT": "json", "LOG_LEVEL": "warning"})
    quiet = emit_one_line({**PRODUCTION, "LOG_LEVEL": "ERROR"})

    line = json.loads(production)
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "vevurn.check",
        "drawer 3 open",
    )
    assert line["request_id"] is None
    assert "WARNING" in development and "vevurn.check: drawer 3 open" in development
    assert not development.startswith("{")
    assert json.loads(forced)["message"] == "drawer 3 open"
    assert quiet == ""


def test_procfile_keeps_gunicorn_access_log_off():
    procfile = (settings.BASE_DIR / "Procfile").read_text()
    assert "--access-logfile" not in procfile
    assert "access-log" not in procfile


def python_json_logger_line(record: logging.LogRecord) -> dict:
    """The line python-json-logger wrote for this record with the configuration used before
    the JSON formatter became our own (issue 30): the reference for what the lines hold."""
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(
        fmt=list(JSON_FIELDS),
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
        rename_fields_keep_missing=True,
        timestamp="time",
    )
    return json.loads(formatter.format(record))


@pytest.mark.parametrize(
    "case", ["access line", "extra values", "exception", "dict message", "outside a request"]
)
def test_json_lines_hold_what_python_json_logger_wrote(case):
    class Drawer:
        def __str__(self):
            return "drawer 3"

    args, extra, exc_info, message = ("GET", "/x/", 200), {}, None, "%s %s %s"
    if case == "access line":
        extra = {"status": 200, "duration": 1.5}
    elif case == "extra values":
        extra = {"sale": 12, "amount": Decimal("1180.00"), "when": date(2026, 12, 4), "d": Drawer()}
    elif case == "exception":
        try:
            raise ValueError("bad drawer")
        except ValueError:
            exc_info = sys.exc_info()
    elif case == "dict message":
        args, message = (), {"event": "drawer_opened", "drawer": 3}
    token = None
    if case != "outside a request":
        token = request_context.bind(
            request_id="a" * 32, method="GET", client_ip="127.0.0.1", route="/x/", user=7
        )
    try:
        record = logging.getLogger("vevurn.test").makeRecord(
            "vevurn.test", logging.INFO, __file__, 1, message, args, exc_info, extra=extra
        )
        RequestContextFilter().filter(record)
    finally:
        if token is not None:
            request_context.reset(token)

    ours = json.loads(configured_json_formatter().format(record))

    assert ours == python_json_logger_line(record)


@pytest.fixture
def production_access_log(monkeypatch):
    """The access lines on a logger of their own whose one handler is the production one (the
    buffered JSON handler with the request context filter) over a stream the test reads.

    Yields the logger and `lines()`. While a test runs, pytest's log capture adds its handler to
    the root logger and to every logger that does not propagate: `lines(alone=True)`, called
    first, takes it off again so that the production handler is the only one listening."""
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, interval=3600)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(configured_json_formatter())
    logger = logging.getLogger("tests.monitoring.access")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.handlers = [handler]
    monkeypatch.setattr("monitoring.middleware.access_logger", logger)

    def lines(*, alone: bool = False):
        if alone:
            logger.handlers = [handler]
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, lines
    logger.handlers = []
    handler.close()


def test_the_access_line_is_the_json_formatters_line_for_its_record(production_access_log):
    logger, lines = production_access_log
    lines(alone=True)
    token = request_context.bind(
        request_id="b" * 32, method="POST", client_ip="10.0.0.7", route="/x/<int:pk>/", user=7
    )
    try:
        log_access(logger, "POST", "/x/<int:pk>/", 201, 12.5)
        record = logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            1,
            "%s %s %s",
            ("POST", "/x/<int:pk>/", 201),
            None,
            extra={"status": 201, "duration": 12.5},
        )
        RequestContextFilter().filter(record)
    finally:
        request_context.reset(token)
    formatted = json.loads(configured_json_formatter().format(record))

    (written,) = lines()

    assert list(written) == list(formatted)  # the same fields in the same order
    assert {k: v for k, v in written.items() if k != "time"} == {
        k: v for k, v in formatted.items() if k != "time"
    }
    seconds = datetime.fromisoformat(written["time"]) - datetime.fromisoformat(formatted["time"])
    assert abs(seconds.total_seconds()) < 5


@pytest.mark.django_db
def test_a_requests_access_line_takes_no_log_record_where_only_production_logging_listens(
    client, production_access_log, monkeypatch
):
    logger, lines = production_access_log
    lines(alone=True)
    made = []
    make_record = logger.makeRecord
    monkeypatch.setattr(
        logger, "makeRecord", lambda *args, **kw: made.append(1) or make_record(*args, **kw)
    )

    response = client.get("/test/items/5/log/?page=2")

    (line,) = lines()
    assert line["message"] == "GET /test/items/<int:pk>/log/ 200"
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["route"], line["method"], line["client_ip"]) == (
        "/test/items/<int:pk>/log/",
        "GET",
        "127.0.0.1",
    )
    assert line["status"] == 200 and line["duration"] >= 0
    assert made == []


@pytest.mark.django_db
def test_any_other_handler_beside_it_still_gets_the_access_record(client, production_access_log):
    logger, lines = production_access_log
    lines(alone=True)
    other = Capture()
    logger.addHandler(other)

    response = client.get("/test/items/5/log/")

    (record,) = other.records
    (line,) = lines()
    assert record.request_id == line["request_id"] == response["X-Request-ID"]
    assert record.getMessage() == line["message"] == "GET /test/items/<int:pk>/log/ 200"
