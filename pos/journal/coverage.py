"""Rows of events that the journal does not record: the other half of the integrity check.

Walking the chains (pos.journal.verify) finds entries that no longer match their rows, and
entries whose row is gone. A row written past the services (a sale inserted by SQL) has no entry
to walk: each query here looks, in the database, for the event rows that no entry records:

- a sale without its "sale" entry; a voided sale without its "void" entry;
- a refund, a payment on account, a cash movement, a shift opened or closed, an invoice
  cancelled by a manager, a selling unit, a stock transfer sent or received without its entry;
- a payment of a sale written neither with the sale nor with its void (the sale's entry holds
  the payments written with it, the void's the reversals);
- a stock movement of a sale or refund whose document has no entry, and a back-office movement
  (adjustment, count, goods received...) that no stock entry lists by id;
- a sale, void or refund whose stock movements no longer add up, product by product, to the
  lines its entry holds (a movement added, changed or removed past the services).

Each query is one anti-join (NOT EXISTS on the journal's indexed reference), so the work is the
database's, whatever the size; at most `SHOWN` rows are named per kind, then a count.
"""

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from pos.journal.events import register_chain
from pos.models import (
    BACK_OFFICE_CHAIN,
    CashMovement,
    Invoice,
    JournalEntry,
    JournalKind,
    MovementKind,
    Payment,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    SellingUnit,
    Shift,
    StockMovement,
    Transfer,
)

SHOWN = 1000
# Stock movements journalled through the till event they belong to (their reference names it).
TILL_MOVEMENTS = {MovementKind.SALE, MovementKind.REFUND}


@dataclass(frozen=True)
class Missing:
    """One event row that no entry records (`chain`: where its entry belongs)."""

    chain: str
    kind: str
    reference: str
    problem: str


def _recorded(kinds: Iterable[str], label: str, pk=None) -> Exists:
    """An entry of one of `kinds` whose reference names the outer row ("pos.sale:12")."""
    name = Concat(Value(f"{label}:"), Cast(pk or OuterRef("pk"), CharField()))
    return Exists(JournalEntry.objects.filter(kind__in=list(kinds), reference=name))


@dataclass(frozen=True)
class _Check:
    kind: str  # the journal kind the row's entry would have
    label: str  # the reference's model label
    rows: Callable[[], QuerySet]  # the rows that need an entry
    chain: Callable[[dict], str]  # where the entry belongs, from the row's values
    values: tuple[str, ...]
    problem: str


def _checks() -> list[_Check]:
    till = ("shift__register_id",)
    return [
        _Check(JournalKind.SALE, "pos.sale", lambda: Sale.objects.all(),
               lambda r: register_chain(r["register_id"]), ("register_id",),
               _("no journal entry records this sale")),
        _Check(JournalKind.VOID, "pos.sale", lambda: Sale.objects.filter(voided_at__isnull=False),
               lambda r: register_chain(r["register_id"]), ("register_id",),
               _("no journal entry records the void of this sale")),
        _Check(JournalKind.REFUND, "pos.refund", lambda: Refund.objects.all(),
               lambda r: register_chain(r["shift__register_id"]), till,
               _("no journal entry records this refund")),
        _Check(JournalKind.ACCOUNT_PAYMENT, "pos.payment",
               lambda: Payment.objects.filter(invoice__isnull=False),
               lambda r: _till_or_back_office(r["shift__register_id"]), till,
               _("no journal entry records this payment on account")),
        _Check(JournalKind.CASH_IN, "pos.cashmovement", lambda: CashMovement.objects.all(),
               lambda r: register_chain(r["shift__register_id"]), till,
               _("no journal entry records this cash movement")),
        _Check(JournalKind.SHIFT_OPENED, "pos.shift", lambda: Shift.objects.all(),
               lambda r: register_chain(r["register_id"]), ("register_id",),
               _("no journal entry records the opening of this shift")),
        _Check(JournalKind.SHIFT_CLOSED, "pos.shift",
               lambda: Shift.objects.filter(closed_at__isnull=False),
               lambda r: register_chain(r["register_id"]), ("register_id",),
               _("no journal entry records the closing of this shift")),
        _Check(JournalKind.SELLING_UNIT, "pos.sellingunit", lambda: SellingUnit.objects.all(),
               lambda r: BACK_OFFICE_CHAIN, (),
               _("no journal entry records this selling unit")),
        _Check(JournalKind.INVOICE_CANCELLED, "pos.invoice",
               lambda: _cancelled_by_hand(),
               lambda r: BACK_OFFICE_CHAIN, (),
               _("no journal entry records the cancelling of this invoice")),
        _Check(JournalKind.TRANSFER_SENT, "pos.transfer",
               lambda: Transfer.objects.filter(sent_at__isnull=False),
               lambda r: BACK_OFFICE_CHAIN, (),
               _("no journal entry records the sending of this stock transfer")),
        _Check(JournalKind.TRANSFER_RECEIVED, "pos.transfer",
               lambda: Transfer.objects.filter(received_at__isnull=False),
               lambda r: BACK_OFFICE_CHAIN, (),
               _("no journal entry records the receiving of this stock transfer")),
    ]  # fmt: skip


