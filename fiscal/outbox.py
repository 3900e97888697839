"""Putting documents in the fiscal outbox, inside the transaction that creates them.

Registered with pos.hooks (fiscal/apps.py): checkout calls `enqueue_sale`, refunds
`enqueue_refund`, stock movements `enqueue_stock`, each inside its own transaction. A sale costs
two statements: the device's invoice counter (one UPDATE ... RETURNING: lock, increment and read
in one) and the outbox row. The number is consumed only if the sale commits, so the device's
invoice numbers have no gaps; the row lock on the device row is held to the commit, so the
numbers follow the commit order of the sales (lock order: pos.services.locks, after the
sequence rows and before the journal's head).

With FISCAL_BACKEND=none, or no initialised device, nothing is written: the shop sells as
before (check_deployment says why no receipt is signed).
"""

import logging

from django.conf import settings
from django.db import connection

from fiscal.documents import stock_type
from fiscal.models import Device, OutboxItem

logger = logging.getLogger("vevurn.fiscal")

# RRA's refund reason "Other" (code class 32), when none was chosen.
DEFAULT_REFUND_REASON = "13"


def enabled() -> bool:
    return settings.FISCAL_BACKEND != "none"


def take_invoice_number() -> tuple[int, int] | None:
    """(device id, next invoice number) of the active, initialised device, in one statement;
    None without one."""
    table = connection.ops.quote_name(Device._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_invoice_number = last_invoice_number + 1 "  # noqa: S608 - the model's own names
            "WHERE is_active AND initialised_at IS NOT NULL "
            "RETURNING id, last_invoice_number"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def enqueue_sale(sale, lines=None, payments=None) -> OutboxItem | None:
    if not enabled():
        return None
    taken = take_invoice_number()
    if taken is None:
        logger.warning("Sale %s not queued for signing: no initialised fiscal device", sale.number)
        return None
    device_id, number = taken
    return OutboxItem.objects.create(
        device_id=device_id,
        kind=OutboxItem.Kind.SALE,
        invoice_number=number,
        sale=sale,
        created_at=sale.created_at,
    )


def enqueue_refund(refund, lines=None, *, reason_code: str = "") -> OutboxItem | None:
    if not enabled():
        return None
    taken = take_invoice_number()
    if taken is None:
        logger.warning("Refund %s not queued for signing: no fiscal device", refund.number)
        return None
    device_id, number = taken
    return OutboxItem.objects.create(
        device_id=device_id,
        kind=OutboxItem.Kind.REFUND,
        invoice_number=number,
        refund=refund,
        refund_reason_code=reason_code or DEFAULT_REFUND_REASON,
        created_at=refund.created_at,
    )


def enqueue_stock(movements) -> list[OutboxItem]:
    """Stock in/out other than sales and refunds (received goods, adjustments, counts, damage):
    one row per RRA stock type."""
    if not enabled() or not movements:
        return []
    device = Device.objects.filter(is_active=True, initialised_at__isnull=False).first()
    if device is None:
        return []
    groups: dict[str, list[int]] = {}
    for movement in movements:
        groups.setdefault(stock_type(movement.kind, movement.quantity), []).append(movement.pk)
    return [
        OutboxItem.objects.create(
            device=device, kind=OutboxItem.Kind.STOCK, stock_type_code=code, movement_ids=ids
        )
        for code, ids in sorted(groups.items())
    ]
