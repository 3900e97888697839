"""Check the journal: every chain's hashes and sequence, and every event against its rows."""

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import alert_channels
from pos.journal.verify import verify


class Command(BaseCommand):
    help = (
        "Walk every journal chain, recompute each hash, compare each event with its rows and "
        "report each break (exit 1 if any)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--alert",
            action="store_true",
            help="On any break, alert the shop's admins (email, webhook): for the nightly run.",
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
            summary = f"{len(report.breaks)} break(s) in {report.entries} entries."
            self.stdout.write(self.style.ERROR(summary))
            if options["alert"]:
                alert(report, summary)
            sys.exit(1)
        self.stdout.write(
            self.style.SUCCESS(
                f"all {report.entries} entries intact, {report.closings} closing(s) checked"
            )
        )


def alert(report, summary: str) -> None:
    """Tell the shop's admins on every channel; never raises."""
    subject = f"[{alert_channels.shop_name()}] The journal's integrity check found breaks"
    shown = [str(problem) for problem in report.breaks[:50]]
    if len(report.breaks) > len(shown):
        shown.append(f"... and {len(report.breaks) - len(shown)} more")
    text = "\n".join([subject, "", summary, "", *shown])
    alert_channels.send_email(subject, text, alert_channels.email_recipients())
    alert_channels.post_webhook(text)
