"""The checker's side of pos.journal.events: each event rebuilt from the rows as they are now.

`rebuild(kind, items)` takes the (reference, stored payload) of many entries of one kind, reads
their rows in a fixed number of queries and returns {reference: Event}; a reference whose row is
gone (or no longer is what the entry says, such as a sale no longer voided) is missing from the
answer. What no row keeps (who approved a discount, why an invoice was cancelled, the moment
stock was adjusted) is taken from the stored payload: the hash protects those. Kinds with no row
of their own (a reprint, a drawer opened) are checked by their hash alone.
"""

import datetime
import functools
from collections import defaultdict

import orjson
from django.db import connection
from psycopg.types.string import TextLoader

from pos.journal import events
from pos.models import (
    CashMovement,
    Invoice,
    JournalKind,
    LedgerEntry,
    Payment,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    Shift,
    StockMovement,
    Transfer,
    TransferLine,
    TransferStatus,
)

SALE_ROW = ("id", *events.SALE_FIELDS, "created_at", "business_day")
VOID_ROW = ("id", "number", "register_id", "total", "voided_at", "voided_by_id", "void_reason")


def _grouped(rows, key: str) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


def ids_of(items) -> dict[str, int]:
    """reference -> the row id it names ("pos.sale:12" -> 12); malformed ones are left out."""
    found = {}
    for ref, _stored in items:
        _label, _sep, pk = ref.partition(":")
        if pk.isdigit():
            found[ref] = int(pk)
    return found


def _at(stored: dict):
    return datetime.datetime.fromisoformat(stored["at"])


def _sales(items) -> dict:
    ids = sorted(set(ids_of(items).values()))
    if connection.vendor == "postgresql":
        sales, lines, payments = _sale_rows_postgresql(ids)
    else:
        sales = Sale.objects.filter(pk__in=ids).values(*SALE_ROW)
        lines = SaleLine.objects.filter(sale_id__in=ids).order_by("sale_id", "id")
        lines = lines.values("sale_id", *events.SALE_LINE_FIELDS)
        payments = Payment.objects.filter(sale_id__in=ids).order_by("id")
        payments = payments.values("sale_id", "created_at", *events.PAYMENT_FIELDS)
    lines, payments = _grouped(lines, "sale_id"), _grouped(payments, "sale_id")
    built = {}
    for sale in sales:
        pk = sale["id"]
        # The sale's own payments carry its time; a void's carry the void's.
        own = [p for p in payments.get(pk, []) if p["created_at"] == sale["created_at"]]
        built[events.reference("pos.sale", pk)] = events.sale_event(sale, lines.get(pk, []), own)
    return built


def _sale_rows_postgresql(ids: list[int]):
    """The sales' rows in three plain queries, amounts and times already in their canonical text
    (numeric(_, 2) as PostgreSQL writes it, "12000.00"; timestamps formatted in SQL), without
    the ORM's cost per row: a sale is the journal's most frequent event, and the check reads
    every one."""
    line_columns = ("sale_id", *events.SALE_LINE_FIELDS)
    payment_columns = ("sale_id", "created_at", *events.PAYMENT_FIELDS)
    return (
        _select(Sale, SALE_ROW, "id", ids, "id"),
        _select(SaleLine, line_columns, "sale_id", ids, "sale_id, id"),
        _select(Payment, payment_columns, "sale_id", ids, "id"),
    )


# A timestamp as the journal writes it (pos.journal.canonical.datetime_text), made by PostgreSQL.
CANONICAL_TIME = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


def _select(model, columns, key: str, ids: list[int], order: str) -> list[dict]:
    quote = connection.ops.quote_name
    selected = ", ".join(
        CANONICAL_TIME.format(quote(c)) if c == "created_at" else quote(c) for c in columns
    )
    sql = (
        f"SELECT {selected} FROM {quote(model._meta.db_table)} "  # noqa: S608 - the models' own names
        f"WHERE {quote(key)} = ANY(%s) ORDER BY {order}"
    )
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("numeric", TextLoader)
        cursor.execute(sql, [ids])
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _voids(items) -> dict:
    ids = ids_of(items)
    sales = Sale.objects.filter(pk__in=ids.values()).values(*VOID_ROW)
    lines = _grouped(
        SaleLine.objects.filter(sale_id__in=ids.values()).values(
            "sale_id", "tax_rate", "total", "tax"
        ),
        "sale_id",
    )
    payments = _grouped(
        Payment.objects.filter(sale_id__in=ids.values())
        .order_by("id")
        .values("sale_id", "created_at", *events.PAYMENT_FIELDS),
        "sale_id",
    )
    built = {}
    for sale in sales:
        if sale["voided_at"] is None:
            continue
        pk = sale["id"]
        reversals = [p for p in payments.get(pk, []) if p["created_at"] == sale["voided_at"]]
        built[events.reference("pos.sale", pk)] = events.void_event(
            sale, lines.get(pk, []), reversals
        )
    return built


