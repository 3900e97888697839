"""What a closing holds, built one way for the writer (pos.services.closings) and the check.

A closing's payload is canonical JSON of its kind and period, the period's totals
(pos.journal.totals), the perpetual grand total (net sales since the first sale, through the
period's end) and each chain's head at the period's end: the last entry, by sequence, whose
business day is in or before the period. Closings form a chain of their own:
hash = sha256(previous closing's hash + payload).
"""

import calendar
import datetime
from decimal import Decimal

from pos.journal.canonical import canonical
from pos.journal.totals import Totals
from pos.models import ClosingKind


def payload(
    kind: str,
    start: datetime.date,
    end: datetime.date,
    totals: Totals,
    grand_total: Decimal,
    heads: dict[str, tuple[int, str]],
) -> str:
    return canonical(
        {
            "kind": kind,
            "period_start": start,
            "period_end": end,
            "totals": totals.as_dict(),
            "grand_total": grand_total,
            "heads": {
                chain: {"seq": seq, "hash": digest} for chain, (seq, digest) in heads.items()
            },
        }
    )


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def periods_ending(day: datetime.date) -> list[tuple[str, datetime.date]]:
    """The closings due once `day` has ended: (kind, period start), the day's first."""
    due = [(ClosingKind.DAY, day)]
    if day == month_end(day):
        due.append((ClosingKind.MONTH, day.replace(day=1)))
        if day.month == 12:
            due.append((ClosingKind.YEAR, day.replace(month=1, day=1)))
    return due
