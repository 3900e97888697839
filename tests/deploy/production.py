"""Helpers to run the app in a subprocess with production settings (DEBUG off)."""

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_SECRET_KEY = "test-only-production-like-secret-key-0123456789-abcdefghijklmnop"


def production_env(**overrides) -> dict:
    """The environment of a production process: DEBUG off, a real key, JSON logs."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"}
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="vevurn.settings",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET_KEY,
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        ENV_FILE="/nonexistent/.env",
        PYTHONPATH=str(settings.BASE_DIR),
    )
    environ.update(overrides)
    return environ


def manage(*args, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
