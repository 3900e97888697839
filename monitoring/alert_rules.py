"""The alert rules (settings.ALERT_RULES): each looks at the shop now and says which of its
keys are in trouble, with what was seen. monitoring/alerts.py turns changes into messages."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from monitoring import metrics, registry


@dataclasses.dataclass
class Rule:
    name: str
    title: str  # the alert's name in messages, with its threshold
    check: object  # () -> {key: summary} of what is true now
    is_event: bool = False
    business: bool = False


@dataclasses.dataclass
class Transition:
    """A rule's key starting or stopping to fire (monitoring/alerts.py finds them)."""

    rule: Rule
    key: str
    firing: bool  # True: started (or an event), False: ended
    summary: str
    at: datetime


def window_figures(minutes: int) -> dict:
    """Requests, 5xx share and P95 over the last `minutes`, all instances merged."""
    total = metrics.totals(metrics.window(minutes))
    return {
        "count": total.count,
        "server_errors": total.server_errors,
        "server_error_ratio": total.server_errors / total.count if total.count else 0.0,
        "p95_ms": metrics.percentile(total.histogram, 95),
    }


def check_error_rate(config: dict) -> dict[str, str]:
    figures = window_figures(config["minutes"])
    if figures["count"] < config["min_requests"]:
        return {}
    if figures["server_error_ratio"] <= config["threshold"]:
        return {}
    return {
        "": f"{figures['server_error_ratio']:.1%} of requests failed with a 5xx over the last "
        f"{config['minutes']} min ({figures['server_errors']} of {figures['count']})."
    }


def check_p95(config: dict) -> dict[str, str]:
    figures = window_figures(config["minutes"])
    if figures["count"] < config["min_requests"] or figures["p95_ms"] is None:
        return {}
    if figures["p95_ms"] <= config["threshold_ms"]:
        return {}
    return {
        "": f"P95 was {figures['p95_ms'] / 1000:.2f} s over the last {config['minutes']} min "
        f"({figures['count']} requests)."
    }


def check_readiness(config: dict) -> dict[str, str]:
    from monitoring.health import readiness_probes, run_probes

    failing = [r for r in run_probes(readiness_probes()) if r.status != "ok"]
    if not failing:
        return {}
    details = "; ".join(f"{r.name}: {r.detail.get('message', r.status)}" for r in failing)
    return {"": f"Readiness fails ({details})."}


def check_redis_fallback(config: dict) -> dict[str, str]:
    from django.core.cache import caches

    from monitoring.cache import ResilientRedisCache

    backend = caches["default"]
    if not isinstance(backend, ResilientRedisCache):
        return {}
    state = backend.state
    if state.connected:
        return {}
    seconds = time.time() - state.since
    if seconds < config["minutes"] * 60:
        return {}
    return {
        "": f"Redis unreachable for {seconds / 60:.0f} min; cache, rate limits and metrics run "
        f"per process. Last error: {state.last_error}"
    }


def check_jobs_down(config: dict) -> dict[str, str]:
    """Per process kind: no worker (or scheduler) heartbeat for three intervals."""
    from jobs import health as jobs

    if not jobs.needs_worker():
        return {}
    now = timezone.now()
    found = {}
    for kind in ("worker", "scheduler"):
        state = jobs.process_status(kind, now)
        if state["status"] == jobs.DOWN:
            found[kind] = (
                f"No {kind} heartbeat for {state['seconds_since']} s (down after "
                f"{3 * settings.JOBS_HEARTBEAT_SECONDS} s): background jobs are not "
                + ("running." if kind == "worker" else "being scheduled.")
            )
        elif state["status"] == jobs.NEVER:
            found[kind] = f"No {kind} has ever run: background jobs are not running."
    return found


def check_jobs_failing(config: dict) -> dict[str, str]:
    """Per periodic job: its last run failed, or it has not started for its interval."""
    from jobs import health as jobs

    if not jobs.needs_worker():
        return {}
    found = {}
    for row in jobs.job_rows(timezone.now()):
        if row["status"] == "failing":
            found[row["name"]] = f"{row['name']} failed: {row['last_error']}"
        elif row["status"] == "late":
            found[row["name"]] = (
                f"{row['name']} ({row['schedule']}) has not run since {row['last_run']}."
            )
    return found


def rules() -> list[Rule]:
    config = settings.ALERT_RULES
    error_rate = config["error_rate"]
    p95 = config["p95_latency"]
    all_rules = [
        Rule(
            "error_rate",
            f"Error rate above {error_rate['threshold']:.0%}",
            lambda: check_error_rate(error_rate),
        ),
        Rule(
            "p95_latency",
            f"P95 latency above {p95['threshold_ms'] / 1000:g} s",
            lambda: check_p95(p95),
        ),
        Rule("readiness", "Not ready", lambda: check_readiness(config["readiness"])),
        Rule(
            "redis_fallback",
            f"Redis down for over {config['redis_fallback']['minutes']} min",
            lambda: check_redis_fallback(config["redis_fallback"]),
        ),
        Rule(
            "worker_down",
            "Background worker or scheduler down",
            lambda: check_jobs_down(config["worker_down"]),
        ),
        Rule(
            "job_failing",
            "Background job failing or late",
            lambda: check_jobs_failing(config["job_failing"]),
        ),
    ]
    for factory in registry.alert_rule_factories:  # the shop's own (pos/monitoring.py)
        all_rules.extend(factory(config))
    return [rule for rule in all_rules if config[rule.name]["enabled"]]
