"""The shop's background jobs (jobs/ runs them; docs/operations.md "Background jobs").

Each is a thin call into a service, idempotent, and never holds a row lock while it calls out.
"""

import datetime

from django_tasks import task

from jobs.schedule import daily, every, periodic
from pos.journal.verify import alert_owner, verify
from pos.services import closings, mobile_money

# After the closings' grace period (pos.services.closings.GRACE), and the check after them.
CLOSE_JOURNAL_AT = datetime.time(0, 10)
VERIFY_JOURNAL_AT = datetime.time(2, 0)


@periodic(every(seconds=5))
@task()
def poll_mobile_money() -> dict:
    """Ask MTN about every Mobile Money request that is due (the back-off is the service's)."""
    outcomes = mobile_money.poll_due()
    return {f"{before}->{after}": count for (before, after), count in outcomes.items()}


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
    """The nightly integrity check; any break alerts the owner."""
    report = verify()
    if not report.ok:
        alert_owner(report)
    return {"entries": report.entries, "closings": report.closings, "breaks": len(report.breaks)}
