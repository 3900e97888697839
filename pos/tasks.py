"""The shop's background jobs (jobs/ runs them; docs/operations.md "Background jobs").

Each is a thin call into a service, idempotent, and never holds a row lock while it calls out.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from jobs.schedule import daily, every, periodic, retries
from pos import integrity
from pos.journal.verify import alert_owner, verify
from pos.services import (
    closings,
    daily_summary,
    gift_cards,
    holds,
    invoice_reminders,
    ledger,
    mobile_money,
)

# After the closings' grace period (pos.services.closings.GRACE), and the check after them.
CLOSE_JOURNAL_AT = datetime.time(0, 10)
VERIFY_JOURNAL_AT = datetime.time(2, 0)
# Loyalty points and gift cards past their validity: just after the day they expired on.
EXPIRE_AT = datetime.time(0, 30)


@periodic(every(seconds=5))
@task()
def poll_mobile_money() -> dict:
    """Ask MTN about every Mobile Money request that is due (the back-off is the service's)."""
    outcomes = mobile_money.poll_due()
    return {f"{before}->{after}": count for (before, after), count in outcomes.items()}


@retries(5)
@periodic(daily(at=lambda: settings.INVOICE_REMINDER_TIME))
@task()
def send_invoice_reminders() -> str:
    """Mail the overdue invoices' reminders; raises when a mail failed, so the job is retried
    (with back-off) and sends only what is still unsent."""
    outcome = invoice_reminders.send_due_reminders()
    if outcome.failed:
        raise invoice_reminders.ReminderMailFailed(outcome.summary())
    return outcome.summary()


class LedgerDrift(Exception):
    """The nightly check found ledgers that do not add up (the job_failing alert names them)."""


@periodic(daily(at=lambda: settings.NIGHTLY_CHECKS_TIME))
@task()
def nightly_checks() -> str:
    """The stock and payment invariants, then held carts past retention. Drift fails the job,
    which the job_failing alert announces with what drifted; it changes nothing itself."""
    expired = holds.expire_held_sales()
    drifted, products = integrity.stock_drift()
    payments = integrity.payment_drift()
    if drifted or payments:
        problems = [integrity.describe_stock_drift(row) for row in drifted[:5]]
        problems += [f"sale {n}: total {total}, payments {paid}" for n, total, paid in payments[:5]]
        raise LedgerDrift(
            f"{len(drifted)} product(s) and {len(payments)} sale(s) drifted: " + "; ".join(problems)
        )
    return f"{products} products and every sale consistent; {expired} held sale(s) expired"


@retries(3)
@periodic(daily(at=lambda: settings.SHOP_CLOSING_TIME))
@task()
def send_daily_summary() -> int:
    """The day's summary to the owner at closing time (retried if the mail fails)."""
    return daily_summary.send_daily_summary(timezone.localdate())


@periodic(daily(at=lambda: CLOSE_JOURNAL_AT))
@task()
def close_journal() -> dict:
    """Write yesterday's closing (and the month's, the year's when they end); the day's chain
    heads are mailed to the owner."""
    written = closings.close_due_periods()
    return {"closings": [f"{c.kind} {c.period_start}" for c in written]}


@periodic(daily(at=lambda: VERIFY_JOURNAL_AT))
@task()
def verify_journal() -> dict:
    """The nightly integrity check, in JOURNAL_VERIFY_WORKERS processes (forked from this
    one; each opens its own connection); any break alerts the owner."""
    report = verify(workers=settings.JOURNAL_VERIFY_WORKERS)
    if not report.ok:
        alert_owner(report)
    return {
        "entries": report.entries,
        "closings": report.closings,
        "breaks": len(report.breaks),
        "processes": report.processes,
    }


@periodic(daily(at=lambda: EXPIRE_AT))
@task()
def expire_loyalty_points() -> int:
    """Points not spent within the shop's validity taken off (once per customer per day)."""
    return ledger.expire_points()


@periodic(daily(at=lambda: EXPIRE_AT))
@task()
def expire_gift_cards() -> int:
    """What is left on cards past their expiry date taken off (again for a card a void
    re-credited after it expired)."""
    return gift_cards.expire_gift_cards()
