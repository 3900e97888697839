"""Log records carry the request context; JSON lines in production, console lines in development.

`RequestContextFilter` is attached to the handlers in settings.LOGGING, so every record that
reaches a handler -- from our code, Django or a library -- gets request_id, user, route, method
and client_ip (None outside a request), plus status and duration (None except on access lines).

`JsonFormatter` writes one JSON object per record: the fields of JSON_FIELDS (levelname as
"level", name as "logger"), "time" (ISO 8601, UTC), "exception" (the formatted traceback, or
null), and any other attribute the call passed in `extra`. Every request writes one such line
(the access line), so it is built without per-record work beyond the record itself: the field
list is fixed, the encoder is orjson (the lines python-json-logger wrote with this configuration,
field for field: tests/monitoring/test_logging.py; at a fraction of its cost).

`BufferedStreamHandler` writes those lines without a system call per request: see its docstring.

`log_access` writes the access line itself: the same line, without a LogRecord where only the
production handler would take it (see its docstring).
"""

import logging
import os
import sys
import threading
import time
import traceback
import weakref
from collections import deque
from datetime import UTC, datetime

import orjson
import sentry_sdk
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import orjson_default

from monitoring import request_context

# Fields every JSON line has, in this order ("level" and "logger" for the first two).
JSON_FIELDS = (
    "levelname",
    "name",
    "message",
    "request_id",
    "user",
    "route",
    "method",
    "client_ip",
    "status",
    "duration",
)
# Set on access lines only; None on every other line.
_ACCESS_FIELDS = ("status", "duration")
_CONTEXT_FIELDS = request_context.FIELDS


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        values = record.__dict__
        context = request_context.raw()
        for field in _CONTEXT_FIELDS:
            if field not in values:
                values[field] = context.get(field)
        for field in _ACCESS_FIELDS:
            if field not in values:
                values[field] = None
        return True


# Record attributes that are not `extra` fields: the LogRecord's own, and the ones named above.
_NOT_EXTRA = frozenset(RESERVED_ATTRS) | set(JSON_FIELDS) | {"taskName"}
_OPTIONS = orjson.OPT_NON_STR_KEYS


class JsonFormatter(logging.Formatter):
    """One JSON line per record (see the module docstring); values orjson cannot encode go
    through python-json-logger's fallbacks (exceptions, tracebacks, enums, bytes, then str)."""

    def format(self, record: logging.LogRecord) -> str:
        values = record.__dict__
        fields = None
        if isinstance(record.msg, dict):  # logger.info({...}): its keys become fields
            fields, record.message = record.msg, ""
        else:
            record.message = record.getMessage()
        line = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.message,
        }
        for field in JSON_FIELDS[3:]:
            line[field] = values.get(field)
        exception = None
        if record.exc_info:
            exception = self.formatException(record.exc_info)
        elif record.exc_text:
            exception = record.exc_text
        if fields:
            line.update(fields)
            exception = fields.get("exc_info") or exception
            line.pop("exc_info", None)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        for key, value in values.items():
            if key not in _NOT_EXTRA:
                line[key] = value
        line["time"] = datetime.fromtimestamp(record.created, tz=UTC)
        line["exception"] = exception
        return _encode(line)


def _encode(line: dict) -> str:
    return orjson.dumps(line, default=orjson_default, option=_OPTIONS).decode()


def json_formatter_config() -> dict:
    """The settings.LOGGING formatter entry for JSON lines."""
    return {"()": "monitoring.logging.JsonFormatter"}


CONSOLE_FORMAT = "{asctime} {levelname:<7} [{request_id}] {name}: {message}"


