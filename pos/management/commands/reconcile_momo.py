"""Settle Mobile Money requests left behind: `manage.py reconcile_momo [--limit N]`.

Every pending request (oldest first, at most --limit per run) is asked for its status; those
past MOMO_PAYMENT_TIMEOUT_SECONDS become failed. Requests we timed out in the last
--recheck-hours are asked again, to catch a late success. Then it lists the money MTN took that
no sale uses (late successes, wrong amounts): a manager refunds these by hand. Exit status 1 when
that list is not empty, so a cron job can alert; 0 otherwise.
"""

from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pos.mobile_money import MoMoClient, MoMoNotConfigured, mask_msisdn
from pos.models import MobileMoneyRequest
from pos.services import mobile_money

Status = MobileMoneyRequest.Status


class Command(BaseCommand):
    help = "Settle pending Mobile Money requests and list payments that need a manual refund."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=200, help="Most requests to ask MTN about (200)."
        )
        parser.add_argument(
            "--recheck-hours",
            type=int,
            default=24,
            help="Ask again about requests timed out this many hours ago or less (24).",
        )

    def handle(self, *args, limit, recheck_hours, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1.")
        pending = list(
            MobileMoneyRequest.objects.filter(status=Status.PENDING).order_by("pk")[:limit]
        )
        since = timezone.now() - timedelta(hours=recheck_hours)
        timed_out = list(
            MobileMoneyRequest.objects.filter(
                status=Status.FAILED, reason=mobile_money.TIMED_OUT, created_at__gte=since
            ).order_by("pk")[: max(0, limit - len(pending))]
        )
        outcomes = Counter()
        try:
            with MoMoClient.from_settings() as client:
                for request in pending + timed_out:
                    before = request.status
                    request = mobile_money.refresh_request(request, client=client)
                    outcomes[(before, request.status)] += 1
        except MoMoNotConfigured:
            self.stderr.write("Mobile Money is not configured: expired requests marked failed.")
            for request in pending:
                request = mobile_money.refresh_request(request)
                outcomes[(Status.PENDING, request.status)] += 1

        self._summary(outcomes, len(pending), len(timed_out))
        to_refund = list(mobile_money.needs_refund())
        if to_refund:
            self._refund_table(to_refund)
            raise CommandError(
                f"{len(to_refund)} Mobile Money payment(s) need a manual refund.", returncode=1
            )
        self.stdout.write("No Mobile Money payment needs a refund.")

    def _summary(self, outcomes: Counter, pending: int, rechecked: int):
        self.stdout.write(f"{'checked':<28}{'requests':>9}")
        rows = [
            ("pending, asked MTN", pending),
            ("  now successful", outcomes[(Status.PENDING, Status.SUCCESSFUL)]),
            ("  now failed", outcomes[(Status.PENDING, Status.FAILED)]),
            ("  still pending", outcomes[(Status.PENDING, Status.PENDING)]),
            ("timed out, asked again", rechecked),
            ("  late success", outcomes[(Status.FAILED, Status.SUCCESSFUL)]),
        ]
        for label, count in rows:
            self.stdout.write(f"{label:<28}{count:>9}")

    def _refund_table(self, requests):
        self.stdout.write("")
        self.stdout.write("NEEDS A MANUAL REFUND (money received, no sale):")
        header = f"{'id':>6}  {'shift':>5}  {'amount':>12}  {'phone':<14}  {'MTN txn':<14}  reason"
        self.stdout.write(header)
        for r in requests:
            phone = mask_msisdn(r.phone.lstrip("+"))
            self.stdout.write(
                f"{r.pk:>6}  {r.shift_id:>5}  {r.amount:>12}  {phone:<14}  "
                f"{r.financial_transaction_id:<14}  {r.reason}"
            )
