"""Runs the deployment checks: the project's check modules (imported here, which registers
them) and whatever else registered with `base.check` (the shop's own, pos/monitoring.py).
The check modules import `base`, never this module: one direction."""

from monitoring.deployment import (  # noqa: F401 - importing registers the checks
    application,
    cache,
    database,
    environment,
    jobs,
    live,
    security,
)
from monitoring.deployment.base import REGISTRY, Check, Context, Finding


def all_checks() -> list[Check]:
    return list(REGISTRY.values())


def run_checks(
    *, context: Context | None = None, categories: list[str] | None = None
) -> list[Finding]:
    """Run every registered check (of `categories`, if given); live checks need a URL."""
    context = context or Context()
    findings: list[Finding] = []
    for registered in all_checks():
        if categories and registered.category not in categories:
            continue
        if registered.category == "live" and not context.url:
            continue
        findings.extend(registered.run(context))
    return findings
