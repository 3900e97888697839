"""Settings for the app servers tests/reliability starts: the deployment-test settings plus the
test-only hold inside checkout (tests/reliability/hooks.py)."""

from tests.deploy_settings import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.urls"
