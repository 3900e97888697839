"""Settings for the `manage.py run_alerts` processes that tests/monitoring/test_alert_processes.py
starts: the test settings, with emails written to files the test can count."""

import os

from tests.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["ALERT_TEST_MAIL_DIR"]
