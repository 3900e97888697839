import pytest
from django.db import connection

from pos.models import JournalEntry


@pytest.fixture
def raw_sql(db):
    """Run SQL as someone with database access would, past the models. On PostgreSQL the
    journal's and closings' append-only triggers are dropped first (inside the test's
    transaction, so they come back after it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname, relname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
                "WHERE tgname LIKE 'pgtrigger_%%append_only%%'"
            )
            for name, table in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}" ON "{table}"')

    def run(sql: str, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


@pytest.fixture
def entries(db):
    """The journal's entries of one chain as (seq, kind, reference), in order."""

    def of(chain: str):
        return list(
            JournalEntry.objects.filter(chain=chain)
            .order_by("seq")
            .values_list("seq", "kind", "reference")
        )

    return of
