"""Test settings for app servers the deployment tests start (gunicorn subprocesses).

The project's test settings plus a URLconf with test-only views (a slow write); production URLs
never include them.
"""

import os

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.deploy.urls"
# The servers flush request metrics on their own, as in production, at the interval the test
# chooses (tests.settings turns the periodic flush off for the test process itself).
METRICS_FLUSH_INTERVAL_SECONDS = float(os.environ.get("METRICS_FLUSH_INTERVAL_SECONDS", "3600"))
