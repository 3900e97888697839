"""What the admin health dashboard shows, gathered in one place (the view stays thin)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from monitoring import alerts, metrics
from monitoring.endpoints import redis_report
from monitoring.health import health_report

CHART_WIDTH, CHART_HEIGHT = 600, 120
STATUS_LABELS = {
    "ok": (_("OK"), "✓"),
    "healthy": (_("Healthy"), "✓"),
    "warning": (_("Warning"), "!"),
    "degraded": (_("Degraded"), "!"),
    "failed": (_("Failed"), "✗"),
    "unhealthy": (_("Unhealthy"), "✗"),
    "skipped": (_("Skipped"), "–"),
}


def chart(values: list[float | None], unit: str) -> dict:
    """An SVG polyline (server-side, no JS) of one value per minute, with its numbers."""
    known = [v for v in values if v is not None]
    peak = max(known, default=0) or 1
    step = CHART_WIDTH / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{CHART_HEIGHT - (v or 0) / peak * (CHART_HEIGHT - 10):.1f}"
        for i, v in enumerate(values)
    )
    return {
        "points": points,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "unit": unit,
        "latest": values[-1] if values else None,
        "peak": max(known, default=None),
        "average": round(sum(known) / len(known), 1) if known else None,
    }


# The checks' names as the page shows them (the report's keys stay as they are).
CHECK_LABELS = {
    "database": _("Database"),
    "migrations": _("Migrations"),
    "cache": _("Cache"),
    "cache_store": _("Cache store"),
    "disk": _("Disk"),
    "memory": _("Memory"),
    "process_memory": _("Process memory"),
    "sentry": _("Sentry"),
    "worker": _("Worker"),
    "scheduler": _("Scheduler"),
    "redis": _("Redis"),
}


def labelled(status: str) -> dict:
    label, symbol = STATUS_LABELS.get(status, (status.title(), "?"))
    return {"code": status, "label": label, "symbol": symbol}


SCHEDULE_STATES = {"never_seen": "skipped", "late": "warning", "failing": "failed"}
# The words for a periodic job's state and a worker's or scheduler's (jobs/health.py's codes).
JOB_STATE_LABELS = {
    "ok": _("On time"),
    "never_seen": _("Never run"),
    "late": _("Late"),
    "failing": _("Failing"),
}
PROCESS_STATE_LABELS = {
    "ok": _("Running"),
    "down": _("Down"),
    "never_seen": _("Never started"),
}
IN_PROCESS = _("immediate: jobs run in the process that enqueues them")


def schedule_text(row: dict) -> str:
    """ "every 5 s" / "daily at 02:00" in the page's language (the report keeps the English)."""
    if row.get("every_seconds") is not None:
        return _("every %(seconds)s s") % {"seconds": row["every_seconds"]}
    if row.get("daily_at"):
        return _("daily at %(time)s") % {"time": row["daily_at"]}
    return row.get("schedule", "")


def job_process_detail(name: str, detail: dict) -> dict:
    """A worker's or scheduler's card: its state and mode in words of the page's language."""
    if name not in ("worker", "scheduler"):
        return detail
    shown = dict(detail)
    if "status" in shown:
        shown["status"] = PROCESS_STATE_LABELS.get(shown["status"], shown["status"])
    if "mode" in shown:
        shown["mode"] = IN_PROCESS
    if "message" in shown and detail.get("status") == "down":
        shown["message"] = _("down: last heartbeat %(seconds)s s ago") % {
            "seconds": detail.get("seconds_since")
        }
    elif "message" in shown and detail.get("status") == "never_seen":
        shown["message"] = _("none has run yet")
    return shown


def _when(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def jobs_section(checks: dict) -> dict:
    """The background jobs' part of the page, from the worker and scheduler checks' details."""
    worker = checks.get("worker", {}).get("detail", {})
    scheduler = checks.get("scheduler", {}).get("detail", {})
    return {
        "in_process": "mode" in worker,
        "queue": worker.get("queue", {}),
        "workers": worker.get("processes", []),
        "schedule": [
            {
                **row,
                "state": labelled(SCHEDULE_STATES.get(row["status"], "ok")),
                "status_label": JOB_STATE_LABELS.get(row["status"], row["status"]),
                "schedule": schedule_text(row),
                "last_run": _when(row["last_run"]),
                "last_success": _when(row["last_success"]),
            }
            for row in scheduler.get("schedule", [])
        ],
    }


def dashboard_context() -> dict:
    report = health_report()
    per_minute = metrics.window(60)
    points = metrics.series(per_minute, 60)
    total = metrics.totals(per_minute)
    rows = metrics.endpoint_rows(per_minute)
    slow = [
        {**r, "at": datetime.fromtimestamp(r["time"], UTC)}
        for r in metrics.recorder.recent_requests(1000)
        if r["duration_ms"] > settings.SLOW_REQUEST_WARNING_MS
    ][:20]
    return {
        "overall": labelled(report["status"]),
        "report": report,
        "checks": [
            {
                "name": name,
                "label": CHECK_LABELS.get(name, name),
                "state": labelled(check["status"]),
                **check,
                # Lists and tables (the worker's processes, the schedule) have their own section.
                "detail": job_process_detail(
                    name,
                    {
                        key: value
                        for key, value in check["detail"].items()
                        # Nothing to show for a detail that has no value yet ("None" is not a
                        # word of the page's language).
                        if value is not None and not isinstance(value, list | dict)
                    },
                ),
            }
            for name, check in report["checks"].items()
        ],
        "jobs": jobs_section(report["checks"]),
        "summary": {**total.summary(), "requests_per_minute": round(total.count / 60, 2)},
        "store": metrics.store_name(),
        "rate_chart": chart([p["requests"] for p in points], _("requests/min")),
        "p95_chart": chart([p["p95_ms"] for p in points], "ms"),
        "slowest": rows[:10],
        "erroring": sorted(
            (r for r in rows if r["error_rate"] > 0), key=lambda r: r["error_rate"], reverse=True
        )[:10],
        "redis": redis_report(),
        "slow_requests": slow,
        "slow_threshold_ms": settings.SLOW_REQUEST_WARNING_MS,
        "alerts": alerts.recent_incidents(),
        "alert_channels": {
            "email": ", ".join(settings.ALERT_EMAILS) or "the users with the admin role",
            "webhook": bool(settings.ALERT_WEBHOOK_URL),
            "evaluation": settings.ALERT_EVALUATION,
            "enabled": settings.ALERTS_ENABLED,
        },
    }
