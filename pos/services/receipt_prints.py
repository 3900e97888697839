"""Receipt prints: the first is the original, every later one a copy, journalled as a reprint."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pos.journal import events
from pos.models import Sale
from pos.services import journal, locks


def record_receipt_print(*, sale: Sale, user) -> bool:
    """Count one print of `sale`'s receipt; return True if it is a copy (journalled)."""
    with transaction.atomic():
        locked = locks.sale(sale.pk)
        copy = locked.receipt_prints
        Sale.objects.filter(pk=sale.pk).update(receipt_prints=F("receipt_prints") + 1)
        if copy:
            journal.append(
                events.reprint_event(locked, user_id=user.pk, copy=copy, at=timezone.now())
            )
    return bool(copy)
