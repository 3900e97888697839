"""Test settings for app servers the deployment tests start (gunicorn subprocesses).

The project's test settings plus a URLconf with test-only views (a slow write); production URLs
never include them.
"""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.deploy.urls"
