"""Check the journal: every chain's hashes and sequence, and every event against its rows."""

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from pos.journal.verify import verify


class Command(BaseCommand):
    help = (
        "Walk every journal chain, recompute each hash, compare each event with its rows and "
        "report each break (exit 1 if any)."
    )

    def handle(self, *args, **options):
        report = verify()
        for chain in report.chains:
            if not chain.count:
                self.stdout.write(f"{chain.chain}: no entries")
                continue
            self.stdout.write(
                f"{chain.chain}: {chain.count} entries, #{chain.first_seq} "
                f"({timezone.localtime(chain.first_at):%Y-%m-%d %H:%M}) to #{chain.last_seq} "
                f"({timezone.localtime(chain.last_at):%Y-%m-%d %H:%M}), head {chain.last_hash}"
            )
        for problem in report.breaks:
            self.stdout.write(self.style.ERROR(str(problem)))
        if not report.ok:
            self.stdout.write(
                self.style.ERROR(f"{len(report.breaks)} break(s) in {report.entries} entries.")
            )
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"all {report.entries} entries intact"))
