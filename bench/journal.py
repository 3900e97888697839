"""Benchmark 7: the tamper-evident journal.

    python -m bench journal [--quick]
    python -m bench journal --reuse   # the timed check alone, on the journal seeded before

1. What the journal adds to a checkout: the checkout service called in this process, sales
   alternating between the code as it is and the same code with the journal's append (and the
   closings' after-sale hook) replaced by nothing, so both run in one process, heap and
   database; statements per sale counted for each. Target: at most one statement and 0.5 ms
   more per sale.
2. Re-checking a 1,000,000-entry journal (50,000 with --quick): that many sales (2 lines and a
   payment each, over the last 365 days) seeded in SQL, their entries written from the rows by
   the journal's own code, a year of closings written by the closings service; then
   `pos.journal.verify.verify()` timed in one process and in two (ranges of entries checked
   side by side), with this process's resident memory read at every 10% of the walk and the CPU
   of this process and its workers. Target: under 60 s and flat memory.

Works in the bench database (re-created and migrated first; see bench/common.py).
"""

# ruff: noqa: S608 - the SQL interpolates only integers computed here.
import datetime
import os
import re
import statistics
import threading
import time
import types
import uuid
from decimal import Decimal

import django

from bench import seed
from bench.common import Figure, print_header, print_table, recreate_database

django.setup()  # python -m bench has pointed Django at the bench services

import psutil  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from pos.journal import rebuild  # noqa: E402
from pos.journal.canonical import entry_hash  # noqa: E402
from pos.journal.verify import verify  # noqa: E402
from pos.models import ChainHead, JournalEntry, Register  # noqa: E402
from pos.services import checkout as checkout_module  # noqa: E402
from pos.services.checkout import Cart, CartLine, TenderLine, checkout  # noqa: E402
from pos.services.shifts import open_shift  # noqa: E402

PRODUCTS = 1000
CHUNK = 5000


def _cashier(username: str):
    from accounts import services
    from accounts.models import User

    user = User.objects.create_user(username=username, password=uuid.uuid4().hex)
    return services.assign_role(user=user, role="cashier")


def _without_journal():
    """The checkout module's names for the journal, as they were before it existed."""
    return {
        "journal": types.SimpleNamespace(append=lambda event: None),
        "events": types.SimpleNamespace(
            sale_event=lambda *args: None, price_override_event=lambda *args: None
        ),
        "close_after_sale": lambda: None,
    }


ORIGINAL = ("journal", "events", "close_after_sale")


def _timed_journal(inside: list[float]) -> dict:
    """The checkout module's names for the journal, each call's CPU time added to inside[0]
    (the alternating difference below is noisy on a shared machine; this is not)."""

    def timed(function):
        def call(*args, **kwargs):
            began = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                inside[0] += time.process_time() - began

        return call

    journal, events = checkout_module.journal, checkout_module.events
    return {
        "journal": types.SimpleNamespace(append=timed(journal.append)),
        "events": types.SimpleNamespace(
            sale_event=timed(events.sale_event),
            price_override_event=timed(events.price_override_event),
            discount_approval_event=timed(events.discount_approval_event),
        ),
        "close_after_sale": timed(checkout_module.close_after_sale),
    }