# A cash movement's entry is a cash in or a cash out, by its sign.
KINDS = {JournalKind.CASH_IN: (JournalKind.CASH_IN, JournalKind.CASH_OUT)}


def _cancelled_by_hand() -> QuerySet:
    """Invoices cancelled by a manager (cancel_invoice); those cancelled by their sale's void or
    by a refund crediting them are recorded by the void's or the refund's entry."""
    return Invoice.objects.filter(status=Invoice.Status.CANCELLED, credited=0).exclude(
        sale__voided_at__isnull=False
    )


def _till_or_back_office(register_id) -> str:
    return register_chain(register_id) if register_id is not None else BACK_OFFICE_CHAIN


def queries() -> list[tuple]:
    """The queries of missing(), each answered on its own (verify runs them in its worker
    processes beside the ranges of entries): one per check, the stray payments, the till's
    stock movements, the back office's."""
    return [
        *(("unrecorded", i) for i in range(len(_checks()))),
        ("stray_payments",),
        ("till_movements",),
        ("back_office_movements",),
    ]


def find(query: tuple):
    """The answer of one of queries() (picklable: it may come from another process)."""
    name = query[0]
    if name == "unrecorded":
        check = _checks()[query[1]]
        kinds = KINDS.get(check.kind, (check.kind,))
        rows = check.rows().filter(~_recorded(kinds, check.label)).order_by("pk")
        return _named(rows, ("pk", *check.values), check.kind, check.label, check.chain,
                      check.problem)  # fmt: skip
    if name == "stray_payments":
        return _stray_payments()
    if name == "till_movements":
        return _till_movements()
    back_office = StockMovement.objects.exclude(kind__in=TILL_MOVEMENTS).order_by("pk")
    return array("q", back_office.values_list("pk", flat=True).iterator(chunk_size=5000))


def missing(listed_movements: set[int]) -> list[Missing]:
    """Every event row no entry records. `listed_movements`: the ids of the stock movements
    the walked stock entries list."""
    return combine({query: find(query) for query in queries()}, listed_movements)


def combine(answers: dict, listed_movements: set[int]) -> list[Missing]:
    """missing() from the answers of queries(), in the order of the checks."""
    found: list[Missing] = []
    for query in queries()[:-2]:
        found += answers[query]
    # A sale or refund named above: its own stock movements are not named again.
    named = {row.reference for row in found}
    found += [row for row, document in answers[("till_movements",)] if document not in named]
    unlisted = []
    for pk in answers[("back_office_movements",)]:
        if pk not in listed_movements:
            unlisted.append(pk)
            if len(unlisted) > SHOWN:
                break
    problem = _("no stock entry of the journal lists this stock movement")
    found += [
        Missing(BACK_OFFICE_CHAIN, "stock", f"pos.stockmovement:{pk}", problem)
        for pk in unlisted[:SHOWN]
    ]
    if len(unlisted) > SHOWN:
        found.append(Missing("", "stock", "pos.stockmovement", _("and more like these")))
    return found


def _named(rows, values, kind, label, chain, problem) -> list[Missing]:
    shown = list(rows.values(*values)[:SHOWN])
    named = [Missing(chain(r), kind, f"{label}:{r['pk']}", problem) for r in shown]
    if len(shown) == SHOWN:
        more = rows.count() - SHOWN
        if more:
            named.append(
                Missing("", kind, label, _("and %(count)s more like these") % {"count": more})
            )
    return named


def _stray_payments() -> list[Missing]:
    """Payments of a sale written neither with it nor with its void: no entry holds them."""
    stray = (
        Payment.objects.filter(sale__isnull=False)
        .exclude(created_at=F("sale__created_at"))
        .exclude(Q(sale__voided_at__isnull=False) & Q(created_at=F("sale__voided_at")))
        .order_by("pk")
    )
    return _named(
        stray,
        ("pk", "sale__register_id"),
        "payment",
        "pos.payment",
        lambda r: register_chain(r["sale__register_id"]),
        _("this payment of a sale is in no journal entry (not written with the sale or its void)"),
    )