def _refunds(items) -> dict:
    ids = list(ids_of(items).values())
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
        events.reference("pos.refund", r["id"]): events.refund_event(
            r, r["shift__register_id"], lines.get(r["id"], []), payments.get(r["id"], [])
        )
        for r in refunds
    }


def _price_overrides(items) -> dict:
    ids = list(ids_of(items).values())
    sales = Sale.objects.filter(pk__in=ids).values(*SALE_ROW)
    lines = _grouped(
        SaleLine.objects.filter(sale_id__in=ids)
        .order_by("sale_id", "id")
        .values("sale_id", "product_id", "quantity", "shelf_price", "unit_price"),
        "sale_id",
    )
    built = {}
    for sale in sales:
        event = events.price_override_event(sale, lines.get(sale["id"], []))
        if event is not None:
            built[event.reference] = event
    return built


def _discount_approvals(items) -> dict:
    stored = dict(items)
    ids = ids_of(items)
    sales = {s["id"]: s for s in Sale.objects.filter(pk__in=ids.values()).values(*SALE_ROW)}
    built = {}
    for ref, pk in ids.items():
        if pk in sales:
            data = stored[ref].get("data", {})
            built[ref] = events.discount_approval_event(
                sales[pk],
                approved_by_id=data.get("approved_by_id"),
                below_minimum=data.get("below_minimum_product_ids"),
            )
    return built


SHIFT_ROW = (
    "id",
    "register_id",
    "cashier_id",
    "opening_float",
    "opened_at",
    "ended_at",
    "ended_by_id",
    "closing_count",
    "expected",
    "recount",
    "closed_at",
    "closed_by_id",
    "over_short",
    "z_report",
)


def _shifts_opened(items) -> dict:
    shifts = Shift.objects.filter(pk__in=ids_of(items).values()).values(*SHIFT_ROW)
    return {events.reference("pos.shift", s["id"]): events.shift_opened_event(s) for s in shifts}


def _shifts_ended(items) -> dict:
    shifts = Shift.objects.filter(pk__in=ids_of(items).values(), ended_at__isnull=False)
    return {
        events.reference("pos.shift", s["id"]): events.shift_ended_event(s)
        for s in shifts.values(*SHIFT_ROW)
    }


def _shifts_closed(items) -> dict:
    shifts = Shift.objects.filter(pk__in=ids_of(items).values(), closed_at__isnull=False)
    return {
        events.reference("pos.shift", s["id"]): events.shift_closed_event(s)
        for s in shifts.values(*SHIFT_ROW)
    }


def _cash_movements(items) -> dict:
    movements = CashMovement.objects.filter(pk__in=ids_of(items).values()).values(
        "id", "shift_id", "kind", "amount", "reason", "created_by_id", "created_at",
        "shift__register_id",
    )  # fmt: skip
    return {
        events.reference("pos.cashmovement", m["id"]): events.cash_movement_event(
            m, m["shift__register_id"]
        )
        for m in movements
    }


def _account_payments(items) -> dict:
    payments = Payment.objects.filter(pk__in=ids_of(items).values(), invoice__isnull=False).values(
        "id", "invoice_id", "shift_id", "tender", "amount", "reference", "created_by_id",
        "created_at", "invoice__number", "invoice__customer_id", "shift__register_id",
    )  # fmt: skip
    return {
        events.reference("pos.payment", p["id"]): events.account_payment_event(
            p,
            invoice_number=p["invoice__number"],
            customer_id=p["invoice__customer_id"],
            register_id=p["shift__register_id"],
        )
        for p in payments
    }


def _cancelled_invoices(items) -> dict:
    stored = dict(items)
    ids = ids_of(items)
    invoices = {
        i["id"]: i
        for i in Invoice.objects.filter(pk__in=ids.values()).values(
            "id", "number", "customer_id", "status", "total", "credited"
        )
    }
    built = {}
    for ref, pk in ids.items():
        if pk in invoices:
            data = stored[ref].get("data", {})
            built[ref] = events.invoice_cancelled_event(
                invoices[pk],
                user_id=data.get("user_id"),
                reason=data.get("reason"),
                at=_at(stored[ref]),
            )
    return built


def _account_adjustments(items) -> dict:
    stored = dict(items)
    ids = ids_of(items)
    entries = {
        e["id"]: e
        for e in LedgerEntry.objects.filter(pk__in=ids.values()).values(
            "id", "created_at", *events.LEDGER_ENTRY_FIELDS
        )
    }
    return {
        ref: events.account_adjustment_event(
            entries[pk], user_id=stored[ref].get("data", {}).get("user_id")
        )
        for ref, pk in ids.items()
        if pk in entries
    }


