import io
import json
import logging
from logging.config import DictConfigurator

import pytest
from django.conf import settings
from django.test import Client

from monitoring.logging import RequestContextFilter


class Capture(logging.Handler):
    """Records as the configured handlers see them: through the request context filter."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def named(self, logger_name):
        return [r for r in self.records if r.name == logger_name]


@pytest.fixture
def captured_logs():
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def configured_json_formatter() -> logging.Formatter:
    """The "json" formatter exactly as settings.LOGGING declares it."""
    config = dict(settings.LOGGING["formatters"]["json"])
    return DictConfigurator({}).configure_formatter(config)


@pytest.fixture
def json_lines():
    """Every log line written while the test runs, formatted by the production JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(configured_json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def read():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    root.removeHandler(handler)


@pytest.fixture
def lenient_client():
    """A client that returns the 500 page instead of re-raising the view's exception."""
    return Client(raise_request_exception=False)
