"""Report reads go to the read replica (DATABASE_REPLICA_URL) when there is one; writes never.

Code that only reads and may be a few seconds behind -- reports, exports, dashboards -- runs
inside `reads_from_replica()` (a context manager and a decorator). Everything else, and every
write even inside it, uses the primary ("default"). Without DATABASE_REPLICA_URL the router
sends everything to the primary, so the same code runs on one database.
"""

from contextlib import ContextDecorator
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
PRIMARY = "default"

_use_replica: ContextVar[bool] = ContextVar("vevurn_use_replica", default=False)


class reads_from_replica(ContextDecorator):  # noqa: N801 - used like a function
    """Reads in this block go to the replica; nests, and works per thread and per task."""

    def _recreate_cm(self):
        # As a decorator: a fresh instance per call, so that concurrent requests in threads do
        # not share one token.
        return type(self)()

    def __enter__(self):
        self._token = _use_replica.set(True)
        return self

    def __exit__(self, *exc_info):
        _use_replica.reset(self._token)
        return False


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _use_replica.get() and replica_configured():
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: objects read from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema through replication, never by migrate.
        return db == PRIMARY