def _stock(items) -> dict:
    """Stock events list their movements by id: read those, in the same order."""
    wanted = {
        ref: [m.get("id") for m in stored.get("data", {}).get("movements", [])]
        for ref, stored in items
    }
    rows = {
        m["id"]: m
        for m in StockMovement.objects.filter(
            pk__in=[pk for ids in wanted.values() for pk in ids if isinstance(pk, int)]
        ).values(*events.STOCK_MOVEMENT_FIELDS)
    }
    stored = dict(items)
    return {
        ref: events.stock_event(
            stored[ref]["kind"],
            ref,
            [rows[pk] for pk in ids if pk in rows],
            at=_at(stored[ref]),
        )
        for ref, ids in wanted.items()
    }


TRANSFER_ROW = ("id", "status", "source_id", "destination_id", "sent_by_id", "sent_at",
                "received_by_id", "received_at", "shrinkage_reason")  # fmt: skip
# The movements each transfer event writes, by the event's kind.
TRANSFER_MOVEMENTS = {
    JournalKind.TRANSFER_SENT: ("transfer_out",),
    JournalKind.TRANSFER_RECEIVED: ("transfer_in", "shrinkage"),
}


def _transfers(kind: str, items) -> dict:
    """A transfer sent or received, from its row, its lines and the movements that name it
    (all of them: one added past the services shows as one more)."""
    ids = ids_of(items)
    wanted = [TransferStatus.SENT, TransferStatus.RECEIVED]
    if kind == JournalKind.TRANSFER_RECEIVED:
        wanted = [TransferStatus.RECEIVED]
    transfers = Transfer.objects.filter(pk__in=ids.values(), status__in=wanted)
    lines = _grouped(
        TransferLine.objects.filter(transfer_id__in=ids.values())
        .order_by("transfer_id", "id")
        .values("transfer_id", *events.TRANSFER_RECEIVED_LINE_FIELDS),
        "transfer_id",
    )
    movements = _grouped(
        StockMovement.objects.filter(
            reference_type="pos.transfer",
            reference_id__in=[str(pk) for pk in ids.values()],
            kind__in=TRANSFER_MOVEMENTS[kind],
        )
        .order_by("id")
        .values(*events.TRANSFER_MOVEMENT_FIELDS),
        "reference_id",
    )
    return {
        events.reference("pos.transfer", t["id"]): events.transfer_event(
            kind, t, lines.get(t["id"], []), movements.get(str(t["id"]), [])
        )
        for t in transfers.values(*TRANSFER_ROW)
    }


REBUILDERS = {
    JournalKind.SALE: _sales,
    JournalKind.VOID: _voids,
    JournalKind.REFUND: _refunds,
    JournalKind.PRICE_OVERRIDE: _price_overrides,
    JournalKind.DISCOUNT_APPROVAL: _discount_approvals,
    JournalKind.SHIFT_OPENED: _shifts_opened,
    JournalKind.SHIFT_ENDED: _shifts_ended,
    JournalKind.SHIFT_CLOSED: _shifts_closed,
    JournalKind.CASH_IN: _cash_movements,
    JournalKind.CASH_OUT: _cash_movements,
    JournalKind.ACCOUNT_PAYMENT: _account_payments,
    JournalKind.INVOICE_CANCELLED: _cancelled_invoices,
    JournalKind.STOCK_ADJUSTMENT: _stock,
    JournalKind.STOCK_COUNT: _stock,
    JournalKind.GOODS_RECEIPT: _stock,
    JournalKind.ACCOUNT_ADJUSTMENT: _account_adjustments,
    JournalKind.TRANSFER_SENT: functools.partial(_transfers, JournalKind.TRANSFER_SENT),
    JournalKind.TRANSFER_RECEIVED: functools.partial(_transfers, JournalKind.TRANSFER_RECEIVED),
}


def rebuild(kind: str, items: list[tuple[str, dict]]) -> dict:
    return REBUILDERS[kind](items)


# --- Sales as PostgreSQL builds them: the check's fast path -----------------------------------


