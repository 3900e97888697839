"""A test-only hold inside the checkout transaction, for the app servers of tests/reliability.

Connected by tests.reliability.app_settings (never by production settings). When the test
creates the file `hold-next-sale` in $RELIABILITY_HOOK_DIR, the next sale row written is held:
right after its INSERT, inside checkout's transaction, the worker writes `held` (its pid and the
sale's idempotency key) and waits until the test creates `release`. The test then kills the
worker, or stops the database, with a half-written sale in flight.
"""

import json
import os
import time
from pathlib import Path

from django.db.models.signals import post_save

HOLD_AT_MOST_SECONDS = 120


def hold_sale_in_flight(sender, instance, created, **kwargs):
    hook_dir = os.environ.get("RELIABILITY_HOOK_DIR")
    if not (created and hook_dir):
        return
    directory = Path(hook_dir)
    try:
        # Exactly one request claims the hold, however many insert a sale at this moment.
        os.rename(directory / "hold-next-sale", directory / f"claimed-{os.getpid()}")
    except FileNotFoundError:
        return
    held = {"pid": os.getpid(), "idempotency_key": str(instance.idempotency_key)}
    (directory / "held.tmp").write_text(json.dumps(held))
    os.rename(directory / "held.tmp", directory / "held")
    deadline = time.monotonic() + HOLD_AT_MOST_SECONDS
    while not (directory / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def connect():
    from pos.models import Sale

    post_save.connect(hold_sale_in_flight, sender=Sale, dispatch_uid="reliability-hold")
