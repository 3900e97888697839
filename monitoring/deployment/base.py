"""The shape of a deployment check: a small unit with one `run()` that answers pass, warn or fail.

A check is a function of the run's `Context` registered with `@check(...)`. It returns one
`Result`, or a list of `Finding`s when one check reports several things (Django's deploy checks:
one finding per system-check message). An exception inside a check is reported as a failure of
that check, never as a crash of the whole command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db import DatabaseError

PASS, WARN, FAIL = "pass", "warn", "fail"
STATUSES = (PASS, WARN, FAIL)
SEVERITIES = ("critical", "high", "medium", "low")
CATEGORIES = ("environment", "security", "database", "cache", "application", "live")


@dataclass(frozen=True)
class Result:
    status: str
    detail: str
    fix: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


def passed(detail: str) -> Result:
    return Result(PASS, detail)


def warned(detail: str, fix: str) -> Result:
    return Result(WARN, detail, fix)


def failed(detail: str, fix: str) -> Result:
    return Result(FAIL, detail, fix)


@dataclass
class Context:
    """What a run knows besides the settings: the live URL, its token, the network timeout."""

    url: str = ""
    token: str = ""
    timeout: float = 5.0
    # Shared between the live checks so that each endpoint is fetched once per run.
    cache: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One reported line: a check's result with the check's identity."""

    id: str
    category: str
    title: str
    severity: str
    status: str
    detail: str
    fix: str = ""
    duration_ms: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    id: str
    category: str
    title: str
    severity: str
    func: Callable[[Context], Result | list[Finding]]

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: unknown severity {self.severity!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.id}: unknown category {self.category!r}")

    def finding(self, result: Result, duration_ms: float = 0.0) -> Finding:
        return Finding(
            id=self.id,
            category=self.category,
            title=self.title,
            severity=self.severity,
            status=result.status,
            detail=result.detail,
            fix=result.fix,
            duration_ms=round(duration_ms, 1),
        )

    def run(self, context: Context | None = None) -> list[Finding]:
        context = context or Context()
        started = time.perf_counter()
        try:
            outcome = self.func(context)
        except DatabaseError as error:
            outcome = failed(
                f"cannot read the database: {type(error).__name__}: {error}"[:300],
                "Check that the database answers and run python manage.py migrate --noinput.",
            )
        except Exception as error:  # a broken check is a failed check, not a crashed command
            outcome = failed(
                f"the check itself failed: {type(error).__name__}: {error}"[:300],
                "Investigate the error above; the setting or service it touches is likely wrong.",
            )
        duration_ms = (time.perf_counter() - started) * 1000
        if isinstance(outcome, Result):
            return [self.finding(outcome, duration_ms)]
        return list(outcome)

    def result(self, context: Context | None = None) -> Result:
        """The single result of a single-result check (for tests and callers)."""
        (finding,) = self.run(context)
        return Result(finding.status, finding.detail, finding.fix)


REGISTRY: dict[str, Check] = {}


def check(id: str, *, category: str, title: str, severity: str):
    """Register the decorated function as a check."""

    def register(func):
        registered = Check(id=id, category=category, title=title, severity=severity, func=func)
        if id in REGISTRY:
            raise ValueError(f"check {id!r} registered twice")
        REGISTRY[id] = registered
        return registered

    return register
