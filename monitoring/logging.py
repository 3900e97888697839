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
"""

import logging
from datetime import UTC, datetime

import orjson
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
        return orjson.dumps(line, default=orjson_default, option=_OPTIONS).decode()


def json_formatter_config() -> dict:
    """The settings.LOGGING formatter entry for JSON lines."""
    return {"()": "monitoring.logging.JsonFormatter"}


CONSOLE_FORMAT = "{asctime} {levelname:<7} [{request_id}] {name}: {message}"
