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
    """Writes an audit row, tells the test it has started, then holds the transaction open:
    SLOW_WRITE_SECONDS, or with ?hold=1 until the test creates `<name>.release` (at most 60 s)."""
    name = request.GET["name"]
    started_dir = Path(os.environ["DEPLOY_TEST_STARTED_DIR"])
    with transaction.atomic():
        audit.record(action="deploy_test.slow_write", details={"name": name})
        (started_dir / name).touch()
        if request.GET.get("hold"):
            deadline = time.monotonic() + 60
            while not (started_dir / f"{name}.release").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        else:
            time.sleep(SLOW_WRITE_SECONDS)
    return JsonResponse({"written": name, "pid": os.getpid()})


def whoami(request):
    """Which process answered (and whether it drains); a route of its own for metric counts."""
    return JsonResponse({"pid": os.getpid(), "draining": draining_flag.is_draining()})
