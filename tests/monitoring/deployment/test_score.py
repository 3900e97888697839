import pytest

from monitoring.deployment.base import Finding
from monitoring.deployment.score import NEEDS_ATTENTION, NOT_READY, READY, score


def finding(status: str, severity: str, id: str = "x") -> Finding:
    return Finding(
        id=id, category="environment", title=id, severity=severity, status=status, detail=""
    )


def test_everything_passing_scores_100_and_is_ready():
    result = score([finding("pass", "critical"), finding("pass", "low")])
    assert (result.value, result.verdict, result.failed_critical) == (100, READY, [])


def test_a_failed_critical_costs_far_more_than_a_warning():
    base = [finding("pass", "critical")] * 9 + [finding("pass", "low")]  # weight 91
    warned = score(base[:-1] + [finding("warn", "low")])
    failed = score([finding("fail", "critical", "env.debug")] + base[1:])
    assert warned.value == 100  # 0.25 of 91 lost: rounds to 100
    assert failed.value == 89  # 10 of 91 lost
    assert (failed.verdict, failed.failed_critical) == (NOT_READY, ["env.debug"])


def test_a_warning_loses_a_quarter_of_its_weight():
    result = score([finding("warn", "high"), finding("pass", "high")])  # 1.25 of 10 lost
    assert (result.value, result.verdict) == (88, NEEDS_ATTENTION)


@pytest.mark.parametrize(
    ("findings", "value", "verdict"),
    [
        ([finding("fail", "high")] + [finding("pass", "high")] * 9, 90, READY),
        ([finding("fail", "high")] + [finding("pass", "high")] * 4, 80, NEEDS_ATTENTION),
        ([finding("fail", "high")] * 2 + [finding("pass", "high")] * 3, 60, NOT_READY),
        ([], 100, READY),
    ],
)
def test_verdict_thresholds(findings, value, verdict):
    result = score(findings)
    assert (result.value, result.verdict) == (value, verdict)