def _json_fields(model, names, alias: str) -> str:
    """json_build_object's arguments for `names` of `model`: amounts and quantities as their
    text (as the payload writes them), times in the payload's form, the rest as they are."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    parts = []
    for name in names:
        column = f"{alias}.{quote(fields[name].column)}"
        internal = fields[name].get_internal_type()
        if internal == "DecimalField":
            column = f"{column}::text"
        parts.append(f"'{name}', {column}")
    return ", ".join(parts)


def sale_payload_expression(sale: str) -> str:
    """SQL: the payload of the sale row aliased `sale`, as its rows give it now (jsonb, in the
    payload's shape: compare it with the stored payload as jsonb or parsed, never as text)."""
    quote = connection.ops.quote_name
    line, payment = (quote(m._meta.db_table) for m in (SaleLine, Payment))
    return f"""jsonb_build_object(
    'at', {CANONICAL_TIME.format(f"{sale}.created_at")},
    'chain', 'register:' || {sale}.register_id,
    'day', {sale}.business_day::text,
    'kind', 'sale',
    'ref', 'pos.sale:' || {sale}.id,
    'data', jsonb_build_object(
        {_json_fields(Sale, events.SALE_FIELDS, sale)},
        'lines', COALESCE((SELECT jsonb_agg(jsonb_build_object(
            {_json_fields(SaleLine, events.SALE_LINE_FIELDS, "l")}) ORDER BY l.id)
            FROM {line} l WHERE l.sale_id = {sale}.id), '[]'::jsonb),
        'payments', COALESCE((SELECT jsonb_agg(jsonb_build_object(
            {_json_fields(Payment, events.PAYMENT_FIELDS, "p")}) ORDER BY p.id)
            FROM {payment} p
            WHERE p.sale_id = {sale}.id AND p.created_at = {sale}.created_at), '[]'::jsonb)
    )
)"""  # noqa: S608 - the models' own names


@functools.cache
def _sale_payload_sql() -> str:
    sale = connection.ops.quote_name(Sale._meta.db_table)
    return f"SELECT s.id, {sale_payload_expression('s')}::text FROM {sale} s WHERE s.id = ANY(%s)"  # noqa: S608


def sale_payloads_postgresql(items) -> dict:
    """{reference: the sale's payload as its rows give it now, parsed}: built by PostgreSQL in
    one statement, in the payload's shape (compare parsed, never as text), so that the check
    does no work per field in Python for the journal's most frequent event."""
    ids = sorted(set(ids_of(items).values()))
    with connection.cursor() as cursor:
        cursor.execute(_sale_payload_sql(), [ids])
        return {events.reference("pos.sale", pk): orjson.loads(text) for pk, text in cursor}


# --- Sales as canonical text, built by PostgreSQL: the check's fastest path -------------------

_INTEGERS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}


def _value_text(field, column: str) -> str:
    """SQL: the canonical JSON text of one column (pos.journal.canonical): an amount or a
    quantity as its quoted text ("12000.00", "1.000"), a whole number or a boolean as it is, a
    string escaped as JSON (PostgreSQL escapes what orjson escapes), null for NULL."""
    target = field.target_field if field.is_relation else field
    internal = target.get_internal_type()
    if internal == "DecimalField":
        text = f"'\"' || {column}::text || '\"'"
    elif internal in _INTEGERS or internal == "BooleanField":
        text = f"{column}::text"
    else:
        text = f"to_json({column})::text"
    return f"COALESCE({text}, 'null')" if field.null else text


def object_text(members: dict[str, str]) -> str:
    """SQL concatenating the canonical JSON text of an object: {key: SQL of its value's text},
    written with the keys sorted, no whitespace."""
    parts = [
        f"'{',' if i else '{'}\"{key}\":' || {members[key]}"
        for i, key in enumerate(sorted(members))
    ]
    return " || ".join(parts) + " || '}'"


def fields_text(model, names, alias: str) -> dict[str, str]:
    """{name: SQL of its canonical JSON text} for `names` of `model`'s row aliased `alias`."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    return {
        name: _value_text(fields[name], f"{alias}.{quote(fields[name].column)}") for name in names
    }


def sale_payload_text(sale: str, lines: str, payments: str) -> str:
    """SQL: the canonical payload text (exactly what the journal wrote) of the sale row aliased
    `sale`, given `lines` and `payments`: SQL of the comma-separated texts of its lines (in id
    order) and of the payments written with it (NULL for none). Equal text means equal
    contents; unequal text may still be an equal payload (the check then compares them parsed)."""
    return object_text(
        {
            "at": f"'\"' || {CANONICAL_TIME.format(f'{sale}.created_at')} || '\"'",
            "chain": f"'\"register:' || {sale}.register_id || '\"'",
            "data": object_text(
                {
                    **fields_text(Sale, events.SALE_FIELDS, sale),
                    "lines": f"'[' || COALESCE({lines}, '') || ']'",
                    "payments": f"'[' || COALESCE({payments}, '') || ']'",
                }
            ),
            "day": f"'\"' || {sale}.business_day::text || '\"'",
            "kind": "'\"sale\"'",
            "ref": f"'\"pos.sale:' || {sale}.id || '\"'",
        }
    )


def line_text(alias: str) -> str:
    """SQL: the canonical text of the sale line aliased `alias` as a sale's payload holds it."""
    return object_text(fields_text(SaleLine, events.SALE_LINE_FIELDS, alias))


def payment_text(alias: str) -> str:
    """SQL: the canonical text of the payment aliased `alias` as a sale's payload holds it."""
    return object_text(fields_text(Payment, events.PAYMENT_FIELDS, alias))
