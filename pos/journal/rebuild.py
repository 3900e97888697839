"""The checker's side of pos.journal.events: each event rebuilt from the rows as they are now.

`rebuild(kind, ids)` reads the rows of many events of one kind in a fixed number of queries and
returns {id: Event} (an id whose row is gone is missing from the answer). Kinds that have no row
of their own (a reprint, a drawer opened) are checked by their hash alone.
"""

from collections import defaultdict

from pos.journal import events
from pos.models import JournalKind, Payment, Refund, RefundLine, Sale, SaleLine, Shift

SALE_ROW = ("id", *events.SALE_FIELDS, "created_at", "business_day")
VOID_ROW = ("id", "number", "register_id", "total", "voided_at", "voided_by_id", "void_reason")


def _grouped(rows, key: str) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


def _sales(ids: list[int]) -> dict:
    sales = Sale.objects.filter(pk__in=ids).values(*SALE_ROW)
    lines = _grouped(
        SaleLine.objects.filter(sale_id__in=ids)
        .order_by("sale_id", "id")
        .values("sale_id", *events.SALE_LINE_FIELDS),
        "sale_id",
    )
    payments = _grouped(
        Payment.objects.filter(sale_id__in=ids)
        .order_by("id")
        .values("sale_id", "created_at", *events.PAYMENT_FIELDS),
        "sale_id",
    )
    return {
        sale["id"]: events.sale_event(
            sale,
            lines.get(sale["id"], []),
            # The sale's own payments carry its time; a void's carry the void's.
            [p for p in payments.get(sale["id"], []) if p["created_at"] == sale["created_at"]],
        )
        for sale in sales
    }


def _voids(ids: list[int]) -> dict:
    sales = Sale.objects.filter(pk__in=ids).values(*VOID_ROW)
    lines = _grouped(
        SaleLine.objects.filter(sale_id__in=ids).values("sale_id", "tax_rate", "total", "tax"),
        "sale_id",
    )
    payments = _grouped(
        Payment.objects.filter(sale_id__in=ids)
        .order_by("id")
        .values("sale_id", "created_at", *events.PAYMENT_FIELDS),
        "sale_id",
    )
    return {
        sale["id"]: events.void_event(
            sale,
            lines.get(sale["id"], []),
            [p for p in payments.get(sale["id"], []) if p["created_at"] == sale["voided_at"]],
        )
        for sale in sales
        if sale["voided_at"] is not None  # no longer voided: reported as missing
    }


def _refunds(ids: list[int]) -> dict:
    refunds = Refund.objects.filter(pk__in=ids).values(
        "id", *events.REFUND_FIELDS, "created_at", "shift__register_id"
    )
    lines = _grouped(
        RefundLine.objects.filter(refund_id__in=ids)
        .order_by("refund_id", "id")
        .values("refund_id", *events.REFUND_LINE_FIELDS),
        "refund_id",
    )
    payments = _grouped(
        Payment.objects.filter(refund_id__in=ids)
        .order_by("id")
        .values("refund_id", *events.PAYMENT_FIELDS),
        "refund_id",
    )
    return {
        refund["id"]: events.refund_event(
            refund,
            refund["shift__register_id"],
            lines.get(refund["id"], []),
            payments.get(refund["id"], []),
        )
        for refund in refunds
    }


def _shifts_opened(ids: list[int]) -> dict:
    shifts = Shift.objects.filter(pk__in=ids).values(
        "id", "register_id", "cashier_id", "opening_float", "opened_at"
    )
    return {shift["id"]: events.shift_opened_event(shift) for shift in shifts}


# kind -> (the reference's label, the rebuilder)
REBUILDERS = {
    JournalKind.SALE: ("pos.sale", _sales),
    JournalKind.VOID: ("pos.sale", _voids),
    JournalKind.REFUND: ("pos.refund", _refunds),
    JournalKind.SHIFT_OPENED: ("pos.shift", _shifts_opened),
}


def rebuild(kind: str, ids: list[int]) -> dict:
    return REBUILDERS[kind][1](ids)
