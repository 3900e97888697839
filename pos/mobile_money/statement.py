"""The MTN Mobile Money merchant statement: reading its CSV and matching it with the till.

The format (as the MTN MoMo partner portal exports a merchant account's transactions; see
docs/mobile-money-reconciliation.md and the sample in docs/samples/) is one header row, then one
row per transaction. Columns are found by name (case and surrounding spaces ignored; the order
and any other column do not matter):

=========================  =========================================================
``Id``                     MTN's financial transaction id (what a customer's SMS shows,
                           what a cashier types as the reference, what request-to-pay
                           answers as ``financialTransactionId``). Required.
``External Transaction Id`` the id the merchant gave: a request-to-pay's reference id
                           (our ``X-Reference-Id``). Optional.
``Date``                   ``2026-12-04 10:15:32`` (shop time), or ISO 8601 with an offset.
                           Required.
``Status``                 ``SUCCESSFUL``, ``FAILED``, ``PENDING``. Required.
``Type``                   ``PAYMENT``, ``DEBIT``, ``TRANSFER``... Optional.
``From``                   The payer's number. Optional.
``Amount``                 Positive for money received, negative for money paid out;
                           ``12000``, ``12,000`` or ``12000.00``. Required.
``Currency``               ``RWF``. Optional.
=========================  =========================================================

Successful money received is matched with the till's Mobile Money payments; successful money
paid out (a negative amount) with the till's Mobile Money refunds (and voids), which give the
customer's money back. A failed or pending row moved nothing. Pure: no Django; the service
reads and stores rows.
"""

import csv
import datetime
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

REQUIRED = ("id", "date", "status", "amount")
COLUMNS = {
    "id": "id",
    "external transaction id": "external_id",
    "date": "date",
    "status": "status",
    "type": "type",
    "from": "payer",
    "amount": "amount",
    "currency": "currency",
}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")
SUCCESSFUL = "SUCCESSFUL"


