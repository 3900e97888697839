"""Monitoring's background job: the alert rules, every minute, whatever the traffic.

The app processes may evaluate too (ALERT_EVALUATION=request): whoever comes first in a minute
evaluates (monitoring/alerts.py), so a dead worker is still noticed while requests arrive.
"""

from django_tasks import task

from jobs.schedule import every, periodic
from monitoring import alerts


@periodic(every(minutes=1))
@task()
def evaluate_alerts() -> dict:
    outcome = alerts.evaluate()
    return {
        "evaluated": outcome.evaluated,
        "reason": outcome.reason,
        "changes": [
            f"{t.rule.name}:{t.key}:{'firing' if t.firing else 'resolved'}"
            for t in outcome.transitions
        ],
    }
