"""Log records carry the request context; JSON lines in production, console lines in development.

`RequestContextFilter` is attached to the handlers in settings.LOGGING, so every record that
reaches a handler -- from our code, Django or a library -- gets request_id, user, route, method
and client_ip (None outside a request), plus status and duration (None except on access lines).
"""

import logging

from monitoring import request_context

# Fields every JSON line has, in this order (renamed in JSON_RENAME).
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
JSON_RENAME = {"levelname": "level", "name": "logger", "exc_info": "exception"}


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for field, value in request_context.current().items():
            if not hasattr(record, field):
                setattr(record, field, value)
        for field in ("status", "duration"):
            if not hasattr(record, field):
                setattr(record, field, None)
        return True


def json_formatter_config() -> dict:
    """The settings.LOGGING formatter entry for JSON lines (python-json-logger)."""
    return {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": list(JSON_FIELDS),
        "rename_fields": JSON_RENAME,
        "rename_fields_keep_missing": True,
        "timestamp": "time",
    }


CONSOLE_FORMAT = "{asctime} {levelname:<7} [{request_id}] {name}: {message}"