class StatementError(ValueError):
    """A statement that cannot be read: `problems` lists (line number, column, what is wrong),
    every one of the file at once (line 1 is the header)."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        super().__init__("; ".join(f"line {n}, {c}: {what}" for n, c, what in problems))
        self.problems = problems


@dataclass(frozen=True)
class StatementRow:
    transaction_id: str
    external_id: str
    at: datetime.datetime  # aware
    status: str
    type: str
    payer: str
    amount: Decimal
    currency: str

    @property
    def is_money_in(self) -> bool:
        return self.status == SUCCESSFUL and self.amount > 0

    @property
    def is_money_out(self) -> bool:
        return self.status == SUCCESSFUL and self.amount < 0


def parse(content: bytes | str, *, zone: datetime.tzinfo) -> list[StatementRow]:
    """The rows of a statement file (UTF-8, with or without a BOM; comma or semicolon).

    :raises StatementError: a column is missing, or rows are not readable (all listed).
    """
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise StatementError([(1, "", "the file is empty")])
    names = {}
    for index, title in enumerate(header):
        key = COLUMNS.get(title.strip().lower())
        if key and key not in names:
            names[key] = index
    missing = [title for title in REQUIRED if COLUMNS[title] not in names]
    if missing:
        raise StatementError([(1, title, "column missing") for title in missing])
    rows, problems = [], []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = _row(number, cells, names, zone, problems)
        if row is not None:
            rows.append(row)
    if problems:
        raise StatementError(problems)
    return rows


def _cell(cells: list[str], names: dict, key: str) -> str:
    index = names.get(key)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _row(number, cells, names, zone, problems) -> StatementRow | None:
    before = len(problems)
    transaction_id = _cell(cells, names, "id")
    if not transaction_id:
        problems.append((number, "Id", "empty"))
    at = _date(_cell(cells, names, "date"), zone)
    if at is None:
        problems.append((number, "Date", "not a date"))
    amount = _amount(_cell(cells, names, "amount"))
    if amount is None:
        problems.append((number, "Amount", "not an amount"))
    if len(problems) > before:
        return None
    return StatementRow(
        transaction_id=transaction_id[:64],
        external_id=_cell(cells, names, "external_id")[:64],
        at=at,
        status=_cell(cells, names, "status").upper()[:16],
        type=_cell(cells, names, "type").upper()[:24],
        payer=_cell(cells, names, "payer")[:32],
        amount=amount,
        currency=_cell(cells, names, "currency").upper()[:3],
    )


def _date(text: str, zone) -> datetime.datetime | None:
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
        for pattern in DATE_FORMATS:
            try:
                moment = datetime.datetime.strptime(text, pattern)  # noqa: DTZ007 - shop time
                break
            except ValueError:
                continue
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _amount(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").replace(" ", "").replace("\u00a0", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


# --- Matching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TillPayment:
    """A Mobile Money payment the till recorded: typed reference, or request-to-pay's; a
    negative one is money given back (a refund or a void)."""

    payment_id: int
    reference: str  # the financial transaction id (typed, or MTN's answer); a refund's number
    amount: Decimal
    at: datetime.datetime
    request_reference: uuid.UUID | None = None  # the request-to-pay's X-Reference-Id


@dataclass(frozen=True)
class TillRequest:
    """A request-to-pay that no payment uses (failed, pending, abandoned, late success)."""

    request_id: int
    reference_id: uuid.UUID
    financial_transaction_id: str
    status: str
    amount: Decimal
    at: datetime.datetime


MATCHED = "matched"
AMOUNT_DIFFERS = "amount_differs"
LATE_SUCCESS = "late_success"
STATEMENT_ONLY = "statement_only"
POS_ONLY = "pos_only"
KINDS = (MATCHED, AMOUNT_DIFFERS, LATE_SUCCESS, STATEMENT_ONLY, POS_ONLY)


@dataclass(frozen=True)
class Match:
    kind: str
    row: StatementRow | None = None
    payment: TillPayment | None = None
    request: TillRequest | None = None

    @property
    def difference(self) -> Decimal:
        """Statement − till (what MTN holds that the till does not, or less)."""
        statement = self.row.amount if self.row else Decimal(0)
        if self.payment is not None:
            return statement - self.payment.amount
        return statement


@dataclass
class Reconciliation:
    matches: list[Match] = field(default_factory=list)

    def of(self, kind: str) -> list[Match]:
        return [m for m in self.matches if m.kind == kind]

    def totals(self) -> dict[str, dict]:
        found = {}
        for kind in KINDS:
            chosen = self.of(kind)
            found[kind] = {
                "count": len(chosen),
                "statement": sum((m.row.amount for m in chosen if m.row), Decimal(0)),
                "till": sum((m.payment.amount for m in chosen if m.payment), Decimal(0)),
            }
        return found


def reconcile(
    rows: Iterable[StatementRow],
    payments: Iterable[TillPayment],
    requests: Iterable[TillRequest],
    *,
    start: datetime.datetime,
    end: datetime.datetime,
) -> Reconciliation:
    """Match the statement's money in with the till's Mobile Money for the period
    [`start`, `end`): by MTN's transaction id (a typed reference, request-to-pay's answer), else
    by the request's reference id. A statement row matched with a till payment is `matched`, or
    `amount_differs`; matched with a request no payment uses, it is a `late_success` (money
    taken, no sale: refund it); a row of the period nobody matched is `statement_only`; a till
    payment with no row, `pos_only`. Rows outside the period count only when matched (a late
    answer, a statement of several days).

    A refund (a negative till payment) is matched with money paid out: the row that names it
    (its id, or its External Transaction Id, is the refund's reference), else the first row
    paid out for the same amount at or after it. Matched, it is `matched`; with no such row it
    is `pos_only` (the customer may not have had the money back). Money paid out that no refund
    names (a transfer to the bank) is not the till's and is not listed."""
    rows = list(rows)
    payments = list(payments)
    refunds = [payment for payment in payments if payment.amount < 0]
    payments = [payment for payment in payments if payment.amount >= 0]
    money_in = [row for row in rows if row.is_money_in]
    by_id = {row.transaction_id: row for row in money_in}
    by_external = {row.external_id.lower(): row for row in money_in if row.external_id}
    used: set[str] = set()
    result = Reconciliation()
    for payment in payments:
        row = by_id.get(payment.reference) if payment.reference else None
        if row is None and payment.request_reference is not None:
            row = by_external.get(str(payment.request_reference).lower())
        if row is None or row.transaction_id in used:
            result.matches.append(Match(POS_ONLY, payment=payment))
            continue
        used.add(row.transaction_id)
        kind = MATCHED if row.amount == payment.amount else AMOUNT_DIFFERS
        result.matches.append(Match(kind, row=row, payment=payment))
    for request in requests:
        row = by_external.get(str(request.reference_id).lower())
        if row is None and request.financial_transaction_id:
            row = by_id.get(request.financial_transaction_id)
        if row is not None and row.transaction_id not in used:
            used.add(row.transaction_id)
            result.matches.append(Match(LATE_SUCCESS, row=row, request=request))
    for row in money_in:
        if row.transaction_id not in used and start <= row.at < end:
            result.matches.append(Match(STATEMENT_ONLY, row=row))
    _match_refunds(refunds, [row for row in rows if row.is_money_out], used, result)
    return result


def _match_refunds(refunds, money_out, used: set[str], result: Reconciliation) -> None:
    money_out = sorted(money_out, key=lambda row: row.at)
    for refund in sorted(refunds, key=lambda payment: payment.at):
        named = refund.reference.lower()
        row = next(
            (
                r
                for r in money_out
                if r.transaction_id not in used
                and named
                and named in (r.transaction_id.lower(), r.external_id.lower())
            ),
            None,
        ) or next(
            (
                r
                for r in money_out
                if r.transaction_id not in used and r.amount == refund.amount and r.at >= refund.at
            ),
            None,
        )
        if row is None:
            result.matches.append(Match(POS_ONLY, payment=refund))
            continue
        used.add(row.transaction_id)
        kind = MATCHED if row.amount == refund.amount else AMOUNT_DIFFERS
        result.matches.append(Match(kind, row=row, payment=refund))
