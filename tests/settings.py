"""Settings for the test suite: the project's settings in development mode.

DEBUG=1 only selects the development defaults (dev secret key, plain static storage, no HTTPS
redirect); Django runs the tests themselves with DEBUG off. Variables set in the environment win,
so CI points the same suite at PostgreSQL and Redis with DATABASE_URL and REDIS_URL.
"""

import os

os.environ.setdefault("DEBUG", "1")


def _worker_redis_url(url: str, worker: str) -> str:
    """Under pytest-xdist (`-n 2`), worker gwN uses Redis db base+N: each test clears its cache
    (tests/conftest.py), which must not empty the counters of a test running in the other
    worker. pytest-django gives each worker its own test database the same way (test_NAME_gwN).
    Set in the environment, so that the servers a test starts share the worker's db."""
    base, _, db = url.rstrip("/").rpartition("/")
    if not (worker.startswith("gw") and worker[2:].isdigit() and db.isdigit()):
        return url
    return f"{base}/{int(db) + int(worker[2:])}"


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
# A subprocess that inherits the worker's environment (and so its REDIS_URL) is not moved twice.
if os.environ.get("REDIS_URL") and _worker and os.environ.get("VEVURN_TEST_REDIS_FOR") != _worker:
    os.environ["REDIS_URL"] = _worker_redis_url(os.environ["REDIS_URL"], _worker)
    os.environ["VEVURN_TEST_REDIS_FOR"] = _worker

from vevurn.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests flush request metrics explicitly (monitoring.metrics.recorder.flush()), so that no
# background flush lands in another test's cache.
METRICS_FLUSH_INTERVAL_SECONDS = 3600
# Jobs run at once, in the test's own thread and transaction (tests of the worker itself use
# the database backend; see tests/jobs).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Two-factor sign-in is required of admins in production; the suite's admins sign in with a
# password alone (force_login), and the tests of two-factor sign-in turn the rule back on
# (tests/accounts/test_two_factor.py).
TWO_FACTOR_REQUIRED_ROLES = []
