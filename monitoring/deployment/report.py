"""The report: text grouped by category, failing checks first with their fix; or JSON."""

import json

from monitoring.deployment.base import CATEGORIES, FAIL, PASS, SEVERITIES, WARN, Finding
from monitoring.deployment.score import Score

STATUS_ORDER = {FAIL: 0, WARN: 1, PASS: 2}
MARKS = {PASS: "PASS", WARN: "WARN", FAIL: "FAIL"}
VERDICT_TEXT = {
    "ready": "READY for production",
    "needs attention": "NEEDS ATTENTION before production",
    "not ready": "NOT READY for production",
}


def ordered(findings: list[Finding]) -> list[Finding]:
    """Failures first, then warnings, then passes; by severity within each."""
    return sorted(
        findings, key=lambda f: (STATUS_ORDER[f.status], SEVERITIES.index(f.severity), f.id)
    )


def counts(findings: list[Finding]) -> dict[str, int]:
    return {status: sum(1 for f in findings if f.status == status) for status in MARKS}


def as_text(findings: list[Finding], result: Score, *, style=None) -> str:
    def mark(status: str) -> str:
        text = f"[{MARKS[status]}]"
        if style is None:
            return text
        return {PASS: style.SUCCESS, WARN: style.WARNING, FAIL: style.ERROR}[status](text)

    lines = ["Deployment readiness", ""]
    for category in sorted(
        CATEGORIES,
        key=lambda c: min((STATUS_ORDER[f.status] for f in findings if f.category == c), default=3),
    ):
        in_category = ordered([f for f in findings if f.category == category])
        if not in_category:
            continue
        tally = counts(in_category)
        lines.append(
            f"{category.capitalize()} ({tally[PASS]} passed, {tally[WARN]} warnings, "
            f"{tally[FAIL]} failed)"
        )
        for finding in in_category:
            lines.append(
                f"  {mark(finding.status)} {finding.title} [{finding.severity}]: {finding.detail}"
            )
            if finding.status != PASS and finding.fix:
                lines.append(f"         fix: {finding.fix}")
        lines.append("")
    tally = counts(findings)
    lines.append(
        f"Score: {result.value}/100 - {VERDICT_TEXT[result.verdict]} "
        f"({tally[PASS]} passed, {tally[WARN]} warnings, {tally[FAIL]} failed)"
    )
    if result.failed_critical:
        lines.append(f"Failed critical checks: {', '.join(result.failed_critical)}")
    return "\n".join(lines)


def as_json(findings: list[Finding], result: Score) -> str:
    return json.dumps(
        {
            **result.as_dict(),
            "summary": counts(findings),
            "checks": [f.as_dict() for f in ordered(findings)],
        },
        indent=2,
    )
