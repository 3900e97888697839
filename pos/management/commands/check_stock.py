"""Verify the stock invariant: each product's stock on hand equals the sum of its movements.
The worker checks it nightly too (pos.tasks.nightly_checks)."""

import sys

from django.core.management.base import BaseCommand

from pos.integrity import describe_stock_drift, stock_drift


class Command(BaseCommand):
    help = "Report products whose stock on hand differs from their stock ledger (exit 1 if any)."

    def handle(self, *args, **options):
        drifted, total = stock_drift()
        for row in drifted:
            self.stdout.write(describe_stock_drift(row))
        if drifted:
            self.stdout.write(self.style.ERROR(f"{len(drifted)} of {total} products drifted."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"all {total} products consistent"))