def checkout_overhead(quick: bool) -> list[Figure]:
    sales = 300 if quick else 2000
    cashier = _cashier("bench-journal-cashier")
    register = Register.objects.create(code="J1", name="Journal bench till")
    shift = open_shift(register=register, cashier=cashier, opening_float=Decimal(0))
    first = seed_products_first_id()
    original = {name: getattr(checkout_module, name) for name in ORIGINAL}
    inside = [0.0]  # CPU seconds spent inside the journal's own calls, with the journal
    with_journal = _timed_journal(inside)
    variants = {"with the journal": with_journal, "without": _without_journal()}

    def sell(i: int) -> None:
        lines = [CartLine(first + (i * 7 + k) % PRODUCTS, 1) for k in range(3)]
        checkout(
            shift=shift,
            cashier=cashier,
            cart=Cart(lines),
            tenders=[TenderLine("cash", Decimal(10**7))],
            idempotency_key=uuid.uuid4(),
        )

    statements, samples, cpu = {}, {name: [] for name in variants}, {name: 0.0 for name in variants}
    for name, names in variants.items():
        vars(checkout_module).update(names)
        sell(0)  # warm
        with CaptureQueriesContext(connection) as captured:
            sell(1)
        statements[name] = len(captured.captured_queries)
    for i in range(sales * 2):
        name = "with the journal" if i % 2 == 0 else "without"
        vars(checkout_module).update(variants[name])
        began, began_cpu = time.perf_counter(), time.process_time()
        sell(i)
        samples[name].append((time.perf_counter() - began) * 1000)
        cpu[name] += time.process_time() - began_cpu
    vars(checkout_module).update(original)
    rows = [
        [
            name,
            statements[name],
            f"{statistics.median(ms):.2f}",
            f"{statistics.fmean(ms):.2f}",
        ]
        for name, ms in samples.items()
    ]
    added_median = statistics.median(samples["with the journal"]) - statistics.median(
        samples["without"]
    )
    # Each sale with the journal beside the one rung just after it without: drift cancels.
    paired = statistics.median(
        a - b for a, b in zip(samples["with the journal"], samples["without"], strict=True)
    )
    added_cpu = (cpu["with the journal"] - cpu["without"]) / sales * 1000
    inside_ms = inside[0] / (sales + 2) * 1000  # the warm-up and counted sales too
    print(f"\nCheckout, {sales:,} sales of 3 lines each way, alternating, in this process:")
    print_table(["checkout", "statements per sale", "median ms", "mean ms"], rows)
    print(
        f"The journal adds {statements['with the journal'] - statements['without']} statement "
        f"and {added_median:.3f} ms per sale by the medians, {paired:.3f} ms by the median of "
        f"paired differences, {added_cpu:.3f} ms of this process's CPU (target: at most 1 "
        "and 0.5 ms)."
    )
    print(
        f"CPU inside the journal's own calls (building the event, its canonical JSON, the "
        f"append statement, the closings' after-sale check): {inside_ms:.3f} ms per sale."
    )
    return [
        Figure(
            "journal",
            "checkout statements added",
            statements["with the journal"] - statements["without"],
            "statements",
        ),
        Figure("journal", "checkout ms added (median of pairs)", paired, "ms"),
        Figure("journal", "checkout CPU ms added", added_cpu, "ms"),
        Figure("journal", "checkout CPU ms inside the journal's calls", inside_ms, "ms"),
    ]


def seed_products_first_id() -> int:
    from pos.models import Product

    if not Product.objects.filter(sku=seed.sku(1)).exists():
        seed.products(1, PRODUCTS, stock=10**8)
        journal_opening_stock()
    return Product.objects.get(sku=seed.sku(1)).pk


def journal_opening_stock() -> None:
    """The seeded opening stock in one stock entry, as the catalogue service would journal it
    (seeded in SQL, it has none: the check would name every movement)."""
    from pos.models import JournalKind, StockMovement
    from pos.services.journal import append_stock

    with transaction.atomic():
        append_stock(JournalKind.STOCK_ADJUSTMENT, list(StockMovement.objects.order_by("pk")))


def seed_sales(count: int, register, shift, cashier, first_product: int) -> int:
    """`count` sales of 2 lines and a cash payment, spread over the 365 days before today."""
    end = datetime.datetime.combine(
        timezone.localdate(), datetime.time(), timezone.get_current_timezone()
    )
    start = end - datetime.timedelta(days=365)
    step = 365 * 86400 / count
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("SELECT coalesce(max(id), 0) FROM pos_sale")
        (base,) = cursor.fetchone()
        cursor.execute(
            f"""INSERT INTO pos_sale (id, number, register_id, shift_id, cashier_id, status,
                  idempotency_key, request_fingerprint, subtotal, discount_total, tax_total,
                  total, change_given, created_at, business_day, void_reason, receipt_prints,
                  buyer_tin, purchase_code)
                SELECT {base} + i, 'J2-' || lpad(i::text, 7, '0'), %s, %s, %s, 'completed',
                  md5('journal-bench-' || i)::uuid, '', p1.retail_price + p2.retail_price, 0,
                  round(p1.retail_price * 18 / 118) + round(p2.retail_price * 18 / 118),
                  p1.retail_price + p2.retail_price, 0, t.at,
                  (t.at AT TIME ZONE 'Africa/Kigali')::date, '', 0, '', ''
                FROM generate_series(1, %s) i
                JOIN pos_product p1 ON p1.id = {first_product} + i %% {PRODUCTS}
                JOIN pos_product p2 ON p2.id = {first_product} + (i + 1) %% {PRODUCTS}
                CROSS JOIN LATERAL (SELECT %s::timestamptz + i * %s * interval '1 second' AS at) t
            """,
            [register.pk, shift.pk, cashier.pk, count, start, step],
        )
        cursor.execute("SELECT setval('pos_sale_id_seq', (SELECT max(id) FROM pos_sale))")
        cursor.execute(
            f"""INSERT INTO pos_saleline (sale_id, product_id, product_name, sku, quantity,
                  shelf_price, unit_price, line_discount, order_discount, total, tax, tax_rate,
                  unit_cost)
                SELECT s.id, p.id, p.name, p.sku, 1, p.retail_price, p.retail_price, 0, 0,
                  p.retail_price, round(p.retail_price * 18 / 118), 18, p.cost_price
                FROM pos_sale s CROSS JOIN generate_series(0, 1) k
                JOIN pos_product p ON p.id = {first_product} + (s.id - {base} + k) % {PRODUCTS}
                WHERE s.id > {base}
                ORDER BY s.id, k"""
        )
        # Each line's stock movement, as checkout writes it (the check adds them up per sale;
        # before and after are not what it checks, so they are left at 0 here).
        cursor.execute(
            f"""INSERT INTO pos_stockmovement (store_id, product_id, kind, quantity,
                  stock_before, stock_after, unit_cost, reason, reference_type, reference_id,
                  reference_label, created_by_id, created_at)
                SELECT r.store_id, l.product_id, 'sale', -l.quantity, 0, 0, l.unit_cost, '',
                  'pos.sale', l.sale_id::text, '', s.cashier_id, s.created_at
                FROM pos_saleline l JOIN pos_sale s ON s.id = l.sale_id
                JOIN pos_register r ON r.id = s.register_id
                WHERE s.id > {base} ORDER BY l.id"""
        )
        cursor.execute(
            f"""INSERT INTO pos_payment (sale_id, shift_id, tender, amount, is_change, reference,
                  provider, created_by_id, created_at)
                SELECT id, shift_id, 'cash', total, false, '', '', cashier_id, created_at
                FROM pos_sale WHERE id > {base} ORDER BY id"""
        )
        cursor.execute("ANALYZE")
    return base


