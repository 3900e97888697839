"""Alert rules: evaluated at most once a minute per cluster; each start and each end of a
condition is announced exactly once, by email and to a Slack-compatible webhook.

Rules (monitoring/alert_rules.py; settings.ALERT_RULES; docs/monitoring.md "Alerts"), sent by
monitoring/alert_channels.py:

    error_rate       5xx share of requests over the window (5 min) above the threshold (5 %)
    p95_latency      P95 over the window above the threshold (2 s)
    readiness        the readiness checks (database, migrations) fail
    redis_fallback   this evaluator's process has been on the in-process fallback > 5 min
    low_stock        per product: crossed down to its reorder level (the LowStockAlert that
                     pos.services.stock records), until restocked above it or acknowledged
    cash_difference  per shift, an event: closed with cash over/short beyond the threshold
    offline_pending  per till device: offline sales waiting to sync longer than the threshold
    offline_oversold per sale line, an event: sold offline below zero stock (names the product)

Who evaluates: the metrics flush thread of the app processes (ALERT_EVALUATION=request) or
`manage.py run_alerts` from a scheduler (either way). A tick key per calendar minute
(`cache.add`) lets one evaluator through per minute; a lock key serialises evaluators; the
state is the open `AlertIncident` rows, whose unique constraints make the database the final
judge: a start or an end that another evaluator already recorded is not announced again, even
while Redis is down and the lock is only per process. While the database is down too (the
readiness alert), the state lives in the cache and is written to the database when it returns.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from monitoring.alert_channels import notify
from monitoring.alert_rules import Rule, Transition, rules

logger = logging.getLogger("vevurn.alerts")

LOCK_KEY = "alerts:lock"
LOCK_SECONDS = 120  # longer than any evaluation (checks and sends have short timeouts)
STATE_KEY = "alerts:state"  # the cache's copy of the firing set (used while the DB is down)


def tick_key(minute: int) -> str:
    return f"alerts:tick:{minute}"


def current_minute() -> int:
    return int(time.time() // 60)


# --- state: open incidents (the database), with the cache's copy for a database outage ----------


def load_firing() -> tuple[dict[tuple[str, str], dict], bool]:
    """{(rule, key): {"id", "summary", "fired_at"}} of open incidents, and whether that came
    from the database. Incidents recorded in the cache while the database was down are written
    to it first; while it is still down, the cache's copy is the state (entries with a
    "resolved_at" ended during the outage and wait to be written)."""
    from monitoring.models import AlertIncident

    copy = cache.get(STATE_KEY) or {}
    try:
        for (rule, key), entry in copy.items():
            if entry.get("id") is not None:
                continue
            if entry.get("resolved_at"):  # started and ended during the outage
                AlertIncident.objects.get_or_create(
                    rule=rule,
                    key=key,
                    fired_at=entry["fired_at"],
                    defaults={"summary": entry["summary"], "resolved_at": entry["resolved_at"]},
                )
                continue
            try:
                with transaction.atomic():
                    AlertIncident.objects.create(
                        rule=rule, key=key, summary=entry["summary"], fired_at=entry["fired_at"]
                    )
            except IntegrityError:
                pass  # another evaluator wrote it back first
        for entry in copy.values():
            if entry.get("id") is not None and entry.get("resolved_at"):
                AlertIncident.objects.filter(pk=entry["id"], resolved_at__isnull=True).update(
                    resolved_at=entry["resolved_at"]
                )
        firing = {
            (row.rule, row.key): {"id": row.id, "summary": row.summary, "fired_at": row.fired_at}
            for row in AlertIncident.objects.filter(resolved_at__isnull=True)
        }
        return firing, True
    except DatabaseError:
        logger.warning("Alert state read from the cache: the database is unavailable")
        return dict(copy), False  # ended ones too (resolved_at set): written back later


def record(transition: Transition, firing: dict, database: bool) -> bool:
    """Write the transition; False when another evaluator had already recorded it (then it is
    not announced). While the database is down the cache's copy is the record."""
    from monitoring.models import AlertIncident

    ident = (transition.rule.name, transition.key)
    if database:
        try:
            with transaction.atomic():
                if transition.firing:
                    row = AlertIncident.objects.create(
                        rule=transition.rule.name,
                        key=transition.key,
                        is_event=transition.rule.is_event,
                        summary=transition.summary[:500],
                        fired_at=transition.at,
                        resolved_at=transition.at if transition.rule.is_event else None,
                    )
                    if not transition.rule.is_event:
                        firing[ident] = {
                            "id": row.id,
                            "summary": row.summary,
                            "fired_at": row.fired_at,
                        }
                    return True
                updated = AlertIncident.objects.filter(
                    pk=firing[ident]["id"], resolved_at__isnull=True
                ).update(resolved_at=transition.at, resolution=transition.summary[:500])
                firing.pop(ident)
                return updated == 1
        except IntegrityError:
            return False
        except DatabaseError:
            logger.exception("Could not record alert %s %s", *ident)
    if transition.firing:
        if not transition.rule.is_event:
            firing[ident] = {"id": None, "summary": transition.summary, "fired_at": transition.at}
    else:
        entry = firing.pop(ident)
        firing[ident] = {**entry, "resolved_at": transition.at}  # written back later
    return True


