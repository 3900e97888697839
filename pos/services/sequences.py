"""Gap-free document numbers: taken under a row lock, consumed only if the transaction commits."""

from django.db import transaction

from pos.services import locks


def next_number(name: str) -> int:
    """The next number of sequence `name`; call inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that uses the number.")
    sequence = locks.sequence(name)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number