def write_entries(base: int, count: int, chain: str) -> None:
    """Each seeded sale's entry, built from its rows by the journal's own code, chained."""
    head = ChainHead.objects.get(chain=chain)
    seq, before, previous = head.last_seq, head.prev_hash, head.last_hash
    columns = "chain, seq, kind, reference, business_day, created_at, payload, prev_hash, hash"
    with connection.cursor() as cursor:
        for first in range(base + 1, base + count + 1, CHUNK):
            ids = range(first, min(first + CHUNK, base + count + 1))
            built = rebuild.rebuild("sale", [(f"pos.sale:{pk}", {}) for pk in ids])
            with cursor.cursor.copy(f"COPY pos_journalentry ({columns}) FROM STDIN") as copy:
                for pk in ids:
                    event = built[f"pos.sale:{pk}"]
                    payload = event.payload()
                    digest = entry_hash(previous, payload)
                    seq += 1
                    before = previous
                    copy.write_row(
                        [chain, seq, "sale", event.reference, event.day, event.at, payload,
                         previous, digest]
                    )  # fmt: skip
                    previous = digest
        ChainHead.objects.filter(chain=chain).update(
            last_seq=seq, prev_hash=before, last_hash=previous
        )
        cursor.execute("ANALYZE pos_journalentry")


def verify_at_scale(quick: bool) -> list[Figure]:
    from pos.services.closings import close_due_periods

    count = 50_000 if quick else 1_000_000
    cashier = _cashier("bench-journal-seeded")
    register = Register.objects.create(code="J2", name="Seeded till")
    shift = open_shift(register=register, cashier=cashier, opening_float=Decimal(0))
    first = seed_products_first_id()
    began = time.perf_counter()
    with transaction.atomic():
        base = seed_sales(count, register, shift, cashier, first)
        write_entries(base, count, f"register:{register.pk}")
    seeded = time.perf_counter() - began
    began = time.perf_counter()
    closings = close_due_periods()
    closed = time.perf_counter() - began
    print(
        f"\nSeeded {count:,} sales and their entries in {seeded:.0f} s; "
        f"{len(closings)} closings written in {closed:.0f} s."
    )
    process = psutil.Process()
    total = JournalEntry.objects.count()
    figures = []
    for workers in (1, 2):
        figures += _timed_verify(workers, total, process)
    return figures


