"""Canonical JSON and the chain's hash: the one definition the writer and the checker share.

Canonical form: keys sorted, no whitespace, UTF-8, strings escaped as JSON requires and no more
(what orjson writes, the same as JavaScript's JSON.stringify for these values). Values are
strings, whole numbers, booleans, null, lists and objects only:
- a Decimal is written as a string with exactly two places ("12000.00"): every amount and rate
  the journal holds is stored with two places, so a value read back from the database gives the
  same text as the value that was written;
- a datetime as UTC ISO 8601 with microseconds ("2026-01-31T08:15:00.000000+00:00"),
  a date as ISO 8601 ("2026-01-31");
- never a float (it has no fixed text): the builders in pos.journal.events pass Decimals.

entry_hash(previous, payload) = hex(sha256(previous + payload)), both as UTF-8; the first entry of
a chain follows GENESIS. PostgreSQL computes the same function in SQL when it appends (see
pos.services.journal); the checker recomputes it here.
"""

import datetime
import hashlib
from decimal import Decimal

import orjson

GENESIS = "0" * 64
TWO_PLACES = Decimal("0.01")
# Keys may be str enums (Tender.CASH): written as their value, the string read back later.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _default(value):
    if isinstance(value, Decimal):
        fixed = value.quantize(TWO_PLACES)
        if fixed != value:
            raise TypeError(f"{value} has more than two decimal places")
        return f"{fixed:f}"
    if isinstance(value, datetime.datetime):
        return datetime_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical form")


def datetime_text(value: datetime.datetime) -> str:
    """An aware datetime as the journal writes it: UTC, ISO 8601, microseconds."""
    if value.tzinfo is None:
        raise TypeError("naive datetime in a journal payload")
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def canonical(value) -> str:
    """The canonical JSON text of `value` (see the module docstring)."""
    return orjson.dumps(value, default=_default, option=_OPTIONS).decode()


def entry_hash(previous: str, payload: str) -> str:
    return hashlib.sha256((previous + payload).encode()).hexdigest()
