"""Gap-free document numbers: taken under a row lock, consumed only if the transaction commits."""

from django.db import IntegrityError, transaction

from pos.models import Sequence


def next_number(name: str) -> int:
    """The next number of sequence `name`; call inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that uses the number.")
    sequence = Sequence.objects.select_for_update().filter(name=name).first()
    if sequence is None:
        try:
            with transaction.atomic():
                Sequence.objects.create(name=name)
        except IntegrityError:
            pass  # created concurrently; lock it below
        sequence = Sequence.objects.select_for_update().get(name=name)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number