class _BackendCPU:
    """CPU seconds of this bench database's PostgreSQL backends (and of their parallel workers)
    while the check runs, read from /proc/PID/stat every 50 ms by a thread (Linux; a backend
    that ends between two readings loses at most 50 ms). The thread's own CPU is kept apart, so
    that this process's figure does not count it."""

    def __init__(self, database: str):
        self.database = f" {database} "
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.own = 0.0
        self.stop = threading.Event()
        self.start = {pid: self._cpu(pid) or 0.0 for pid, _what in self._backends()}
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _cpu(self, pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def _backends(self):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                    command = cmdline.read().decode(errors="replace")
            except OSError:
                continue
            if not command.startswith("postgres: "):
                continue
            if self.database in command:
                yield int(name), "backend"
            elif (leader := re.search(r"parallel worker for PID (\d+)", command)) and (
                int(leader.group(1)) in self.last
            ):
                yield int(name), "parallel worker"

    def _poll(self) -> None:
        began = time.thread_time()
        while not self.stop.is_set():
            for pid, what in list(self._backends()):
                cpu = self._cpu(pid)
                if cpu is not None:
                    self.last[pid] = (what, cpu)
            self.stop.wait(0.05)
        self.own = time.thread_time() - began

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def used(self) -> dict[int, tuple[str, float]]:
        """{pid: (backend or parallel worker, CPU seconds used while the check ran)}."""
        return {
            pid: (what, cpu - self.start.get(pid, 0.0))
            for pid, (what, cpu) in self.last.items()
            if cpu - self.start.get(pid, 0.0) > 0
        }


def _timed_verify(workers: int, total: int, process) -> list[Figure]:
    """verify() in `workers` processes: wall time, CPU of this process and of the workers and
    of PostgreSQL's backends, and this process's resident memory at every 10% of the
    entries."""
    import resource

    memory, marks = [], [total * k // 10 for k in range(1, 11)]

    def sample(done: int) -> None:
        while marks and done >= marks[0]:
            marks.pop(0)
            memory.append((done, process.memory_info().rss / 2**20))

    rss_before = process.memory_info().rss / 2**20
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    database = connection.settings_dict["NAME"]
    with _BackendCPU(database) as backends:
        began, began_cpu = time.perf_counter(), time.process_time()
        report = verify(on_chunk=sample, workers=workers)
        seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    cpu -= backends.own
    used = backends.used()
    database_cpu = sum(cpu for _what, cpu in used.values())
    parallel = sum(cpu for what, cpu in used.values() if what == "parallel worker")
    busiest = sorted((cpu for what, cpu in used.values() if what == "backend"), reverse=True)
    assert report.ok, report.breaks[:5]
    print(
        f"verify(workers={workers}): {report.entries:,} entries and {report.closings} closings "
        f"in {seconds:.1f} s ({report.entries / seconds:,.0f} entries/s; target under 60 s), "
        f"no break. CPU: {cpu:.1f} s in Python (this process and its workers), "
        f"{database_cpu:.1f} s in PostgreSQL (backends "
        f"{' + '.join(f'{b:.1f}' for b in busiest[:4])}, parallel workers {parallel:.1f}), "
        f"{cpu + database_cpu:.1f} s in all; load average {os.getloadavg()[0]:.1f}."
    )
    print_table(
        ["entries checked", "resident memory MB"],
        [["before", f"{rss_before:.0f}"], *[[f"{n:,}", f"{mb:.0f}"] for n, mb in memory]],
    )
    growth = memory[-1][1] - memory[0][1] if memory else 0.0
    print(f"Memory from the first 10% to the end: {growth:+.0f} MB.")
    name = f"verify {total:,} entries, {workers} process{'es' if workers > 1 else ''}"
    return [
        Figure("journal", f"{name}: s", seconds, "s"),
        Figure("journal", f"{name}: CPU s", cpu, "s"),
        Figure("journal", f"{name}: PostgreSQL CPU s", database_cpu, "s"),
        Figure("journal", f"{name}: memory growth 10%->100% MB", growth, "MB"),
    ]


def verify_seeded() -> list[Figure]:
    """The timed check alone, against the journal a full run seeded and left in the bench
    database (nothing re-created or seeded: seeding 1,000,000 sales takes 10-20 minutes)."""
    total = JournalEntry.objects.count()
    if not total:
        raise SystemExit(
            "The bench database holds no journal: run `python -m bench journal` once first."
        )
    print(f"\nThe journal already seeded in the bench database: {total:,} entries.")
    process = psutil.Process()
    figures = []
    for workers in (1, 2):
        figures += _timed_verify(workers, total, process)
    return figures


def run(quick: bool = False, reuse: bool = False) -> tuple[list[Figure], dict]:
    if reuse:
        parameters = {"verify": "the journal already seeded in the bench database"}
        print_header("journal", parameters)
        return verify_seeded(), parameters
    parameters = {
        "checkout": "service calls in this process, 3-line cash sales, alternating variants",
        "verify": f"{50_000 if quick else 1_000_000:,} sale entries over 365 days + closings",
    }
    print_header("journal", parameters)
    recreate_database()
    figures = checkout_overhead(quick)
    # Half of those sales were rung without the journal: the check would name each one.
    recreate_database()
    figures += verify_at_scale(quick)
    return figures, parameters
