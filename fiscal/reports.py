"""The fiscal day reports RRA requires, from the signed documents themselves (the stored request
bodies and signatures): X (the day so far), Z (a day that has ended) and PLU (per item).

Refunds (NR) count against sales (NS); copies are counted from the prints of each document.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from fiscal.models import OutboxItem
from fiscal.receipts import ORIGINAL, signature_of, tax_totals

ZERO = Decimal(0)


@dataclass
class DayReport:
    day: date
    counts: dict = field(default_factory=lambda: {"NS": 0, "NR": 0})
    copies: int = 0
    by_tax: dict = field(default_factory=dict)  # label -> [taxable, tax]
    total: Decimal = ZERO
    total_tax: Decimal = ZERO
    first_invoice: int | None = None
    last_invoice: int | None = None
    unsigned: list = field(default_factory=list)
    plu: dict = field(default_factory=dict)  # item code -> {name, qty, amount, tax}


def _day_bounds(day: date):
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _add_lines(report: DayReport, payload: dict, sign: int) -> None:
    for line in payload.get("itemList") or []:
        row = report.plu.setdefault(
            line["itemCd"], {"name": line["itemNm"], "qty": ZERO, "amount": ZERO, "tax": ZERO}
        )
        row["qty"] += sign * Decimal(str(line["qty"]))
        row["amount"] += sign * Decimal(str(line["totAmt"]))
        row["tax"] += sign * Decimal(str(line["taxAmt"]))


def day_report(day: date, *, outbox=None) -> DayReport:
    """The report of `day`, of every device's documents or of those of `outbox` (a queryset of
    OutboxItem: the devices of the stores a manager works in)."""
    start, end = _day_bounds(day)
    report = DayReport(day)
    items = (
        (OutboxItem.objects if outbox is None else outbox)
        .filter(created_at__gte=start, created_at__lt=end, kind__in=OutboxItem.RECEIPT_KINDS)
        .select_related("sale", "refund", "signature")
        .order_by("pk")
    )
    for item in items:
        signature = signature_of(item)
        if signature is None:
            report.unsigned.append(item)
            continue
        sign = -1 if signature.receipt_type == "R" else 1
        report.counts[ORIGINAL[signature.receipt_type]] += 1
        report.copies += max(item.prints - 1, 0)
        payload = item.payload or {}
        for total in tax_totals(payload):
            sums = report.by_tax.setdefault(total.label, [ZERO, ZERO])
            sums[0] += sign * total.taxable
            sums[1] += sign * total.tax
        report.total += sign * Decimal(str(payload.get("totAmt") or 0))
        report.total_tax += sign * Decimal(str(payload.get("totTaxAmt") or 0))
        numbers = [n for n in (report.first_invoice, item.invoice_number) if n is not None]
        report.first_invoice = min(numbers)
        report.last_invoice = max(n for n in (report.last_invoice or 0, item.invoice_number))
        _add_lines(report, payload, sign)
    return report
