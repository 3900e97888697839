"""The readiness score (0-100) and verdict.

Each finding has a weight by severity: critical 10, high 5, medium 3, low 1. A failed finding
loses its whole weight, a warning a quarter of it, a pass nothing:

    score = round(100 * (1 - lost / total weight))

So one failed critical check (10) costs as much as 40 low warnings (0.25 each). The verdict:
- "ready": score >= 90 and no failed critical check;
- "not ready": any failed critical check, or score < 70;
- "needs attention": anything between.
"""

from dataclasses import dataclass

from monitoring.deployment.base import FAIL, WARN, Finding

SEVERITY_WEIGHTS = {"critical": 10, "high": 5, "medium": 3, "low": 1}
WARN_SHARE = 0.25
READY_AT = 90
NOT_READY_BELOW = 70
READY, NEEDS_ATTENTION, NOT_READY = "ready", "needs attention", "not ready"


@dataclass(frozen=True)
class Score:
    value: int
    verdict: str
    failed_critical: list[str]

    def as_dict(self) -> dict:
        return {
            "score": self.value,
            "verdict": self.verdict,
            "failed_critical": self.failed_critical,
        }


def lost_weight(finding: Finding) -> float:
    weight = SEVERITY_WEIGHTS[finding.severity]
    if finding.status == FAIL:
        return weight
    if finding.status == WARN:
        return weight * WARN_SHARE
    return 0.0


def score(findings: list[Finding]) -> Score:
    total = sum(SEVERITY_WEIGHTS[f.severity] for f in findings)
    lost = sum(lost_weight(f) for f in findings)
    value = 100 if total == 0 else round(100 * (1 - lost / total))
    failed_critical = [f.id for f in findings if f.status == FAIL and f.severity == "critical"]
    if failed_critical or value < NOT_READY_BELOW:
        verdict = NOT_READY
    elif value >= READY_AT:
        verdict = READY
    else:
        verdict = NEEDS_ATTENTION
    return Score(value=value, verdict=verdict, failed_critical=failed_critical)
