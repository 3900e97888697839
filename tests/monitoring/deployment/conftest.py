import pytest

from monitoring.deployment.base import REGISTRY, Context
from monitoring.deployment.runner import all_checks

all_checks()  # import every check module so that REGISTRY is complete

STRONG_KEY = "k9$Tq2!vXz7@pLm4#wRb8^nYc3&hJd6*fGs1(eUa5)iOo0-QeZ_rWt+yUi=pAsDfG"


def run(check_id: str, context: Context | None = None):
    """The single result of the check named `check_id`."""
    return REGISTRY[check_id].result(context)


@pytest.fixture
def production_env(monkeypatch):
    """The variables a production instance sets (values only need to be present)."""
    for name, value in {
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": "postgres://vevurn@db.internal:5432/vevurn",
        "ALLOWED_HOSTS": "pos.myshop.rw",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SENTRY_DSN": "https://key@127.0.0.1/1",
        "EMAIL_HOST": "smtp.myshop.rw",
        "CSRF_TRUSTED_ORIGINS": "https://pos.myshop.rw",
    }.items():
        monkeypatch.setenv(name, value)
