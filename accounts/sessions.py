"""Django's database sessions, an existing session saved in one statement.

Set as SESSION_ENGINE. The same table, the same data and the same errors as
`django.contrib.sessions.backends.db`, on every signed-in request:
- the session is read by a plain statement (the ORM's building of Django's `get` cost more
  CPU than the round trip);
- a session that exists is saved by its one UPDATE: Django wraps it in a transaction of its own
  (BEGIN, UPDATE, COMMIT: three round trips on every till request that changes the cart), where
  the UPDATE alone is already atomic. Creating a session, and saving inside a transaction
  someone else opened, stay Django's own.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, IntegrityError, connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        """The unexpired session under the key (its data: all `load` reads), or None."""
        connection = connections[router.db_for_read(self.model)]
        quote, meta = connection.ops.quote_name, self.model._meta
        column = {field.name: quote(field.column) for field in meta.concrete_fields}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column['session_data']} FROM {quote(meta.db_table)} "  # noqa: S608 - the model's own names
                f"WHERE {column['session_key']} = %s AND {column['expire_date']} > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=row[0])

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
