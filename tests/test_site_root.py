"""What the browser asks for on its own (/favicon.ico), and the development server's log:
one line per request under `make run` (runserver), not two."""

import logging
import threading

import httpx
import pytest
from django.core.servers.basehttp import (
    WSGIRequestHandler,
    WSGIServer,
    get_internal_wsgi_application,
)

from tests.monitoring.conftest import Capture


def test_favicon_is_served_at_the_root_as_an_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO header with one image


@pytest.fixture
def dev_server():
    """runserver's own server and request handler (the ones that write "django.server" lines),
    serving the project's WSGI application on a free port."""
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_internal_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_each_request_is_logged_once_under_the_development_server(dev_server):
    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    try:
        answer = httpx.get(f"{dev_server}/favicon.ico", timeout=10)
        assert answer.status_code == 200
    finally:
        root.removeHandler(capture)

    lines = [r.getMessage() for r in capture.records if r.levelno >= logging.INFO]
    assert lines == ["GET <unmatched> 200"], lines
