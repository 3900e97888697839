"""`manage.py run_scheduler`: enqueue the declared periodic jobs (jobs.schedule) when each is
due, once per period. Running two (for availability) is safe: the database lets one of them
enqueue each period. Stops on SIGTERM/SIGINT."""

import os
import signal
import socket
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.crypto import get_random_string

from jobs import schedule
from jobs.models import Heartbeat
from jobs.worker import beat


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they are due (once per period, however many run)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tick", type=float, default=1.0, help="seconds between looks at the schedule (1)"
        )
        parser.add_argument(
            "--once", action="store_true", help="enqueue what is due now, then exit"
        )

    def handle(self, *args, tick=1.0, once=False, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        process_id = f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(8)}"
        seen: set = set()
        jobs = schedule.periodic_jobs()
        self.stdout.write(
            f"Scheduler {process_id} started: "
            + "; ".join(f"{s.name} {s.schedule.describe()}" for s in jobs)
        )
        self.stdout.flush()
        next_beat = 0.0
        while not stop.is_set():
            close_old_connections()
            try:
                now_monotonic = time.monotonic()
                if now_monotonic >= next_beat:
                    beat(process_id, Heartbeat.Kind.SCHEDULER)
                    next_beat = now_monotonic + settings.JOBS_HEARTBEAT_SECONDS
                schedule.enqueue_due(seen=seen)
            except DatabaseError as error:
                self.stderr.write(f"Scheduler: database error, trying again: {error}")
                self.stderr.flush()
            if once:
                return
            _forget_old(seen)
            stop.wait(tick)


def _forget_old(seen: set) -> None:
    """Keep the memory of handled periods small (a 5 s job adds 17,280 a day)."""
    if len(seen) > 1000:
        seen.clear()
