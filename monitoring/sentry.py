"""Sentry error reporting, on only when SENTRY_DSN is set.

System errors are captured explicitly by monitoring.errors.report_system_error (the
"vevurn.errors" logger is ignored so they are not sent twice); other error-level log lines
(Django, vevurn.unhandled) reach Sentry through its logging integration. Domain errors are
operational and never sent.
"""

import subprocess  # noqa: S404 - a fixed git command, no user input
from collections.abc import Callable
from pathlib import Path

import sentry_sdk
from sentry_sdk.integrations.logging import ignore_logger

from core.errors import DomainError


def git_revision(base_dir: Path) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607
            cwd=base_dir,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def drop_domain_errors(event, hint):
    exc_info = hint.get("exc_info") if hint else None
    if exc_info and isinstance(exc_info[1], DomainError):
        return None
    return event


def init_sentry(
    *,
    dsn: str,
    environment: str,
    release: str | Callable[[], str | None] | None,
    traces_sample_rate: float = 0.0,
) -> bool:
    """Initialise the Sentry SDK; does nothing (returns False) without a DSN.

    `release` may be a callable, so the git revision is only looked up when Sentry is on.
    """
    if not dsn:
        return False
    if callable(release):
        release = release()
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        # No default PII: sentry-sdk 2.75 deprecates passing send_default_pii (a warning) and
        # treats it unset as False -- no user names, emails, IPs or cookies; the event scrubber
        # stays on. We add only the user id ourselves (middleware).
        before_send=drop_domain_errors,
    )
    ignore_logger("vevurn.errors")
    return True
