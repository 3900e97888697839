"""Closings: each business day, month and year, written once after it ends and never edited.

`close_due_periods()` writes every closing that is due, in order: each business day from the
first journal entry (or the day after the last daily closing) through the last day that ended
more than `GRACE` ago (a sale rung at 23:59:59 has committed by then), and after the last day of
a month or year, that month's or year's closing. It runs from the scheduled job or, with no
worker, after the first sale of the next day (`close_after_sale`, once per process per day). It
is safe to run again and from several processes at once: writers queue on one lock and a period
already closed is skipped. After each daily closing, the chain heads are mailed to the shop's
admins (the alert recipients) as an anchor outside the database.
"""

import datetime
import logging
import time
from decimal import Decimal

import orjson
from django.db import transaction
from django.utils import timezone

from monitoring import alert_channels
from pos.journal import closings
from pos.journal.canonical import GENESIS, entry_hash
from pos.journal.totals import Totals
from pos.models import Closing, ClosingKind, JournalEntry
from pos.services import locks

logger = logging.getLogger("vevurn.journal")

GRACE = datetime.timedelta(minutes=5)
RETRY_AFTER_FAILURE = datetime.timedelta(minutes=10)
ZERO = Decimal(0)
LOCK = "journal-closings"

_closed_through: datetime.date | None = None  # per process: the last day known to be closed
_recheck_at = 0.0  # per process: when (time.time()) the day after it can be closed


def last_closable_day(now: datetime.datetime | None = None) -> datetime.date:
    """The last business day that ended at least GRACE before `now`."""
    local = timezone.localtime(now or timezone.now())
    return (local - GRACE).date() - datetime.timedelta(days=1)


def close_due_periods(*, now: datetime.datetime | None = None) -> list[Closing]:
    """Write every closing due at `now` (default: now); return the closings written."""
    until = last_closable_day(now)
    with transaction.atomic():
        locks.sequence(LOCK)  # one writer at a time
        last_day = Closing.objects.filter(kind=ClosingKind.DAY).order_by("-period_start").first()
        if last_day is not None:
            day = last_day.period_end + datetime.timedelta(days=1)
            stored = orjson.loads(last_day.payload)
            grand_total = last_day.grand_total
            heads = {chain: (h["seq"], h["hash"]) for chain, h in stored["heads"].items()}
        else:
            first = JournalEntry.objects.order_by("business_day").values_list(
                "business_day", flat=True
            )
            day = first.first()
            if day is None:
                return []
            grand_total, heads = ZERO, {}
        written = []
        while day <= until:
            totals = Totals()
            for chain, seq, digest, kind, text in (
                JournalEntry.objects.filter(business_day=day)
                .order_by("chain", "seq")
                .values_list("chain", "seq", "hash", "kind", "payload")
                .iterator(chunk_size=2000)
            ):
                totals.add(kind, orjson.loads(text)["data"])
                if seq > heads.get(chain, (0, ""))[0]:
                    heads[chain] = (seq, digest)
            grand_total += totals.net_sales
            for kind, start in closings.periods_ending(day):
                if kind != ClosingKind.DAY:
                    totals = _sum_of(kind, start, day)
                written.append(_write(kind, start, day, totals, grand_total, heads))
            day += datetime.timedelta(days=1)
        if written:
            transaction.on_commit(lambda: _mail_heads(written))
    return written


def _sum_of(kind: str, start: datetime.date, end: datetime.date) -> Totals:
    """A month is the sum of its days, a year of its months (closings just written included)."""
    part = ClosingKind.DAY if kind == ClosingKind.MONTH else ClosingKind.MONTH
    totals = Totals()
    for text in Closing.objects.filter(
        kind=part, period_start__gte=start, period_end__lte=end
    ).values_list("payload", flat=True):
        totals.merge(Totals.from_dict(orjson.loads(text)["totals"]))
    return totals


def _write(kind, start, end, totals: Totals, grand_total: Decimal, heads) -> Closing:
    previous = Closing.objects.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS)
    text = closings.payload(kind, start, end, totals, grand_total, dict(sorted(heads.items())))
    return Closing.objects.create(
        seq=previous[0] + 1,
        kind=kind,
        period_start=start,
        period_end=end,
        grand_total=grand_total,
        payload=text,
        prev_hash=previous[1],
        hash=entry_hash(previous[1], text),
    )


def _mail_heads(written: list[Closing]) -> None:
    days = [c for c in written if c.kind == ClosingKind.DAY]
    if not days:
        return
    shop = alert_channels.shop_name()
    lines = [
        "Keep this message: it anchors the shop's journal outside its database.",
        "If an entry is ever changed, the hashes below stop matching the journal.",
        "",
    ]
    for closing in days:
        stored = orjson.loads(closing.payload)
        lines.append(
            f"{closing.period_start:%Y-%m-%d}: closing #{closing.seq} {closing.hash}, "
            f"net sales {stored['totals']['net_sales']}, grand total {closing.grand_total}"
        )
        for chain, head in stored["heads"].items():
            lines.append(f"  {chain} #{head['seq']} {head['hash']}")
    subject = f"[{shop}] Journal closing {days[-1].period_start:%Y-%m-%d}"
    alert_channels.send_email(subject, "\n".join(lines), alert_channels.email_recipients())


def close_after_sale() -> None:
    """After a committed sale: write the closings due, at most once per process per day (for
    shops with no scheduled job). Never raises: the sale is already done. Every sale calls it:
    until the next day can be closed, it compares two numbers and returns."""
    global _closed_through, _recheck_at
    if time.time() < _recheck_at:
        return
    until = last_closable_day()
    if _closed_through == until:
        return
    try:
        close_due_periods()
    except Exception:
        logger.exception("Could not write the journal's closings")
        # Tried again in a while, not by every sale in between: each try reads the whole day.
        _recheck_at = time.time() + RETRY_AFTER_FAILURE.total_seconds()
        return
    _closed_through = until
    # The day after `until` can be closed once the day after it has begun, plus the grace.
    next_start = datetime.datetime.combine(until + datetime.timedelta(days=2), datetime.time())
    _recheck_at = (timezone.make_aware(next_start) + GRACE).timestamp()
