"""Check the journal: every chain's hashes and sequence, and every event against its rows."""

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from pos.journal.verify import alert_owner, verify


class Command(BaseCommand):
    help = (
        "Walk every journal chain, recompute each hash, compare each event with its rows and "
        "report each break (exit 1 if any)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Check ranges of entries in this many processes side by side (PostgreSQL).",
        )
        parser.add_argument(
            "--alert",
            action="store_true",
            help="On any break, alert the shop's admins (email, webhook): for the nightly run.",
        )

    def handle(self, *args, **options):
        report = verify(workers=options["workers"])
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
            summary = f"{len(report.breaks)} break(s) in {report.entries} entries."
            self.stdout.write(self.style.ERROR(summary))
            if options["alert"]:
                alert_owner(report)
            sys.exit(1)
        self.stdout.write(
            self.style.SUCCESS(
                f"all {report.entries} entries intact, {report.closings} closing(s) checked"
            )
        )
