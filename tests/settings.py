"""Settings for the test suite: the project's settings in development mode.

DEBUG=1 only selects the development defaults (dev secret key, plain static storage, no HTTPS
redirect); Django runs the tests themselves with DEBUG off. Variables set in the environment win,
so CI points the same suite at PostgreSQL and Redis with DATABASE_URL and REDIS_URL.
"""

import os

os.environ.setdefault("DEBUG", "1")

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