def _till_movements() -> list[tuple[Missing, str]]:
    """Till movements whose sale or refund has no entry, each with its document ("pos.sale:12";
    combine() leaves out those of a document named already), in one query."""
    document = Concat(OuterRef("reference_type"), Value(":"), OuterRef("reference_id"))
    till_kinds = (JournalKind.SALE, JournalKind.VOID, JournalKind.REFUND)
    orphans = (
        StockMovement.objects.filter(kind__in=TILL_MOVEMENTS)
        .filter(~Exists(JournalEntry.objects.filter(kind__in=till_kinds, reference=document)))
        .order_by("pk")
    )
    problem = _("no journal entry records the sale or refund of this stock movement")
    shown = list(orphans.values_list("pk", "reference_type", "reference_id")[:SHOWN])
    found = [
        (Missing(BACK_OFFICE_CHAIN, "stock", f"pos.stockmovement:{pk}", problem), f"{t}:{i}")
        for pk, t, i in shown
    ]
    if len(shown) == SHOWN:
        more = orphans.count() - SHOWN
        if more:
            more_rows = _("and %(count)s more like these") % {"count": more}
            found.append((Missing("", "stock", "pos.stockmovement", more_rows), ""))
    return found


@dataclass(frozen=True)
class Unbalanced:
    """A document's stock movements of one product that do not add up to its lines."""

    reference: str  # the document ("pos.sale:12", "pos.refund:3")
    kind: str  # the journal kind of the entry that holds those lines (sale, void, refund)
    product_id: int
    moved: object  # the movements' sum (None: no movement)
    expected: object  # what the lines say (None: no line)


# Per document, movement kind and product: the movements' sum beside the lines' (stock units).
# A sale's lines take stock out; its void puts all of it back; a refund puts back its restocked
# lines. One statement over every till movement and line: the database's work, done once.
_UNBALANCED_SQL = """
WITH moved AS (
    SELECT reference_type AS doc, reference_id AS doc_id, kind, product_id,
           ROUND(SUM(quantity), 3) AS quantity
    FROM {movement}
    WHERE kind IN ('sale', 'refund') AND reference_type IN ('pos.sale', 'pos.refund')
    GROUP BY reference_type, reference_id, kind, product_id
), expected AS (
    SELECT 'pos.sale' AS doc, CAST(sale_id AS VARCHAR(64)) AS doc_id, 'sale' AS kind,
           product_id, ROUND(-SUM(quantity), 3) AS quantity
    FROM {line} GROUP BY sale_id, product_id
    UNION ALL
    SELECT 'pos.sale', CAST(l.sale_id AS VARCHAR(64)), 'refund', l.product_id,
           ROUND(SUM(l.quantity), 3)
    FROM {line} l JOIN {sale} s ON s.id = l.sale_id
    WHERE s.voided_at IS NOT NULL GROUP BY l.sale_id, l.product_id
    UNION ALL
    SELECT 'pos.refund', CAST(refund_id AS VARCHAR(64)), 'refund', product_id,
           ROUND(SUM(quantity), 3)
    FROM {refund_line} WHERE restock GROUP BY refund_id, product_id
)
SELECT doc, doc_id, kind, product_id, moved.quantity, expected.quantity
FROM moved FULL JOIN expected USING (doc, doc_id, kind, product_id)
WHERE COALESCE(moved.quantity, 0) <> COALESCE(expected.quantity, 0)
ORDER BY doc, doc_id, kind, product_id
LIMIT {limit}
"""


def unbalanced_movements() -> list[Unbalanced]:
    """Documents of the till whose stock movements do not add up to their lines (at most
    SHOWN rows), in document order."""
    quote = connection.ops.quote_name
    sql = _UNBALANCED_SQL.format(
        movement=quote(StockMovement._meta.db_table),
        line=quote(SaleLine._meta.db_table),
        sale=quote(Sale._meta.db_table),
        refund_line=quote(RefundLine._meta.db_table),
        limit=SHOWN,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [
        Unbalanced(
            f"{doc}:{doc_id}",
            _ENTRY_KIND[doc, kind],
            product_id,
            moved,
            expected,
        )
        for doc, doc_id, kind, product_id, moved, expected in rows
    ]


_ENTRY_KIND = {
    ("pos.sale", "sale"): JournalKind.SALE,
    ("pos.sale", "refund"): JournalKind.VOID,
    ("pos.refund", "refund"): JournalKind.REFUND,
}
