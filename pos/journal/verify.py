"""The integrity check: walk every chain, recompute every hash, compare every event with its rows.

For each entry, in sequence order: the sequence has no gap, `prev_hash` is the previous entry's
hash, `hash` is sha256(prev_hash + payload), the columns repeat the payload, and the event
rebuilt from today's rows (pos.journal.rebuild) gives the same payload. The chain's last entry
must be its head (entries removed from the end leave the head ahead). Then every event row that
no entry records (a sale inserted past the services; pos.journal.coverage). Each problem is a
`Break` naming the entry (or the row) and what no longer matches; the check reads the journal in
chunks, so memory stays flat however long the journal is.
"""

import bisect
import datetime
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from django.db import DataError, connection, connections, transaction
from django.utils.translation import gettext as _

from pos.journal import closings, coverage, events, rebuild
from pos.journal.canonical import GENESIS, datetime_text, entry_hash
from pos.journal.totals import Totals
from pos.models import (
    ChainHead,
    Closing,
    JournalEntry,
    JournalKind,
    Payment,
    Sale,
    SaleLine,
    SellingUnit,
)

CHUNK = 5000
ENTRY_COLUMNS = (
    "id",
    "seq",
    "kind",
    "reference",
    "business_day",
    "created_at",
    "payload",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Break:
    """One thing that no longer matches: in `chain` at entry `seq` (or a closing)."""

    chain: str
    seq: int | None
    kind: str
    reference: str
    problem: str

    def __str__(self):
        where = f"{self.chain} #{self.seq}" if self.seq is not None else self.chain
        return f"{where} ({self.kind} {self.reference}): {self.problem}"


@dataclass
class ChainSummary:
    chain: str
    count: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    first_at: datetime.datetime | None = None
    last_at: datetime.datetime | None = None
    last_hash: str = GENESIS


@dataclass
class Report:
    chains: list[ChainSummary] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    closings: int = 0
    processes: int = 1  # the chains were walked in this many processes

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def entries(self) -> int:
        return sum(chain.count for chain in self.chains)


def verify(*, on_chunk: Callable[[int], None] | None = None, workers: int = 1) -> Report:
    """Check every chain; `on_chunk(entries_so_far)` is called after each range (progress).

    Each chain is checked in ranges of RANGE entries, each range on its own (its first entry
    links to the last entry before it by one lookup), so that `workers` processes can check
    ranges side by side (PostgreSQL; inside a transaction, or on SQLite, one process does it
    all), with the checks made once (rows no entry records, movements per document, selling
    units) beside them. The answers are merged in order: the same report either way.
    """
    report = Report()
    heads = dict(ChainHead.objects.values_list("chain", "last_seq"))
    head_hashes = dict(ChainHead.objects.values_list("chain", "last_hash"))
    ends = _chain_ends()
    chains = sorted(set(heads) | set(ends))
    days = _Days()
    summaries = {chain: ChainSummary(chain) for chain in chains}
    report.chains = list(summaries.values())
    # The checks made once whatever the journal's length run in the same processes as the
    # ranges, before them and the longest first: both processes stay busy to the end.
    tasks = [*_once(), *(("range", *item) for item in _ranges(chains, ends))]
    report.processes = _processes(workers, tasks)
    answers, done = {}, 0
    for task, result in zip(tasks, _map(_run, tasks, report.processes), strict=True):
        if task[0] != "range":
            answers[task] = result
            continue
        _merge(summaries[result.chain], result, report.breaks, days)
        done += result.summary.count
        if on_chunk is not None:
            on_chunk(done)
    for chain, summary in summaries.items():
        _check_head(summary, heads.get(chain), head_hashes.get(chain), report.breaks)
    report.closings = _check_closings(days, report.breaks)
    report.breaks += answers["selling_units",]
    found = {query: answers["coverage", query] for query in coverage.queries()}
    report.breaks += [
        Break(row.chain, None, row.kind, row.reference, row.problem)
        for row in coverage.combine(found, days.movements)
    ]
    report.breaks += _unbalanced_documents(answers["unbalanced",], report.breaks)
    return report


def _once() -> list[tuple]:
    """The checks made once, the longest first (at 1,000,000 sales: the movements added up per
    document, the till's movements and the sales without an entry, the stray payments)."""
    first = [("till_movements",), ("unrecorded", 0), ("stray_payments",)]
    rest = [query for query in coverage.queries() if query not in first]
    return [
        ("unbalanced",),
        *(("coverage", query) for query in first + rest),
        ("selling_units",),
    ]


def _run(task: tuple):
    """One task of verify(), in this process or a worker: a range of entries or a check made
    once."""
    name = task[0]
    if name == "range":
        return _check_range(*task[1:])
    if name == "coverage":
        return coverage.find(task[1])
    if name == "unbalanced":
        return coverage.unbalanced_movements()
    return _check_selling_units()


def _check_selling_units() -> list[Break]:
    """Each selling unit against the last entry that records it (earlier ones record what it
    was then: their hash protects them): the same price, factor, barcode..., or gone if that
    entry removed it. Units are few; their entries are read apart from the walk."""
    latest = {}
    rows = JournalEntry.objects.filter(kind=JournalKind.SELLING_UNIT).order_by("chain", "seq")
    for chain, seq, reference, payload in rows.values_list(
        "chain", "seq", "reference", "payload"
    ).iterator(chunk_size=CHUNK):
        latest[reference] = (chain, seq, payload)
    units = {
        unit["id"]: unit
        for unit in SellingUnit.objects.filter(
            pk__in=rebuild.ids_of([(reference, None) for reference in latest]).values()
        ).values("id", *events.SELLING_UNIT_FIELDS)
    }
    breaks = []
    for reference, (chain, seq, payload) in latest.items():
        try:
            stored = orjson.loads(payload)
            data, at = stored["data"], datetime.datetime.fromisoformat(stored["at"])
            unit = units.get(int(reference.partition(":")[2]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # named by the walk (not JSON, or lacking its fields)
        problem = None
        if data.get("change") == "deleted":
            if unit is not None:
                problem = _("the selling unit it records as removed is still in the database")
        elif unit is None:
            problem = _("the %(kind)s it records is no longer in the database") % {
                "kind": "selling unit"
            }
        else:
            fresh = events.selling_unit_event(
                unit, change=data.get("change"), user_id=data.get("user_id"), at=at
            ).payload()
            if fresh != payload:
                problem = differs(stored, orjson.loads(fresh))
        if problem is not None:
            breaks.append(Break(chain, seq, JournalKind.SELLING_UNIT, reference, problem))
    return breaks


def _unbalanced_documents(rows: list, breaks: list[Break]) -> list[Break]:
    """A sale, void or refund whose stock movements no longer add up to the lines its entry
    holds (a movement added or changed past the services; `rows`: coverage's
    unbalanced_movements()), named by that entry. A document with no entry is named already; an
    entry already broken is not named twice."""
    if not rows:
        return []
    found = JournalEntry.objects.filter(
        kind__in={row.kind for row in rows}, reference__in={row.reference for row in rows}
    ).values_list("kind", "reference", "chain", "seq")
    entries = {(kind, reference): (chain, seq) for kind, reference, chain, seq in found}
    broken = {(b.chain, b.seq) for b in breaks if b.seq is not None}
    named = []
    for row in rows:
        entry = entries.get((row.kind, row.reference))
        if entry is None or entry in broken:
            continue
        named.append(
            Break(
                *entry,
                row.kind,
                row.reference,
                _(
                    "the stock movements of product %(product)s add up to %(moved)s, the lines "
                    "it records to %(expected)s"
                )
                % {
                    "product": row.product_id,
                    "moved": _quantity(row.moved),
                    "expected": _quantity(row.expected),
                },
            )
        )
    return named


def _quantity(value) -> str:
    """A summed quantity as the journal writes quantities (three places); none is 0."""
    return f"{Decimal(str(value or 0)).quantize(Decimal('0.001')):f}"


RANGE = 50_000


def _ranges(chains: list[str], ends: dict[str, int]) -> list[tuple[str, int, int]]:
    """(chain, first seq, last seq) of each range to check, in order."""
    return [
        (chain, first, first + RANGE - 1)
        for chain in chains
        for first in range(1, ends.get(chain, 0) + 1, RANGE)
    ]


# Each chain and its last entry, read by the (chain, seq) index: one probe per chain, where
# DISTINCT or GROUP BY would read every entry.
_CHAIN_ENDS_SQL = """
WITH RECURSIVE chains (chain) AS (
    SELECT min(chain) FROM {entry}
    UNION ALL
    SELECT (SELECT min(e.chain) FROM {entry} e WHERE e.chain > chains.chain)
    FROM chains WHERE chains.chain IS NOT NULL
)
SELECT chain, (SELECT max(e.seq) FROM {entry} e WHERE e.chain = chains.chain)
FROM chains WHERE chain IS NOT NULL
"""


def _chain_ends() -> dict[str, int]:
    """{chain: its last entry's seq} for every chain with entries."""
    sql = _CHAIN_ENDS_SQL.format(entry=connection.ops.quote_name(JournalEntry._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def _processes(workers: int, tasks: list) -> int:
    """How many processes do `tasks`: `workers` on PostgreSQL outside a transaction (what a
    transaction sees, other processes cannot), else this one."""
    if workers <= 1 or len(tasks) <= 1 or connection.vendor != "postgresql":
        return 1
    return 1 if connection.in_atomic_block else min(workers, len(tasks))


def _map(function, tasks: list, processes: int):
    """`function` over `tasks`, answers in order: in this process, or in `processes` forked
    ones (each opens its own database connection; this one's are closed first, not shared)."""
    if processes <= 1:
        yield from (function(task) for task in tasks)
        return
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        yield from pool.map(function, tasks)


@dataclass
class _RangeResult:
    chain: str
    summary: ChainSummary
    breaks: list[Break]
    days: "_Days"


def _check_range(chain: str, first: int, last: int) -> _RangeResult:
    """The entries first..last of `chain`, linked to the entry before them.

    On PostgreSQL the database does the work per entry (see _FAST_CHUNK_SQL): this process
    links the entries and looks closer only at those the database did not find intact. Should
    the statement fail on some data (DataError), the range is walked entry by entry, as on
    SQLite, and the breaks named the same way."""
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():  # a savepoint inside a caller's transaction
                return _walk_range(chain, first, last, fast=True)
        except DataError:
            pass
    return _walk_range(chain, first, last, fast=False)


def _walk_range(chain: str, first: int, last: int, *, fast: bool) -> _RangeResult:
    before = (
        JournalEntry.objects.filter(chain=chain, seq__lt=first)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    partial = ChainSummary(chain)
    if before is not None:
        partial.last_seq, partial.last_hash = before
    breaks: list[Break] = []
    days = _Days()
    after = partial.last_seq or 0
    while True:
        rows = (
            _checked_entries_after(chain, after, last, days)
            if fast
            else _entries_after(chain, after, last)
        )
        if not rows:
            break
        _check_chunk(chain, rows, partial, breaks, days)
        after = rows[-1][1]
    if isinstance(partial.last_at, str):
        partial.last_at = datetime.datetime.fromisoformat(partial.last_at)
    return _RangeResult(chain, partial, breaks, days)


def _merge(summary: ChainSummary, result: _RangeResult, breaks: list[Break], days) -> None:
    part = result.summary
    breaks += result.breaks
    days.merge(result.days)
    if not part.count:
        return
    summary.count += part.count
    if summary.first_seq is None:
        summary.first_seq, summary.first_at = part.first_seq, part.first_at
    summary.last_seq, summary.last_at, summary.last_hash = (
        part.last_seq,
        part.last_at,
        part.last_hash,
    )


def _check_head(summary: ChainSummary, head, head_hash, breaks: list[Break]) -> None:
    chain = summary.chain
    if head is None:
        breaks.append(Break(chain, summary.last_seq, "", "", _("the chain has no head row")))
    elif (head, head_hash) != (summary.last_seq or 0, summary.last_hash):
        breaks.append(
            Break(
                chain,
                summary.last_seq,
                "",
                "",
                _(
                    "the chain ends at entry %(last)s but its head is entry %(head)s: "
                    "entries after %(last)s were removed or altered"
                )
                % {"last": summary.last_seq or 0, "head": head},
            )
        )


STOCK_KINDS = {
    JournalKind.STOCK_ADJUSTMENT,
    JournalKind.STOCK_COUNT,
    JournalKind.GOODS_RECEIPT,
    JournalKind.TRANSFER_SENT,
    JournalKind.TRANSFER_RECEIVED,
}


class _Days:
    """Per business day, summed while the chains are walked: totals and each chain's head; and
    the ids of the stock movements the stock entries list (back-office movements only)."""

    def __init__(self):
        self.totals: dict[str, Totals] = {}
        self.heads: dict[str, dict[str, tuple[int, str]]] = {}
        self.movements: set[int] = set()

    def add(self, day: str, chain: str, seq: int, digest: str, kind: str, data) -> None:
        self.day(day).add(kind, data)
        self.head(day, chain, seq, digest)
        if kind in STOCK_KINDS:
            self.movements.update(m["id"] for m in data["movements"])

    def day(self, day: str) -> Totals:
        if day not in self.totals:
            self.totals[day], self.heads[day] = Totals(), {}
        return self.totals[day]

    def head(self, day: str, chain: str, seq: int, digest: str) -> None:
        self.day(day)
        heads = self.heads[day]
        if seq > heads.get(chain, (0, ""))[0]:
            heads[chain] = (seq, digest)

    def add_sums(self, day: str, what: str, key: str | None, amount, tax) -> None:
        """Sums of intact sales summed by PostgreSQL (_FAST_CHUNK_SQL): as Totals.add would
        sum their payloads."""
        totals = self.day(day)
        if what == JournalKind.SALE:
            totals.add_sales(int(amount), tax)
        elif what == "tender":
            totals.add_tender(key, amount)
        else:
            totals.add_vat(key, amount, tax)

    def merge(self, other: "_Days") -> None:
        for day, totals in other.totals.items():
            if day not in self.totals:
                self.totals[day], self.heads[day] = Totals(), {}
            self.totals[day].merge(totals)
            heads = self.heads[day]
            for chain, head in other.heads[day].items():
                if head[0] > heads.get(chain, (0, ""))[0]:
                    heads[chain] = head
        self.movements |= other.movements


def alert_owner(report: Report) -> None:
    """Tell the shop's admins of the breaks on every alert channel (email, webhook); never
    raises: for the nightly run."""
    from monitoring import alert_channels

    subject = f"[{alert_channels.shop_name()}] The journal's integrity check found breaks"
    shown = [str(problem) for problem in report.breaks[:50]]
    if len(report.breaks) > len(shown):
        shown.append(f"... and {len(report.breaks) - len(shown)} more")
    summary = f"{len(report.breaks)} break(s) in {report.entries} entries."
    text = "\n".join([subject, "", summary, "", *shown])
    alert_channels.send_email(subject, text, alert_channels.email_recipients())
    alert_channels.post_webhook(text)


def _running(days: _Days, order: list[str]) -> tuple[list[Decimal], list[dict]]:
    """Per day (in `order`): the grand total so far and each chain's head so far."""
    grand, running_grand, heads, running_heads = [], Decimal(0), [], {}
    for day in order:
        running_grand += days.totals[day].net_sales
        grand.append(running_grand)
        for chain, head in days.heads[day].items():
            if head[0] > running_heads.get(chain, (0, ""))[0]:
                running_heads[chain] = head
        heads.append(dict(running_heads))
    return grand, heads


def _check_closings(days: _Days, breaks: list[Break]) -> int:
    """Each closing: in sequence, chained, hashed, and equal to what the entries give now."""
    order = sorted(days.totals)
    grand, heads = _running(days, order)
    previous_seq, previous_hash, count = 0, GENESIS, 0
    rows = Closing.objects.order_by("seq").values_list(
        "seq", "kind", "period_start", "period_end", "grand_total", "payload", "prev_hash", "hash"
    )
    for seq, kind, start, end, grand_total, payload, prev_hash, digest in rows.iterator():
        count += 1
        name = f"{start:%Y-%m-%d}"

        def broke(problem: str, seq=seq, kind=kind, name=name) -> None:
            breaks.append(Break("closings", seq, kind, name, problem))

        if seq != previous_seq + 1:
            broke(
                _("closings %(first)s to %(last)s are missing")
                % {"first": previous_seq + 1, "last": seq - 1}
            )
        if prev_hash != previous_hash:
            broke(_("its previous hash is not the hash of the closing before it"))
        if entry_hash(prev_hash, payload) != digest:
            broke(_("its hash does not match its contents"))
        previous_seq, previous_hash = seq, digest
        upto = bisect.bisect_right(order, end.isoformat())
        totals = Totals()
        for day in order[bisect.bisect_left(order, start.isoformat()) : upto]:
            totals.merge(days.totals[day])
        expected = closings.payload(
            kind,
            start,
            end,
            totals,
            grand[upto - 1] if upto else Decimal(0),
            dict(sorted(heads[upto - 1].items())) if upto else {},
        )
        if expected != payload:
            try:
                stored = orjson.loads(payload)
            except orjson.JSONDecodeError:
                broke(_("its contents are not valid JSON"))
                continue
            path, closing_value, journal_value = first_difference(stored, orjson.loads(expected))
            broke(
                _("%(field)s is %(closing)s in the closing but %(journal)s from the journal")
                % {"field": path, "closing": closing_value, "journal": journal_value}
            )
        elif Decimal(orjson.loads(payload)["grand_total"]) != grand_total:
            broke(_("its grand total column differs from its contents"))
    return count


# PostgreSQL checks each sale entry of a chunk as a whole: the payload is the very text its rows
# give now (built in SQL as pos.journal.canonical writes it: one comparison of two strings, no
# JSON parsed), its hash is sha256(previous hash + payload), and its columns are its sale's
# (chain, reference, business day, time). Such an entry is "intact": it comes back without its
# payload, and its sale's total, payments by tender and lines by VAT rate are summed per day by
# the same statement (rows with a NULL seq; equal text, so the sums of its payload). Any other
# entry (another kind, or a sale whose text differs, even by how a string is escaped) comes with
# its payload, for the walk to check as on SQLite and name what no longer matches.
_FAST_CHUNK_SQL = """
WITH e AS (
    SELECT id, seq, kind, reference, business_day, created_at, payload, prev_hash, hash,
           CASE WHEN kind = 'sale' AND reference ~ '^pos\\.sale:[0-9]{{1,18}}$'
                THEN split_part(reference, ':', 2)::bigint END AS sale_id
    FROM {entry} WHERE chain = %(chain)s AND seq > %(after)s AND seq <= %(upto)s
    ORDER BY seq LIMIT {chunk}
), c AS MATERIALIZED (
    SELECT e.id, e.seq, e.kind, e.reference, e.business_day::text AS day, {at} AS at,
           e.prev_hash, e.hash, s.total, l.rates, l.totals, l.taxes, p.tenders, p.amounts,
           CASE WHEN s.id IS NULL THEN false ELSE COALESCE(
               e.reference = 'pos.sale:' || s.id AND %(chain)s = 'register:' || s.register_id
               AND e.business_day = s.business_day AND e.created_at = s.created_at
               AND e.payload = {sale_text}
               AND encode(sha256(convert_to(e.prev_hash || e.payload, 'UTF8')), 'hex') = e.hash,
               false) END AS intact,
           e.payload
    FROM e
    -- Each sale by its key (OFFSET 0: not a merge join that reads the sales from the first).
    LEFT JOIN LATERAL (SELECT * FROM {sale} s WHERE s.id = e.sale_id OFFSET 0) s ON true
    LEFT JOIN LATERAL (
        SELECT string_agg({line_text}, ',' ORDER BY l.id) AS text,
               array_agg(l.tax_rate) AS rates, array_agg(l.total) AS totals,
               array_agg(l.tax) AS taxes
        FROM {line} l WHERE l.sale_id = s.id
    ) l ON true
    LEFT JOIN LATERAL (
        SELECT string_agg({payment_text}, ',' ORDER BY p.id) AS text,
               array_agg(p.tender) AS tenders, array_agg(p.amount) AS amounts
        FROM {payment} p WHERE p.sale_id = s.id AND p.created_at = s.created_at
    ) p ON true
)
SELECT id, seq, kind, reference, day, at, CASE WHEN intact THEN NULL ELSE payload END,
       prev_hash, hash, NULL::numeric, NULL::numeric
FROM c
UNION ALL
SELECT NULL, NULL, 'sale', NULL, day, NULL, NULL, NULL, NULL, count(*), sum(total)
FROM c WHERE intact GROUP BY day
UNION ALL
SELECT NULL, NULL, 'tender', t.tender, day, NULL, NULL, NULL, NULL, sum(t.amount), NULL
FROM c, unnest(tenders, amounts) t (tender, amount) WHERE intact GROUP BY day, t.tender
UNION ALL
SELECT NULL, NULL, 'vat', COALESCE(v.rate::text, 'none'), day, NULL, NULL, NULL, NULL,
       sum(v.total), sum(v.tax)
FROM c, unnest(rates, totals, taxes) v (rate, total, tax) WHERE intact
GROUP BY day, COALESCE(v.rate::text, 'none')
ORDER BY 2
"""


@functools.cache
def _fast_chunk_sql() -> str:
    quote = connection.ops.quote_name
    return _FAST_CHUNK_SQL.format(
        at=rebuild.CANONICAL_TIME.format("e.created_at"),
        entry=quote(JournalEntry._meta.db_table),
        chunk=CHUNK,
        sale_text=rebuild.sale_payload_text("s", "l.text", "p.text"),
        sale=quote(Sale._meta.db_table),
        line=quote(SaleLine._meta.db_table),
        line_text=rebuild.line_text("l"),
        payment=quote(Payment._meta.db_table),
        payment_text=rebuild.payment_text("p"),
    )


def _checked_entries_after(chain: str, last: int, upto: int, days: "_Days") -> list[tuple]:
    """The entries of the chunk, checked by PostgreSQL; the sums of its intact sales added to
    `days`."""
    with connection.cursor() as cursor:
        cursor.execute(_fast_chunk_sql(), {"chain": chain, "after": last, "upto": upto})
        rows = cursor.fetchall()
    entries = [row[:9] for row in rows if row[1] is not None]
    for _id, _seq, what, key, day, _at, _p, _prev, _hash, amount, tax in rows:
        if _seq is None:
            days.add_sums(day, what, key, amount, tax)
    return entries


def _entries_after(chain: str, last: int, upto: int) -> list[tuple]:
    if connection.vendor == "postgresql":  # formatted by PostgreSQL, no ORM cost per row
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, seq, kind, reference, business_day::text, "  # noqa: S608 - own names
                f"{rebuild.CANONICAL_TIME.format('created_at')}, payload, prev_hash, hash "
                f"FROM {quote(JournalEntry._meta.db_table)} "
                f"WHERE chain = %s AND seq > %s AND seq <= %s ORDER BY seq LIMIT {CHUNK}",
                [chain, last, upto],
            )
            return cursor.fetchall()
    return [
        (pk, seq, kind, ref, day.isoformat(), datetime_text(at), payload, prev, digest)
        for pk, seq, kind, ref, day, at, payload, prev, digest in JournalEntry.objects.filter(
            chain=chain, seq__gt=last, seq__lte=upto
        )
        .order_by("seq")
        .values_list(*ENTRY_COLUMNS)[:CHUNK]
    ]


def _check_chunk(chain: str, rows, summary: ChainSummary, breaks: list[Break], days) -> None:
    to_rebuild: dict[str, list[tuple]] = {}
    intact_heads: dict[str, tuple[int, str]] = {}
    for row in rows:
        _id, seq, kind, reference, day, at, payload, prev_hash, digest = row
        expected_seq = (summary.last_seq or 0) + 1
        if payload is None:
            # Found intact by PostgreSQL (hash, columns, rows; its sums already in `days`):
            # only its link to the entry before it is left to check.
            if seq != expected_seq:
                breaks.append(Break(chain, seq, kind, reference, _gap(expected_seq, seq)))
            if prev_hash != summary.last_hash:
                breaks.append(Break(chain, seq, kind, reference, _unlinked()))
            intact_heads[day] = (seq, digest)  # rows come in sequence: the day's last wins
            _advance(summary, seq, digest, at)
            continue

        def broke(problem: str, seq=seq, kind=kind, reference=reference) -> None:
            breaks.append(Break(chain, seq, kind, reference, problem))

        if seq != expected_seq:
            broke(_gap(expected_seq, seq))
        if prev_hash != summary.last_hash:
            broke(_unlinked())
        if entry_hash(prev_hash, payload) != digest:
            broke(_("its hash does not match its contents"))
        stored = _check_contents(row, chain, days, broke)
        if stored is not None and kind in rebuild.REBUILDERS:
            to_rebuild.setdefault(kind, []).append((seq, reference, payload, stored))
        _advance(summary, seq, digest, at)
    for day, (seq, digest) in intact_heads.items():
        days.head(day, chain, seq, digest)
    for kind, items in to_rebuild.items():
        _compare_with_rows(chain, kind, items, breaks)


def _gap(expected: int, seq: int) -> str:
    return _("entries %(first)s to %(last)s are missing") % {"first": expected, "last": seq - 1}


def _unlinked() -> str:
    return _("its previous hash is not the hash of the entry before it")


def _advance(summary: ChainSummary, seq: int, digest: str, at: str) -> None:
    """One more entry walked: the chain's first (with its time), last and count."""
    summary.count += 1
    if summary.first_seq is None:
        summary.first_seq, summary.first_at = seq, datetime.datetime.fromisoformat(at)
    summary.last_seq, summary.last_hash, summary.last_at = seq, digest, at


def _check_contents(row, chain: str, days, broke) -> dict | None:
    """An entry's payload: valid JSON, agreeing with its columns, with its kind's fields (added
    to the day's totals). The parsed payload, or None when it is not JSON."""
    _id, seq, kind, reference, day, at, payload, _prev_hash, digest = row
    try:
        stored = orjson.loads(payload)
    except orjson.JSONDecodeError:
        broke(_("its contents are not valid JSON"))
        return None
    columns = {"chain": chain, "kind": kind, "ref": reference, "day": day, "at": at}
    for name, value in columns.items():
        if stored.get(name) != value:
            broke(
                _("its column %(name)s (%(column)s) differs from its contents (%(stored)s)")
                % {"name": name, "column": value, "stored": stored.get(name)}
            )
    if isinstance(stored.get("data"), dict) and isinstance(stored.get("day"), str):
        try:
            days.add(stored["day"], chain, seq, digest, kind, stored["data"])
        except (KeyError, TypeError, ArithmeticError):
            broke(_("its contents lack the fields of a %s") % kind)
    return stored


def _compare_with_rows(chain: str, kind: str, items, breaks: list[Break]) -> None:
    if kind == JournalKind.SALE and connection.vendor == "postgresql":
        _compare_sales(chain, items, breaks)
        return
    rebuilt = rebuild.rebuild(kind, [(reference, stored) for _seq, reference, _p, stored in items])
    for seq, reference, payload, stored in items:
        event = rebuilt.get(reference)
        if event is None:
            breaks.append(
                Break(
                    chain,
                    seq,
                    kind,
                    reference,
                    _("the %(kind)s it records is no longer in the database")
                    % {"kind": kind.replace("_", " ")},
                )
            )
            continue
        fresh = event.payload()
        if fresh != payload:
            problem = differs(stored, orjson.loads(fresh))
            breaks.append(Break(chain, seq, kind, reference, problem))


def _compare_sales(chain: str, items, breaks: list[Break]) -> None:
    """Sales on PostgreSQL: each stored payload, parsed, against the one PostgreSQL builds from
    the rows (one comparison of two dicts per sale; the field named only on a difference)."""
    fresh = rebuild.sale_payloads_postgresql([(ref, stored) for _s, ref, _p, stored in items])
    for seq, reference, _payload, stored in items:
        now = fresh.get(reference)
        if now is None:
            problem = _("the %(kind)s it records is no longer in the database") % {"kind": "sale"}
        elif now != stored:
            problem = differs(stored, now)
        else:
            continue
        breaks.append(Break(chain, seq, JournalKind.SALE, reference, problem))


def differs(journal: dict, database: dict) -> str:
    """What a parsed payload has that the one rebuilt from the rows has not: the first field."""
    path, journal_value, database_value = first_difference(journal, database)
    return _("%(field)s is %(journal)s in the journal but %(database)s in the database") % {
        "field": path.removeprefix("data."),
        "journal": journal_value,
        "database": database_value,
    }


def first_difference(journal, database, path: str = "") -> tuple[str, object, object]:
    """The first place where two parsed payloads differ: (path, journal value, database value).
    A list that lost or gained items is named by its length."""
    if isinstance(journal, dict) and isinstance(database, dict):
        for key in sorted(set(journal) | set(database)):
            if journal.get(key) != database.get(key):
                return first_difference(journal.get(key), database.get(key), _join(path, key))
    if isinstance(journal, list) and isinstance(database, list):
        if len(journal) != len(database):
            return (
                _("the number of %(items)s") % {"items": path.removeprefix("data.") or "items"},
                len(journal),
                len(database),
            )
        for i, (a, b) in enumerate(zip(journal, database, strict=True)):
            if a != b:
                return first_difference(a, b, _join(path, str(i)))
    return path or "payload", journal, database


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