class BufferedStreamHandler(logging.StreamHandler):
    """A StreamHandler that writes its lines in batches instead of one `write` per record.

    Every request writes an access line. Written at once, its `write` releases the GIL in the
    middle of the request, and in a gthread worker the other request threads take it: on a busy
    machine the writer then waits for it to come back, and a worker's threads stall each other
    (bench/README.md, "stack": 0.59 of bare Django's throughput with the line on, 0.93 with it
    off). Here each record is formatted when it is logged (its content is what it would have
    been) and kept in order in memory; the lines go out in one write

    - at once for a record of `flush_level` (WARNING) or above, with every line before it;
    - when `capacity` characters are waiting;
    - every `interval` seconds, from one thread of this process's own;
    - when the process exits (logging.shutdown flushes every handler; gunicorn's worker_exit
      hook calls flush_log_buffers() first) and before a fork (the parent's lines are written
      by the parent, never again by the child).

    A process killed outright (SIGKILL, a segfault) loses at most the last `interval` of INFO
    lines; anything of WARNING and above was written already.
    """

    def __init__(
        self,
        stream=None,
        *,
        capacity: int = 64 * 1024,
        interval: float = 0.1,
        flush_level: int | str = logging.WARNING,
    ):
        super().__init__(stream)
        self.capacity = capacity
        self.interval = interval
        self.flush_level = logging._checkLevel(flush_level)
        self._lines: list[str] = []
        self._size = 0
        # Batches taken from _lines, in order, not yet written (see flush()).
        self._batches: deque[list[str]] = deque()
        # One batch is written at a time; never held while waiting for self.lock.
        self._write_lock = threading.Lock()
        self._thread_pid = 0  # the process whose flush thread runs
        self._stop = threading.Event()
        _handlers.add(self)

    def handle(self, record: logging.LogRecord) -> bool:
        emitted = super().handle(record)  # filters, then emit() under self.lock
        if emitted and (
            record.levelno >= self.flush_level
            or self._size >= self.capacity
            or self._stop.is_set()  # closed (logging reconfigured): no thread, write at once
        ):
            self.flush()
        return emitted

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._hold(line)

    def emit_line(self, line: str, levelno: int) -> None:
        """Take a line already formatted as this handler's formatter would (log_access), with
        what handle() and emit() do for a record of that level."""
        with self.lock:
            self._hold(line + self.terminator)
        if levelno >= self.flush_level or self._size >= self.capacity or self._stop.is_set():
            self.flush()

    def _hold(self, line: str) -> None:  # under self.lock
        self._lines.append(line)
        self._size += len(line)
        if self._thread_pid != os.getpid() and not self._stop.is_set():
            self._start_flush_thread()

    def flush(self) -> None:
        # The lines are taken under self.lock and queued in that order, then written under
        # _write_lock by whichever flushing thread gets it first, in the queue's order. Never
        # wait for self.lock while holding _write_lock: logging.shutdown() (at exit) calls
        # flush() and close() with self.lock held, and the flush thread, holding _write_lock
        # and waiting for it, then hung the process's exit.
        with self.lock:
            if self._lines:
                self._batches.append(self._lines)
                self._lines, self._size = [], 0
        with self._write_lock:
            while self._batches:
                lines = self._batches.popleft()
                if self.stream is None:
                    continue
                try:
                    self.stream.write("".join(lines))
                    self.stream.flush()
                except Exception:  # as logging.Handler.handleError, without a record to name
                    if logging.raiseExceptions and sys.stderr is not None:
                        traceback.print_exc(file=sys.stderr)

    def close(self) -> None:
        self._stop.set()
        self.flush()
        super().close()

    def _start_flush_thread(self) -> None:
        self._thread_pid = os.getpid()
        threading.Thread(target=self._flush_every_interval, name="log-flush", daemon=True).start()

    def _flush_every_interval(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent wrote its lines before the fork; new locks, and a flush
        thread of the child's own at its first line."""
        self._write_lock = threading.Lock()
        self._lines, self._size = [], 0
        self._batches = deque()


_handlers: weakref.WeakSet[BufferedStreamHandler] = weakref.WeakSet()


def flush_log_buffers() -> None:
    """Write every line the buffered handlers of this process still hold."""
    for handler in list(_handlers):
        handler.flush()


def _after_fork_in_child() -> None:
    for handler in list(_handlers):
        handler._forget_after_fork()


os.register_at_fork(before=flush_log_buffers, after_in_child=_after_fork_in_child)


def log_access(logger: logging.Logger, method: str, route: str, status: int, duration: float):
    """The access line of a request: "METHOD route status" at INFO, with `status` and `duration`
    (ms) as fields, on `logger` (vevurn.access).

    Every request writes one, and through logging it costs more than any middleware of the
    stack: a LogRecord (the caller's frame, the thread's and the process's names...), the
    filter, then the formatter's pass over the record's attributes (~15 µs of the cheapest
    request's CPU). Where the only handlers that would take it are the production one
    (BufferedStreamHandler, JsonFormatter, RequestContextFilter) and nothing else hooks into
    logging, the JSON line is built here from the same values and handed to them: the line the
    formatter would write, field for field (tests/monitoring/test_logging.py). Anything else
    listening -- a test's capture, the console format, Sentry's logging integration -- gets the
    record as before.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    handlers = _json_line_handlers(logger)
    if not handlers:
        logger.info(
            "%s %s %s", method, route, status, extra={"status": status, "duration": duration}
        )
        return
    context = request_context.raw()
    line = _encode(
        {
            "level": "INFO",
            "logger": logger.name,
            "message": f"{method} {route} {status}",
            "request_id": context.get("request_id"),
            "user": context.get("user"),
            "route": context.get("route"),
            "method": context.get("method"),
            "client_ip": context.get("client_ip"),
            "status": status,
            "duration": duration,
            "time": datetime.fromtimestamp(time.time(), tz=UTC),
            "exception": None,
        }
    )
    for handler in handlers:
        handler.emit_line(line, logging.INFO)


def _json_line_handlers(logger: logging.Logger) -> list[BufferedStreamHandler] | None:
    """The handlers an INFO record of `logger` would reach, when each of them is the production
    JSON one and logging is as the standard library ships it; else None (or [] for none)."""
    if (
        type(logger) is not logging.Logger
        or logger.filters
        or logging.getLogRecordFactory() is not logging.LogRecord
        # Sentry's logging integration replaces callHandlers (breadcrumbs, events): not while
        # its client is active.
        or (
            logging.Logger.callHandlers.__module__ != "logging"
            and sentry_sdk.get_client().is_active()
        )
    ):
        return None
    found = []
    current = logger
    while current is not None:
        for handler in current.handlers:
            if handler.level > logging.INFO:
                continue
            if (
                type(handler) is not BufferedStreamHandler
                or type(handler.formatter) is not JsonFormatter
                or any(type(f) is not RequestContextFilter for f in handler.filters)
            ):
                return None
            found.append(handler)
        current = current.parent if current.propagate else None
    return found
