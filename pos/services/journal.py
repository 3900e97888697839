"""Appending to the journal: the last step of every service that moves money or stock.

`append(event)` runs inside the event's own transaction, after every row of the event exists
(the payload is built from those rows: a sale's change line is in it), and takes the lock on the
chain's head last of all the locks the service takes. Concurrent appends to one chain wait on
that lock, so each chain is one line: seq 1, 2, 3, ... without a gap, each entry hashing the one
before it. An append that rolls back with its transaction leaves no entry and no number used.

On PostgreSQL one statement locks the head, advances it and inserts the entry: the head's UPDATE
computes the new hash in SQL, `sha256(last_hash || payload)`, from the head row as it is once
the lock is granted (a waiting UPDATE re-reads the row another transaction just committed), so
a checkout gains exactly one statement. SQLite (one writer at a time: transactions begin
IMMEDIATE) reads the head, hashes in Python and writes the entry and the head.
"""

import functools

from django.db import connection, transaction
from django.utils import timezone

from pos.journal import events
from pos.journal.canonical import GENESIS, datetime_text, entry_hash
from pos.journal.events import Event
from pos.models import ChainHead, JournalEntry
from pos.services import rows

_APPEND_SQL = """
WITH event AS (SELECT %s::text AS chain, %s::text AS payload),
head AS (
    UPDATE {head}
    SET last_seq = last_seq + 1,
        prev_hash = last_hash,
        last_hash = encode(sha256(convert_to(last_hash || event.payload, 'UTF8')), 'hex')
    FROM event WHERE {head}.chain = event.chain
    RETURNING last_seq, {head}.prev_hash, last_hash
)
INSERT INTO {entry} (chain, seq, kind, reference, business_day, created_at, payload,
                     prev_hash, hash)
SELECT event.chain, last_seq, %s, %s, %s::date, %s::timestamptz, event.payload, prev_hash,
       last_hash
FROM head, event
RETURNING seq
"""


def append(event: Event) -> int:
    """Append `event` to its chain; returns its sequence number. Call it last, in the event's
    transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("journal.append must run inside the transaction of its event.")
    payload = event.payload()
    if connection.vendor == "postgresql":
        seq = _append_postgresql(event, payload)
        if seq is None:  # the chain's first entry: create its head, then append
            _create_head(event.chain)
            seq = _append_postgresql(event, payload)
        return seq
    return _append_in_python(event, payload)


def append_stock(kind: str, movements, *, reference: str | None = None) -> None:
    """Append a back-office stock event (`kind`: an adjustment, a count or goods received);
    named by its first movement unless `reference` names its document."""
    if reference is None:
        reference = events.reference("pos.stockmovement", movements[0].pk)
    append(events.stock_event(kind, reference, movements, at=timezone.now()))


@functools.cache
def _append_sql() -> str:
    return _APPEND_SQL.format(
        head=connection.ops.quote_name(ChainHead._meta.db_table),
        entry=connection.ops.quote_name(JournalEntry._meta.db_table),
    )


def _append_postgresql(event: Event, payload: str) -> int | None:
    sql = _append_sql()
    with rows.cursor() as cursor:
        cursor.execute(
            sql,
            # The payload (about 1 kB for a sale) is sent once; the day and time as their text
            # (what the payload holds), cheaper to send than date and datetime objects.
            [
                event.chain,
                payload,
                event.kind,
                event.reference,
                event.day.isoformat(),
                datetime_text(event.at),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _append_in_python(event: Event, payload: str) -> int:
    head = ChainHead.objects.filter(chain=event.chain).values_list("last_seq", "last_hash").first()
    if head is None:
        _create_head(event.chain)
        head = (0, GENESIS)
    seq, previous = head[0] + 1, head[1]
    digest = entry_hash(previous, payload)
    JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                chain=event.chain,
                seq=seq,
                kind=event.kind,
                reference=event.reference,
                business_day=event.day,
                created_at=event.at,
                payload=payload,
                prev_hash=previous,
                hash=digest,
            )
        ]
    )
    ChainHead.objects.filter(chain=event.chain).update(
        last_seq=seq, prev_hash=previous, last_hash=digest
    )
    return seq


def _create_head(chain: str) -> None:
    # A concurrent first append may create it too: the loser's insert is ignored and both then
    # queue on the same row.
    ChainHead.objects.bulk_create(
        [ChainHead(chain=chain, last_seq=0, last_hash=GENESIS)], ignore_conflicts=True
    )
