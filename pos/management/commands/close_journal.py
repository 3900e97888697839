"""Write the journal's closings that are due (daily, monthly, yearly); safe to run again."""

from django.core.management.base import BaseCommand

from pos.services.closings import close_due_periods


class Command(BaseCommand):
    help = (
        "Write every daily, monthly and yearly closing that is due (each day that ended, then "
        "each month and year); a period already closed is skipped."
    )

    def handle(self, *args, **options):
        written = close_due_periods()
        for closing in written:
            self.stdout.write(
                f"#{closing.seq} {closing.get_kind_display()} {closing.period_start} to "
                f"{closing.period_end}: grand total {closing.grand_total}, hash {closing.hash}"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(written)} closing(s) written"))
