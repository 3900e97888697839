"""Django's database sessions, an existing session saved in one statement.

Set as SESSION_ENGINE. The same table, the same data and the same errors as
`django.contrib.sessions.backends.db`; only the save of a session that exists changes: Django
wraps its one UPDATE in a transaction of its own (BEGIN, UPDATE, COMMIT: three round trips on
every till request that changes the cart), where the UPDATE alone is already atomic. Creating
a session, and saving inside a transaction someone else opened, stay Django's own.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, IntegrityError, connections, router


class SessionStore(db.SessionStore):
    def save(self, must_create=False):
        if must_create or self.session_key is None:
            return super().save(must_create)
        session = self.create_model_instance(self._get_session())
        using = router.db_for_write(self.model, instance=session)
        if connections[using].in_atomic_block:
            return super().save(must_create)
        try:
            session.save(force_update=True, using=using)
        except IntegrityError:
            raise
        except DatabaseError as error:  # no row: the session was deleted meanwhile
            raise UpdateError from error
