import pytest

from tests.pos.conftest import register, shift  # noqa: F401
from tests.support.fixtures import momo_simulator  # noqa: F401

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def database_queue(settings):
    """Jobs go to the database queue (as in production) instead of running at once."""
    settings.TASKS = DATABASE_QUEUE
    return settings
