"""The shop's background jobs (jobs/ runs them; docs/operations.md "Background jobs").

Each is a thin call into a service, idempotent, and never holds a row lock while it calls out.
"""

from django_tasks import task

from jobs.schedule import every, periodic
from pos.services import mobile_money


@periodic(every(seconds=5))
@task()
def poll_mobile_money() -> dict:
    """Ask MTN about every Mobile Money request that is due (the back-off is the service's)."""
    outcomes = mobile_money.poll_due()
    return {f"{before}->{after}": count for (before, after), count in outcomes.items()}
