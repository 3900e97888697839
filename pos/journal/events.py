"""What the journal records of each event, built one way for the writer and for the checker.

Each `*_event` function takes the rows of one event, as model instances (the service that just
wrote them) or as dicts of the same field names (the checker reading them back), and returns
the `Event` to append. Built from the same rows, the two give the same canonical payload; a row
changed, added or deleted since gives another, and the checker names the first field that
differs.

Only what never changes after the event goes into its payload: a sale's status (changed by a
void) is the void's event, not the sale's; a sale's payments are those written with it (they
carry the sale's time), the void's are those written with the void.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from pos.journal.canonical import canonical
from pos.models import BACK_OFFICE_CHAIN, JournalKind

ZERO = Decimal(0)

SALE_FIELDS = (
    "number",
    "register_id",
    "shift_id",
    "cashier_id",
    "customer_id",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "change_given",
    "cash_rounding",
)
SALE_LINE_FIELDS = (
    "product_id",
    "product_name",
    "sku",
    "quantity",
    "unit_name",
    "unit_factor",
    "unit_quantity",
    "price_source",
    "shelf_price",
    "unit_price",
    "line_discount",
    "order_discount",
    "total",
    "tax",
    "tax_rate",
    "unit_cost",
)
PAYMENT_FIELDS = ("tender", "amount", "is_change", "reference")
REFUND_FIELDS = (
    "number",
    "sale_id",
    "shift_id",
    "created_by_id",
    "reason",
    "tender",
    "total",
    "tax_total",
)
REFUND_LINE_FIELDS = (
    "sale_line_id",
    "product_id",
    "quantity",
    "unit_price",
    "total",
    "tax",
    "tax_rate",
    "restock",
)


@dataclass(frozen=True)
class Event:
    chain: str
    kind: str
    reference: str
    at: object  # an aware datetime
    day: object  # the shop-local business day (a date)
    data: dict

    def payload(self) -> str:
        return canonical(
            {
                "at": self.at,
                "chain": self.chain,
                "data": self.data,
                "day": self.day,
                "kind": self.kind,
                "ref": self.reference,
            }
        )


def register_chain(register_id: int) -> str:
    return f"register:{register_id}"


def reference(label: str, pk) -> str:
    return f"{label}:{pk}"


def till_event(register_id, kind: str, label: str, pk, *, at, data: dict, day=None) -> Event:
    """An event on a till's chain, named by its row (`label:pk`); its business day is the
    shop-local date of `at` unless the row keeps its own (a sale's `business_day`)."""
    return Event(
        chain=register_chain(register_id),
        kind=kind,
        reference=reference(label, pk),
        at=at,
        day=timezone.localdate(at) if day is None else day,
        data=data,
    )


def back_office_event(kind: str, ref: str, *, at, data: dict) -> Event:
    """An event on the back office's chain, on the shop-local day of `at`."""
    return Event(
        chain=BACK_OFFICE_CHAIN,
        kind=kind,
        reference=ref,
        at=at,
        day=timezone.localdate(at),
        data=data,
    )


def _sale_event(sale, kind: str, data: dict) -> Event:
    """An event written with a sale, at its time and on its business day."""
    return till_event(
        get(sale, "register_id"),
        kind,
        "pos.sale",
        get(sale, "id"),
        at=get(sale, "created_at"),
        day=get(sale, "business_day"),
        data=data,
    )


def _shift_event(shift, kind: str, moment: str, data: dict) -> Event:
    """A shift opened or closed, at that moment (`moment`: the row's field)."""
    return till_event(
        get(shift, "register_id"), kind, "pos.shift", get(shift, "id"), at=get(shift, moment),
        data=data,
    )  # fmt: skip


def get(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


# Quantities are stored with three places (0.750 kg; 2.000 pieces) and written here as that
# text, whether the row holds 2 (just written by checkout) or Decimal("2.000") (read back).
QUANTITY_FIELDS = {
    "quantity",
    "stock_before",
    "stock_after",
    "unit_factor",
    "unit_quantity",
    "factor",  # a selling unit's
    "quantity_received",  # a transfer line's
    "quantity_shrinkage",
}
THREE_PLACES = Decimal("0.001")


@functools.cache
def _quantities_in(fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in fields if name in QUANTITY_FIELDS)


def pick(row, fields: Iterable[str]) -> dict:
    if isinstance(row, dict):  # the checker's rows: one test per row, not per field
        values = {name: row[name] for name in fields}
    else:
        values = {name: getattr(row, name) for name in fields}
    for name in _quantities_in(tuple(fields)):
        value = values[name]
        # None: unit_quantity when sold in the stock unit. Text: PostgreSQL's own text of a
        # numeric(_, 3) (the checker reads it so), already the three places written here.
        if value is not None and type(value) is not str:
            values[name] = f"{Decimal(value).quantize(THREE_PLACES):f}"
    return values


def vat_by_rate(lines) -> dict[str, dict[str, Decimal]]:
    """{rate: {"total": ..., "tax": ...}} over lines with tax_rate, total and tax."""
    rates: dict[str, dict[str, Decimal]] = {}
    for line in lines:
        rate = get(line, "tax_rate")
        key = "none" if rate is None else f"{rate:.2f}"
        sums = rates.setdefault(key, {"total": ZERO, "tax": ZERO})
        sums["total"] += get(line, "total")
        sums["tax"] += get(line, "tax")
    return rates


def sale_event(sale, lines, payments) -> Event:
    """A completed sale with every line and payment (change included) written with it."""
    return _sale_event(
        sale,
        JournalKind.SALE,
        {
            **pick(sale, SALE_FIELDS),
            "lines": [pick(line, SALE_LINE_FIELDS) for line in lines],
            "payments": [pick(p, PAYMENT_FIELDS) for p in payments],
        },
    )


def void_event(sale, lines, payments) -> Event:
    """The void of `sale`: who, why, the reversing payments and the VAT it takes back."""
    return till_event(
        get(sale, "register_id"),
        JournalKind.VOID,
        "pos.sale",
        get(sale, "id"),
        at=get(sale, "voided_at"),
        data={
            "number": get(sale, "number"),
            "voided_by_id": get(sale, "voided_by_id"),
            "reason": get(sale, "void_reason"),
            "total": get(sale, "total"),
            "vat": vat_by_rate(lines),
            "payments": [pick(p, PAYMENT_FIELDS) for p in payments],
        },
    )


def refund_event(refund, register_id: int, lines, payments) -> Event:
    return till_event(
        register_id,
        JournalKind.REFUND,
        "pos.refund",
        get(refund, "id"),
        at=get(refund, "created_at"),
        data={
            **pick(refund, REFUND_FIELDS),
            "lines": [pick(line, REFUND_LINE_FIELDS) for line in lines],
            "payments": [pick(p, PAYMENT_FIELDS) for p in payments],
        },
    )


def shift_opened_event(shift) -> Event:
    return _shift_event(
        shift,
        JournalKind.SHIFT_OPENED,
        "opened_at",
        pick(shift, ("register_id", "cashier_id", "opening_float")),
    )


def price_override_event(sale, lines) -> Event | None:
    """The lines of `sale` sold at another price than the shelf's (None if there are none)."""
    changed = [line for line in lines if get(line, "unit_price") != get(line, "shelf_price")]
    if not changed:
        return None
    return _sale_event(
        sale,
        JournalKind.PRICE_OVERRIDE,
        {
            "number": get(sale, "number"),
            "cashier_id": get(sale, "cashier_id"),
            "lines": [
                pick(line, ("product_id", "quantity", "shelf_price", "unit_price"))
                for line in changed
            ],
        },
    )


def discount_approval_event(sale, *, approved_by_id: int, below_minimum: list[int]) -> Event:
    """A discount over the cashier's limit, or a price under the minimum, and who allowed it."""
    return _sale_event(
        sale,
        JournalKind.DISCOUNT_APPROVAL,
        {
            **pick(sale, ("number", "cashier_id", "subtotal", "discount_total")),
            "approved_by_id": approved_by_id,
            "below_minimum_product_ids": below_minimum,
        },
    )


def cash_movement_event(movement, register_id: int) -> Event:
    return till_event(
        register_id,
        JournalKind.CASH_IN if get(movement, "amount") > ZERO else JournalKind.CASH_OUT,
        "pos.cashmovement",
        get(movement, "id"),
        at=get(movement, "created_at"),
        data=pick(movement, ("shift_id", "kind", "amount", "reason", "created_by_id")),
    )


def shift_ended_event(shift) -> Event:
    """The cashier's blind count (per tender, and cash note by note) and what was expected."""
    return _shift_event(
        shift,
        JournalKind.SHIFT_ENDED,
        "ended_at",
        {
            **pick(shift, ("register_id", "cashier_id", "ended_by_id")),
            "count": get(shift, "closing_count"),
            "expected": get(shift, "expected"),
        },
    )


def shift_closed_event(shift) -> Event:
    data = {
        **pick(shift, ("register_id", "cashier_id", "closed_by_id", "over_short")),
        "counts": get(shift, "z_report").get("counts", {}),
    }
    # A recount by the reviewing manager and a witness (shifts closed without one, and those
    # closed before the reviewed close, have none: their entries hold no such key).
    recount = get(shift, "recount")
    if recount:
        data["recount"] = recount
    return _shift_event(shift, JournalKind.SHIFT_CLOSED, "closed_at", data)


def no_sale_event(shift, *, user_id: int, reason: str, at) -> Event:
    """The cash drawer opened with no sale (change for a note, a count)."""
    return till_event(
        get(shift, "register_id"),
        JournalKind.NO_SALE,
        "pos.shift",
        get(shift, "id"),
        at=at,
        data={"cashier_id": get(shift, "cashier_id"), "user_id": user_id, "reason": reason},
    )


def reprint_event(sale, *, user_id: int, copy: int, at) -> Event:
    """A receipt printed again (`copy` 1 is the first copy after the original)."""
    return till_event(
        get(sale, "register_id"),
        JournalKind.REPRINT,
        "pos.sale",
        get(sale, "id"),
        at=at,
        data={"number": get(sale, "number"), "user_id": user_id, "copy": copy},
    )


def account_payment_event(payment, *, invoice_number: str, customer_id: int, register_id) -> Event:
    """A payment against an invoice: on its till's chain, or the back office's without a shift."""
    at = get(payment, "created_at")
    chain = register_chain(register_id) if register_id is not None else BACK_OFFICE_CHAIN
    return Event(
        chain=chain,
        kind=JournalKind.ACCOUNT_PAYMENT,
        reference=reference("pos.payment", get(payment, "id")),
        at=at,
        day=timezone.localdate(at),
        data={
            **pick(payment, ("invoice_id", "shift_id", "tender", "amount", "reference")),
            "created_by_id": get(payment, "created_by_id"),
            "invoice": invoice_number,
            "customer_id": customer_id,
        },
    )


def invoice_cancelled_event(invoice, *, user_id: int, reason: str, at) -> Event:
    return back_office_event(
        JournalKind.INVOICE_CANCELLED,
        reference("pos.invoice", get(invoice, "id")),
        at=at,
        data={
            **pick(invoice, ("number", "customer_id", "status", "total", "credited")),
            "user_id": user_id,
            "reason": reason,
        },
    )


STOCK_MOVEMENT_FIELDS = (
    "id",
    "product_id",
    "kind",
    "quantity",
    "stock_before",
    "stock_after",
    "unit_cost",
    "reason",
    "reference_type",
    "reference_id",
    "created_by_id",
)


def stock_event(kind: str, ref: str, movements, *, at) -> Event:
    """Stock moved in the back office: an adjustment (opening stock too), a posted count or
    goods received; every movement row with its before and after."""
    return back_office_event(
        kind, ref, at=at, data={"movements": [pick(m, STOCK_MOVEMENT_FIELDS) for m in movements]}
    )


SELLING_UNIT_FIELDS = ("product_id", "name", "factor", "barcode", "price", "is_active")


def selling_unit_event(unit, *, change: str, user_id, at) -> Event:
    """A selling unit (a carton of 24) as it stands after `change` ("created", "changed"; for
    "deleted", as it was): its price, factor and barcode decide what a customer pays."""
    return back_office_event(
        JournalKind.SELLING_UNIT,
        reference("pos.sellingunit", get(unit, "id")),
        at=at,
        data={**pick(unit, SELLING_UNIT_FIELDS), "change": change, "user_id": user_id},
    )


LEDGER_ENTRY_FIELDS = ("kind", "key", "customer_id", "gift_card_id", "amount", "note")


def account_adjustment_event(entry, *, user_id: int) -> Event:
    """A manager's entry in the customer ledger (a card issued, a balance adjusted): the entry
    as written, and who made it (kept by the payload only)."""
    at = get(entry, "created_at")
    return Event(
        chain=BACK_OFFICE_CHAIN,
        kind=JournalKind.ACCOUNT_ADJUSTMENT,
        reference=reference("pos.ledgerentry", get(entry, "id")),
        at=at,
        day=timezone.localdate(at),
        data={**pick(entry, LEDGER_ENTRY_FIELDS), "user_id": user_id},
    )


# A transfer's movements name their store: a movement moved to another store is a change.
TRANSFER_MOVEMENT_FIELDS = (*STOCK_MOVEMENT_FIELDS, "store_id")
TRANSFER_LINE_FIELDS = ("id", "product_id", "quantity")
TRANSFER_RECEIVED_LINE_FIELDS = (*TRANSFER_LINE_FIELDS, "quantity_received", "quantity_shrinkage")


def transfer_event(kind: str, transfer, lines, movements) -> Event:
    """A stock transfer sent (`kind` transfer_sent: its lines and the movements out of the
    source) or received (transfer_received: what arrived per line, the shrinkage and its reason,
    the movements into the destination), at that moment, by whom."""
    received = kind == JournalKind.TRANSFER_RECEIVED
    line_fields = TRANSFER_RECEIVED_LINE_FIELDS if received else TRANSFER_LINE_FIELDS
    data = {
        **pick(transfer, ("source_id", "destination_id")),
        "user_id": get(transfer, "received_by_id" if received else "sent_by_id"),
        "lines": [pick(line, line_fields) for line in lines],
        "movements": [pick(m, TRANSFER_MOVEMENT_FIELDS) for m in movements],
    }
    if received:
        data["shrinkage_reason"] = get(transfer, "shrinkage_reason")
    return back_office_event(
        kind,
        reference("pos.transfer", get(transfer, "id")),
        at=get(transfer, "received_at" if received else "sent_at"),
        data=data,
    )
