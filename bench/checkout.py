"""Benchmark 1: checkout throughput and latency, beside the database's own ceiling (pgbench).

    python -m bench checkout [--quick] [--profile]

Re-creates the bench database with 100,000 products, 64 cashiers (each with an API token, a
register and an open shift) and starts gunicorn exactly as the Procfile does
(`gunicorn vevurn.wsgi -c gunicorn.conf.py`, production settings, PostgreSQL + Redis). For
N = 1, 4, 16, 64 concurrent cashiers, each does checkouts of 1-10 random lines (cash, with
change) through POST /api/v1/sales/ with a fresh Idempotency-Key, back to back, for a fixed time.
Then 16 and 64 cashiers each ringing one sale every 2 s on a fixed schedule (paced): the
latency below saturation, where back-to-back runs measure only how long the queue is.

Beside each, the ceiling: a pgbench custom script doing the same database work per sale, with
the statements of checkout's transaction in their forms (lock the lines' products and their
levels in id order, read the price rules, lock and bump the register's receipt counter, check the
shift, insert the sale; the lines with the daily product sums in one statement; the payment and
its change; the stock movements with the products' and levels' stock in one statement; append to
the till's journal chain) at the same concurrency. The reads before the transaction (the token,
permissions, open shift, idempotency key) are the app's alone. Ratio = app sales/s / pgbench
sales/s.

Clients run on the same machine (separate processes), as pgbench does. After the runs,
`check_stock` must be clean. --profile samples one gunicorn worker with py-spy during the
16-cashier run and prints where the time goes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from http.client import HTTPConnection
from pathlib import Path

from bench import seed
from bench.common import (
    BASE_DIR,
    Figure,
    app_environ,
    median,
    percentile,
    post_sale,
    print_header,
    print_table,
    recreate_database,
)

PRODUCTS = 100_000
CASHIERS = 64
CONCURRENCY = [1, 4, 16, 64]
CLIENT_PROCESSES = 4
# Besides back to back: cashiers each ringing one sale every PACE_SECONDS (a busy real till
# rings one every 30 s or more), to show the latency a shop sees below saturation.
PACED = [16, 64]
PACE_SECONDS = 2.0


# --- seeding --------------------------------------------------------------------------------


def seed_shop() -> list[str]:
    """Products and cashiers with open shifts; returns the cashiers' API tokens."""
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from accounts.services import assign_role
    from pos.models import Register
    from pos.services.shifts import open_shift

    seed.products(1, PRODUCTS, stock=1_000_000)
    tokens = []
    for i in range(CASHIERS):
        user = User.objects.create_user(
            username=f"bench-cashier-{i}", password=None, first_name=f"Cashier {i}"
        )
        assign_role(user=user, role="cashier")
        register = Register.objects.create(name=f"Bench till {i}", code=f"B{i:02d}")
        open_shift(register=register, cashier=user, opening_float=50_000)
        tokens.append(Token.objects.create(user=user).key)
    from django.db import connections

    connections.close_all()
    return tokens


# --- the app under load -----------------------------------------------------------------------


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "vevurn.wsgi", "-c", "gunicorn.conf.py"],
        cwd=BASE_DIR,
        env=app_environ(DJANGO_SETTINGS_MODULE="vevurn.settings", PORT=port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}")
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not become ready")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cart(rng: random.Random) -> dict:
    lines = [
        {"product": product, "quantity": rng.randint(1, 3)}
        for product in rng.sample(range(1, PRODUCTS + 1), rng.randint(1, 10))
    ]
    # Cash over the total: the app prices the cart and gives change.
    return {"lines": lines, "tenders": [{"tender": "cash", "amount": "1000000"}]}


