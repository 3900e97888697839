"""Test-only views served by the gunicorn subprocesses of tests/deploy (see deploy_settings)."""

import os
import time
from pathlib import Path

from django.db import transaction
from django.http import JsonResponse

from accounts import audit
from monitoring import draining as draining_flag

SLOW_WRITE_SECONDS = 3


def slow_write(request):
    """Writes an audit row, tells the test it has started, then holds the transaction open."""
    name = request.GET["name"]
    with transaction.atomic():
        audit.record(action="deploy_test.slow_write", details={"name": name})
        Path(os.environ["DEPLOY_TEST_STARTED_DIR"], name).touch()
        time.sleep(SLOW_WRITE_SECONDS)
    return JsonResponse({"written": name, "pid": os.getpid()})


def whoami(request):
    """Which process answered (and whether it drains); a route of its own for metric counts."""
    return JsonResponse({"pid": os.getpid(), "draining": draining_flag.is_draining()})