def save_copy(firing: dict) -> None:
    cache.set(STATE_KEY, firing, timeout=None)


def known_events(rule: Rule, keys: list[str]) -> set[str]:
    from monitoring.models import AlertIncident

    return set(
        AlertIncident.objects.filter(rule=rule.name, key__in=keys).values_list("key", flat=True)
    )


# --- evaluation ---------------------------------------------------------------------------------


@contextmanager
def cluster_lock(wait_seconds: float):
    """Yields True once this evaluator holds the lock (a cache.add: Redis SET NX, or the
    process's own fallback while Redis is down), False if it could not get it in time."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    while not cache.add(LOCK_KEY, token, timeout=LOCK_SECONDS):
        if time.monotonic() >= deadline:
            yield False
            return
        time.sleep(0.05)
    try:
        yield True
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)


@dataclasses.dataclass
class Outcome:
    evaluated: bool
    reason: str = ""
    transitions: list[Transition] = dataclasses.field(default_factory=list)


def evaluate(*, force: bool = False, wait_seconds: float = 0.0) -> Outcome:
    """One evaluation of every enabled rule, unless another evaluator has had this minute
    (`force` skips that test, not the lock). Announces what changed."""
    if not settings.ALERTS_ENABLED:
        return Outcome(False, "alerts are disabled (ALERTS_ENABLED=0)")
    if not force and not cache.add(tick_key(current_minute()), 1, timeout=120):
        return Outcome(False, "already evaluated this minute")
    with cluster_lock(wait_seconds) as locked:
        if not locked:
            return Outcome(False, "another evaluator holds the lock")
        transitions = transitions_now()
    notify(transitions)
    return Outcome(True, transitions=transitions)


def transitions_now() -> list[Transition]:
    firing, database = load_firing()
    now = timezone.now()
    changes = []
    for rule in rules():
        try:
            found = rule.check()
        except Exception:
            # A rule that cannot look (its data is unreachable) keeps its state.
            logger.exception("Alert rule %s could not be evaluated", rule.name)
            continue
        if rule.is_event:
            if found and database:
                seen = known_events(rule, list(found))
                for key in sorted(set(found) - seen):
                    changes.append(Transition(rule, key, True, found[key], now))
            continue
        open_keys = {
            key
            for (name, key), entry in firing.items()
            if name == rule.name and not entry.get("resolved_at")
        }
        for key in sorted(set(found) - open_keys):
            changes.append(Transition(rule, key, True, found[key], now))
        for key in sorted(open_keys - set(found)):
            entry = firing[(rule.name, key)]
            summary = f"Back to normal after {_duration(now - entry['fired_at'])}. Was: "
            summary += entry["summary"]
            changes.append(Transition(rule, key, False, summary, now))
    recorded = [t for t in changes if record(t, firing, database)]
    try:
        save_copy(firing)
    except Exception:
        logger.exception("Could not save the alert state to the cache")
    return recorded


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


# --- from the request path's periodic flush -----------------------------------------------------


class FlushTrigger:
    """Called by the metrics flush thread after each flush. Tries the minute's tick at most
    once a minute per process (so the cache sees one extra call per process per minute, off
    the request path), and evaluates when it wins it, in a thread of its own: a slow
    evaluation never delays the next metrics flush."""

    def __init__(self):
        self.next_try = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> None:
        if not settings.ALERTS_ENABLED or settings.ALERT_EVALUATION != "request":
            return
        with self.lock:
            now = time.monotonic()
            if now < self.next_try:
                return
            self.next_try = now + 60 - (time.time() % 60)  # the start of the next minute
        threading.Thread(target=self.evaluate, name="alert-evaluation", daemon=True).start()

    @staticmethod
    def evaluate() -> None:
        try:
            evaluate()
        except Exception:
            logger.exception("Alert evaluation failed")
        finally:
            connections.close_all()  # this thread's own connections only


after_flush = FlushTrigger()


def recent_incidents(limit: int = 30) -> dict:
    """For the admin health dashboard: what fires now and the latest history."""
    from monitoring.models import AlertIncident

    titles = {rule.name: rule.title for rule in rules()}
    try:
        firing = list(AlertIncident.objects.filter(resolved_at__isnull=True)[:50])
        history = list(AlertIncident.objects.all()[:limit])
    except DatabaseError:
        return {"available": False, "firing": [], "history": []}
    for row in firing + history:
        row.title = titles.get(row.rule, row.rule)
    return {"available": True, "firing": firing, "history": history, "now": datetime.now(UTC)}