def cashier_loop(port, token, seed_value, start_at, stop_at, warmup_until, pace, results) -> None:
    """One cashier on one kept-alive connection: checkouts back to back (pace 0), or one sale
    every `pace` seconds on a fixed schedule, whatever the answers' times (a slow answer does not
    lower the load), the first at a random point of the first interval."""
    rng = random.Random(seed_value)
    conn = HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    latencies, statuses, sold = [], Counter(), 0  # sold: warm-up included
    next_sale = start_at + rng.uniform(0, pace)
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        if pace:
            if time.time() < next_sale:
                time.sleep(max(0.0, min(next_sale, stop_at) - time.time()))
                continue
            next_sale += pace
        body = json.dumps(cart(rng))
        began = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/api/v1/sales/",
                body=body,
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError as error:
            status = type(error).__name__
            conn.close()
            conn = HTTPConnection("127.0.0.1", port, timeout=60)
        elapsed = (time.perf_counter() - began) * 1000
        sold += status == 201
        if time.time() >= warmup_until:
            latencies.append(elapsed)
            statuses[status] += 1
    results.append((latencies, dict(statuses), sold))


def client_process(port, tokens, seeds, start_at, stop_at, warmup_until, pace, queue) -> None:
    import threading

    results: list = []
    threads = [
        threading.Thread(
            target=cashier_loop,
            args=(port, token, seed_value, start_at, stop_at, warmup_until, pace, results),
        )
        for token, seed_value in zip(tokens, seeds, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def load(
    port: int, tokens: list[str], cashiers: int, seconds: float, warmup: float, pace: float = 0
) -> dict:
    start_at = time.time() + 1.0
    warmup_until = start_at + warmup
    stop_at = warmup_until + seconds
    queue = multiprocessing.Queue()
    groups = [list(range(cashiers))[i::CLIENT_PROCESSES] for i in range(CLIENT_PROCESSES)]
    processes = [
        multiprocessing.Process(
            target=client_process,
            args=(
                port,
                [tokens[i] for i in group],
                [1000 * cashiers + i for i in group],
                start_at,
                stop_at,
                warmup_until,
                pace,
                queue,
            ),
        )
        for group in groups
        if group
    ]
    for process in processes:
        process.start()
    latencies, statuses, sold = [], Counter(), 0
    for _ in processes:
        for cashier_latencies, cashier_statuses, cashier_sold in queue.get():
            latencies += cashier_latencies
            statuses.update(cashier_statuses)
            sold += cashier_sold
    for process in processes:
        process.join()
    sales = statuses.get(201, 0)
    return {
        "sales_per_second": sales / seconds,
        "p50": median(latencies),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "errors": sum(count for status, count in statuses.items() if status != 201),
        "statuses": dict(statuses),
        "sold": sold,  # warm-up included
    }


# --- where the machine's CPU went ---------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system), with that of its children that have exited
    (a PostgreSQL backend that ends is counted in the postmaster's, a gunicorn worker in the
    master's): summed over a server's processes it only grows, so that the difference between
    two snapshots is the server's CPU in between even when processes came and went (the
    pgbench run's backends). 0 if the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return sum(map(int, fields[11:15])) / TICKS  # utime, stime, cutime, cstime


def _named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return pids


def _wait_for_exits(postgres: set[int], timeout: float = 5.0) -> None:
    """Wait until PostgreSQL's processes are those of `postgres` again: pgbench's backends end
    after pgbench, and their CPU reaches the postmaster's count only once it has reaped them."""
    deadline = time.monotonic() + timeout
    while set(_named("postgres")) - postgres and time.monotonic() < deadline:
        time.sleep(0.02)


def _machine_seconds() -> float:
    """CPU time spent by the whole machine so far, all cores (not idle, not waiting on I/O)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return busy / TICKS  # user, nice, system, irq, softirq, steal


def cpu_snapshot(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the app server (gunicorn's master and workers), PostgreSQL (every
    process of the server: backends, writers), Redis, this process's finished children (the load
    generator's client processes) and the whole machine."""
    children = os.times()
    return {
        "app server": sum(map(_process_seconds, [server_pid, *worker_pids(server_pid)])),
        "PostgreSQL": sum(map(_process_seconds, _named("postgres"))),
        "Redis": sum(map(_process_seconds, _named("redis-server"))),
        "load generator": children.children_user + children.children_system,
        "machine": _machine_seconds(),
    }


CPU_ROLES = ("app server", "PostgreSQL", "Redis", "load generator", "machine")


def cpu_per_sale(before: dict, after: dict, sales: float) -> dict[str, float]:
    """Each role's CPU ms per sale between two snapshots."""
    return {role: 1000 * (after[role] - before[role]) / max(sales, 1) for role in CPU_ROLES}


# --- the ceiling --------------------------------------------------------------------------------

PGBENCH_SCRIPT = """\
\\set lines random(1, 10)
\\set first random(0, {products} - 1)
\\set register :register0 + :client_id
\\set shift :shift0 + :client_id
\\set cashier :cashier0 + :client_id
BEGIN;
SELECT p.id, p.name, p.sku, p.retail_price, p.cost_price, p.minimum_price, p.status,
    l.id, l.on_hand
  FROM pos_stocklevel l JOIN pos_product p ON p.id = l.product_id
  WHERE l.store_id = :store AND l.product_id IN (
    SELECT :product0 + (:first + g * 7919) % {products} FROM generate_series(0, :lines - 1) g)
  ORDER BY l.product_id FOR UPDATE;
UPDATE pos_register SET last_receipt_number = last_receipt_number + 1 WHERE id = :register
  RETURNING code, last_receipt_number AS receipt,
    EXISTS (SELECT 1 FROM pos_shift WHERE id = :shift AND status = 'open' FOR SHARE) AS open \\gset
SELECT r.id, r.price, l.name
  FROM pos_pricerule r LEFT JOIN pos_pricelist l ON l.id = r.price_list_id
  WHERE r.product_id IN (
    SELECT :product0 + (:first + g * 7919) % {products} FROM generate_series(0, :lines - 1) g)
    AND (r.price_list_id IS NULL OR (r.price_list_id = NULL AND l.is_active))
    AND (r.starts_on IS NULL OR r.starts_on <= current_date)
    AND (r.ends_on IS NULL OR r.ends_on >= current_date)
  ORDER BY r.product_id, l.name, r.min_quantity;
INSERT INTO pos_sale (number, register_id, shift_id, cashier_id, status, idempotency_key,
    request_fingerprint, subtotal, discount_total, tax_total, total, change_given, created_at,
    business_day, void_reason, receipt_prints, buyer_tin, purchase_code)
  VALUES (':code' || '-' || lpad(':receipt', 6, '0'),
    :register, :shift, :cashier, 'completed', gen_random_uuid(),
    md5(random()::text), 10000, 0, 1525, 10000, 0, now(), current_date, '', 0, '', '')
  RETURNING id AS sale \\gset
WITH days AS (
  INSERT INTO pos_productdaysales (day, product_id, quantity, total, tax, discounts, cost)
  SELECT current_date, p.id, 2, 2 * p.retail_price, round(2 * p.retail_price * 18 / 118), 0,
    2 * p.cost_price
  FROM pos_product p WHERE p.id IN (
    SELECT :product0 + (:first + g * 7919) % {products} FROM generate_series(0, :lines - 1) g)
  ORDER BY p.id
  ON CONFLICT (day, product_id) DO UPDATE SET quantity = pos_productdaysales.quantity + 2,
    total = pos_productdaysales.total + excluded.total,
    tax = pos_productdaysales.tax + excluded.tax, cost = pos_productdaysales.cost + excluded.cost)
INSERT INTO pos_saleline (sale_id, product_id, product_name, sku, quantity, shelf_price,
    unit_price, line_discount, order_discount, total, tax, tax_rate, unit_cost)
  SELECT :sale, p.id, p.name, p.sku, 2, p.retail_price, p.retail_price, 0, 0,
    2 * p.retail_price, round(2 * p.retail_price * 18 / 118), 18, p.cost_price
  FROM pos_product p WHERE p.id IN (
    SELECT :product0 + (:first + g * 7919) % {products} FROM generate_series(0, :lines - 1) g)
  RETURNING id;
INSERT INTO pos_payment (sale_id, shift_id, tender, amount, is_change, reference, provider,
    created_by_id, created_at)
  VALUES (:sale, :shift, 'cash', 20000, false, '', '', :cashier, now()),
    (:sale, :shift, 'cash', -10000, true, '', '', :cashier, now())
  RETURNING id;
WITH totals AS (
  UPDATE pos_product SET stock_on_hand = stock_on_hand - 2 WHERE id IN (
    SELECT :product0 + (:first + g * 7919) % {products} FROM generate_series(0, :lines - 1) g)),
levels AS (
  UPDATE pos_stocklevel SET on_hand = on_hand - 2 WHERE store_id = :store AND product_id IN (
    SELECT :product0 + (:first + g * 7919) % {products} FROM generate_series(0, :lines - 1) g))
INSERT INTO pos_stockmovement (store_id, product_id, kind, quantity, stock_before, stock_after,
    unit_cost, reason, reference_type, reference_id, reference_label, created_by_id, created_at)
  SELECT :store, p.id, 'sale', -2, l.on_hand, l.on_hand - 2, p.cost_price, '', 'pos.sale',
    :sale::text, 'Sale ' || :receipt, :cashier, now()
  FROM pos_stocklevel l JOIN pos_product p ON p.id = l.product_id
  WHERE l.store_id = :store AND l.product_id IN (
    SELECT :product0 + (:first + g * 7919) % {products} FROM generate_series(0, :lines - 1) g)
  RETURNING id;
WITH event AS (SELECT 'register:' || :register AS chain, $journal$@PAYLOAD@$journal$ AS payload),
head AS (
  UPDATE pos_chainhead SET last_seq = last_seq + 1, prev_hash = last_hash,
    last_hash = encode(sha256(convert_to(last_hash || event.payload, 'UTF8')), 'hex')
  FROM event WHERE pos_chainhead.chain = event.chain
  RETURNING last_seq, pos_chainhead.prev_hash, last_hash)
INSERT INTO pos_journalentry (chain, seq, kind, reference, business_day, created_at, payload,
    prev_hash, hash)
  SELECT event.chain, last_seq, 'sale', 'pos.sale:' || :sale, current_date, now(),
    event.payload, prev_hash, last_hash
  FROM head, event;
COMMIT;
"""


def pgbench(cashiers: int, seconds: float, workdir: Path) -> dict:
    """The same database work as a checkout, at the same concurrency, by pgbench."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM pos_product WHERE sku LIKE 'BENCH-%%'")
        product0 = cursor.fetchone()[0]
        cursor.execute(
            "SELECT min(r.id), min(s.id), min(s.cashier_id) FROM pos_register r "
            "JOIN pos_shift s ON s.register_id = r.id WHERE r.code LIKE 'B%%'"
        )
        register0, shift0, cashier0 = cursor.fetchone()
        cursor.execute("SELECT store_id FROM pos_register WHERE id = %s", [register0])
        store = cursor.fetchone()[0]
        # Each till's journal chain (the app creates a head at its till's first sale).
        cursor.execute(
            "INSERT INTO pos_chainhead (chain, last_seq, last_hash, prev_hash) "
            "SELECT 'register:' || id, 0, repeat('0', 64), repeat('0', 64) FROM pos_register "
            "WHERE code LIKE 'B%%' ON CONFLICT (chain) DO NOTHING"
        )
        # A real sale's entry (the app's runs come first): the journal's closings read it.
        cursor.execute("SELECT payload FROM pos_journalentry WHERE kind = 'sale' LIMIT 1")
        payload = cursor.fetchone()[0]
    script = workdir / "sale.sql"
    script.write_text(PGBENCH_SCRIPT.format(products=PRODUCTS).replace("@PAYLOAD@", payload))
    db = connection.settings_dict
    for name in workdir.glob("pgbench_log*"):
        name.unlink()
    command = [
        "pgbench",
        "-n",
        "-h",
        db["HOST"] or "127.0.0.1",
        "-p",
        str(db["PORT"] or 5432),
        "-U",
        db["USER"],
        "-f",
        str(script),
        "-c",
        str(cashiers),
        "-j",
        str(min(cashiers, 2)),
        "-T",
        str(int(seconds)),
        "-l",
        "--log-prefix",
        str(workdir / "pgbench_log"),
        "-D",
        f"product0={product0}",
        "-D",
        f"register0={register0}",
        "-D",
        f"shift0={shift0}",
        "-D",
        f"cashier0={cashier0}",
        "-D",
        f"store={store}",
        db["NAME"],
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    latencies, failed = [], 0
    for log in workdir.glob("pgbench_log*"):
        for row in log.read_text().split("\n"):
            fields = row.split()
            if len(fields) < 3:
                continue
            if fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000)  # logged in µs
            else:
                failed += 1  # "failed" or "skipped"
    return {
        "sales_per_second": len(latencies) / seconds,
        "p50": median(latencies),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "errors": failed,
        "sales": len(latencies),
    }


# --- profile ----------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def start_profile(master: int, seconds: float, out: Path) -> subprocess.Popen | None:
    pids = worker_pids(master)
    if not pids:
        return None
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(pids[0]),
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def print_profile(out: Path, top: int = 15) -> None:
    """Where one worker spent its samples, from py-spy's raw (collapsed) stacks: the project's
    own functions by inclusive time, and the hottest functions anywhere by self time."""
    if not out.exists():
        print("py-spy wrote no profile (is ptrace allowed here?)\n")
        return
    inclusive, own, total = Counter(), Counter(), 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_frame(frame) for frame in stack.split(";")]
        for frame in {f for f in frames if f.startswith(PROJECT_PACKAGES)}:
            inclusive[frame] += int(count)
        own[frames[-1]] += int(count)
        total += int(count)
    print(f"One gunicorn worker, {total} samples. The project's functions (inclusive):")
    print_table(["function", "%"], [[f, 100 * n / total] for f, n in inclusive.most_common(top)])
    print("Hottest functions anywhere (self):")
    print_table(["function", "%"], [[f, 100 * n / total] for f, n in own.most_common(top)])


PROJECT_PACKAGES = ("pos/", "accounts/", "monitoring/", "core/", "vevurn/")


def _frame(frame: str) -> str:
    """'checkout (/repo/pos/services/checkout.py:90)' -> 'pos/services/checkout.py:checkout'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    base = str(BASE_DIR) + "/"
    if path.startswith(base) and "/.venv/" not in path:
        path = path[len(base) :]
    elif "/site-packages/" in path:
        path = path.split("/site-packages/", 1)[1]
    return f"{path}:{name}"


# --- the benchmark ----------------------------------------------------------------------------


def table_row(name: str, result: dict, ratio: str = "") -> list:
    return [
        name,
        result["sales_per_second"],
        result["p50"],
        result["p95"],
        result["p99"],
        result["errors"],
        ratio,
    ]


def run(quick: bool = False, profile: bool = False) -> tuple[list[Figure], dict]:
    seconds, warmup = (5, 1) if quick else (20, 3)
    concurrency = [1, 4, 16] if quick else CONCURRENCY
    parameters = {
        "shop": f"{PRODUCTS:,} products, {CASHIERS} cashiers with open shifts",
        "app": "gunicorn vevurn.wsgi -c gunicorn.conf.py (production settings, default workers)",
        "load": f"{seconds} s per run after {warmup} s warm-up; 1-10 lines per sale",
        "client": f"{CLIENT_PROCESSES} client processes on this machine, one connection each",
    }
    print_header("checkout", parameters)
    recreate_database()
    tokens = seed_shop()
    rows, figures, split = [], [], []
    with tempfile.TemporaryDirectory(prefix="vevurn-bench-") as tmp:
        workdir = Path(tmp)
        port = spare_port()
        server = start_gunicorn(port, workdir / "gunicorn.log")
        try:
            wait_ready(port, server)
            for cashiers in concurrency:
                profiler = None
                if profile and cashiers == 16:
                    profiler = start_profile(server.pid, seconds + warmup, workdir / "profile")
                began = cpu_snapshot(server.pid)
                app = load(port, tokens, cashiers, seconds, warmup)
                split.append(
                    [f"{cashiers} cashiers: app"]
                    + list(cpu_per_sale(began, cpu_snapshot(server.pid), app["sold"]).values())
                )
                if profiler is not None:
                    profiler.wait()
                began, backends = cpu_snapshot(server.pid), set(_named("postgres"))
                ceiling = pgbench(cashiers, seconds, workdir)
                _wait_for_exits(backends)
                split.append(
                    [f"{cashiers} cashiers: pgbench"]
                    + list(cpu_per_sale(began, cpu_snapshot(server.pid), ceiling["sales"]).values())
                )
                ratio = app["sales_per_second"] / ceiling["sales_per_second"]
                rows.append(table_row(f"{cashiers} cashiers: app", app))
                rows.append(table_row(f"{cashiers} cashiers: pgbench", ceiling, f"{ratio:.2f}"))
                if app["errors"]:
                    print(f"   {cashiers} cashiers: answers other than 201: {app['statuses']}")
                figures += [
                    Figure(
                        "checkout",
                        f"{cashiers} cashiers: sales/s",
                        app["sales_per_second"],
                        "sales/s",
                        "higher",
                    ),
                    Figure("checkout", f"{cashiers} cashiers: P95 ms", app["p95"], "ms"),
                    Figure("checkout", f"{cashiers} cashiers: P99 ms", app["p99"], "ms"),
                    Figure("checkout", f"{cashiers} cashiers: errors", app["errors"], "count"),
                    Figure(
                        "checkout", f"{cashiers} cashiers: app / pgbench", ratio, "ratio", "higher"
                    ),
                    Figure(
                        "checkout",
                        f"{cashiers} cashiers: pgbench sales/s",
                        ceiling["sales_per_second"],
                        "sales/s",
                        "info",
                    ),
                ]
            for cashiers in PACED:
                app = load(port, tokens, cashiers, seconds, warmup, pace=PACE_SECONDS)
                run_name = f"{cashiers} cashiers, a sale every {PACE_SECONDS:g} s each"
                rows.append(table_row(f"{run_name}: app", app))
                figures += [
                    Figure("checkout", f"{run_name}: P95 ms", app["p95"], "ms"),
                    Figure("checkout", f"{run_name}: errors", app["errors"], "count"),
                ]
        finally:
            stop(server)
        print_table(["run", "sales/s", "P50 ms", "P95 ms", "P99 ms", "errors", "app/pgbench"], rows)
        print(
            "Where the machine's CPU went, ms per sale (back to back, the app's warm-up included;"
            " pgbench is the load generator of its own rows):"
        )
        print_table(["run", *CPU_ROLES], split)
        if profile:
            print_profile(workdir / "profile")
    queries = queries_per_sale()
    print(f"Queries per checkout (one API sale of 5 lines, counted in-process): {queries}")
    figures.append(Figure("checkout", "queries per API checkout of 5 lines", queries, "queries"))
    check = subprocess.run(
        [sys.executable, "manage.py", "check_stock"],
        cwd=BASE_DIR,
        env=app_environ(DJANGO_SETTINGS_MODULE="vevurn.settings"),
        capture_output=True,
        text=True,
    )
    print(f"check_stock after the runs: {(check.stdout + check.stderr).strip().splitlines()[-1]}")
    print()
    return figures, parameters


def queries_per_sale() -> int:
    """The queries one API checkout of 5 lines runs, from authentication to the answer, once the
    process is warm (as a worker is during the runs): the first sale of a process also loads the
    shop settings and what else it keeps for later requests."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").order_by("user_id").first()
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    for attempt in range(2):
        body = cart(random.Random(attempt))
        body["lines"] = [
            {"product": p, "quantity": 2} for p in random.Random(attempt).sample(range(1, 99), 5)
        ]
        with CaptureQueriesContext(connection) as captured:
            post_sale(client, body)
    return len(captured.captured_queries)
