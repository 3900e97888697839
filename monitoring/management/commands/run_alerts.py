"""`manage.py run_alerts`: evaluate the alert rules once (or every minute with --loop), for a
scheduler (cron, a systemd timer, a Kubernetes CronJob). See docs/monitoring.md "Alerts"."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from monitoring.alerts import evaluate


class Command(BaseCommand):
    help = (
        "Evaluate the alert rules and announce what started or ended. Skips when another "
        "evaluator (an app process or another run_alerts) already did this minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="keep running, once at the start of each minute"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="evaluate even if this minute was already evaluated (still one at a time)",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=30.0,
            help="seconds to wait for another evaluator to finish (default 30)",
        )

    def handle(self, *args, loop=False, force=False, wait=30.0, **options):
        while True:
            outcome = evaluate(force=force, wait_seconds=wait)
            if not outcome.evaluated:
                self.stdout.write(f"Skipped: {outcome.reason}.")
            elif not outcome.transitions:
                self.stdout.write("Evaluated: nothing started or ended.")
            else:
                for t in outcome.transitions:
                    state = "firing" if t.firing else "resolved"
                    self.stdout.write(
                        f"Evaluated: {t.rule.name} {t.key} {state}".replace("  ", " ")
                    )
            if not loop:
                return
            time.sleep(60 - time.time() % 60 + 0.5)
            close_old_connections()  # a long --loop outlives database restarts
