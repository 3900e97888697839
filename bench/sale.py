"""Benchmark 14: the app's CPU per API sale, in-process (issue 30's 6 ms target).

    python -m bench sale [--quick] [--profile]

API checkouts (`POST /api/v1/sales/`, token authentication, 5 lines, cash with change, a fresh
Idempotency-Key each) made in this process through Django's test client, so through the whole
middleware stack, with production settings on PostgreSQL + Redis; 1,000 products. Sales are
timed in batches; per batch this process's CPU time per sale (`time.process_time`: what the
app's Python costs, far less sensitive to a loaded machine than wall time) and the median wall
time. Reported: statements per sale, the median and the minimum of the batches' CPU per sale.

To compare two versions of the code on a shared machine, run this file from both worktrees at
the same time (each with its own BENCH_DATABASE_URL), so both see the same load. It uses only
what every version since the API's checkout has (bench/seed.py's products, a register, a
shift and a token), so it can be copied into an older worktree as it is.

--profile samples this process with py-spy (bench/requirements.txt) during one more batch
and prints the top functions by self and by inclusive time.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import django

from bench import seed
from bench.common import Figure, post_sale, print_header, print_table, recreate_database

django.setup()  # python -m bench has pointed Django at the bench services

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

PRODUCTS = 1000
LINES = 5


def _till(code: str = "S1") -> Client:
    """A cashier with an API token and an open shift on a till of its own (register `code`)."""
    from rest_framework.authtoken.models import Token

    from accounts import services
    from accounts.models import User
    from pos.models import Register
    from pos.services.shifts import open_shift

    user = User.objects.create_user(
        username=f"bench-sale-cashier-{code}", password=uuid.uuid4().hex
    )
    user = services.assign_role(user=user, role="cashier")
    register = Register.objects.create(code=code, name=f"Sale bench till {code}")
    open_shift(register=register, cashier=user, opening_float=Decimal(0))
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")


def _seller(client: Client, first: int):
    def sell(i: int) -> None:
        body = {
            "lines": [
                {"product": first + (i * 11 + k * 3) % PRODUCTS, "quantity": 1 + k % 2}
                for k in range(LINES)
            ],
            "tenders": [{"tender": "cash", "amount": "10000000"}],
        }
        post_sale(client, body)

    return sell


def _profile(sell, sales: int, start: int) -> None:
    """py-spy samples this process while it sells, only when it holds the GIL (Python running,
    not waiting on PostgreSQL or Redis); prints the top."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "profile.txt"
        sampler = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(os.getpid()),
                "--format",
                "raw",
                "--rate",
                "500",
                "--output",
                str(out),
                "--nonblocking",
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.5)  # py-spy attaches
        for i in range(start, start + sales):
            sell(i)
        sampler.send_signal(2)
        sampler.wait(timeout=60)
        own, inclusive, total = Counter(), Counter(), 0
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            # "function (file:line)" -> "function (file)": one row per function
            frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
            if not any("sell" in f and "bench/sale.py" in f for f in frames):
                continue  # the sleep before selling, the sampler's own startup
            count = int(count)
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    print(f"\npy-spy, {sales} sales, {total} samples of this process holding the GIL:")
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print_table(
            [f"function ({title})", "%"],
            [
                [name[:110], f"{100 * n / total:.1f}"]
                for name, n in counter.most_common(60)
                if n < total * 0.97  # the bench's own frames above the request
            ][:40],
        )


# Under valgrind a sale takes about a second of wall time, so work that depends on the clock
# (the slow-request log line, alert rules evaluated by requests every so many seconds, the
# request metrics flushed every second) would be counted per sale, where at a real till's pace
# it is not: switched off in the counted child. Hash randomization off, for the same count.
_COUNTED_ENVIRON = {
    "PYTHONHASHSEED": "0",
    "SLOW_REQUEST_WARNING_MS": "3600000",
    "SLOW_REQUEST_ERROR_MS": "3600000",
    "ALERT_EVALUATION": "scheduler",
    "METRICS_FLUSH_INTERVAL_SECONDS": "3600",
}


def _instructions(sales: int) -> float:
    """Instructions per sale that this process's kind of work costs, counted by valgrind's
    callgrind: the same sale in a child process (`python -m bench.sale instructions N DIR`, a
    till of its own), counted from its first measured sale to its last (the warm-up and
    Django's start are not instrumented; `callgrind_control` turns counting on and dumps).
    Unlike CPU time, the count is the same on a loaded machine and close on another x86-64
    one, so a change's gain can be read without a quiet machine or a second worktree."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("\ninstructions: valgrind is not installed (apt-get install valgrind)")
        return float("nan")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        child = subprocess.Popen(
            [
                valgrind,
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={folder / 'out'}",
                f"--log-file={folder / 'valgrind.log'}",
                sys.executable,
                "-m",
                "bench.sale",
                "instructions",
                str(sales),
                str(folder),
            ],
            env={**os.environ, **_COUNTED_ENVIRON},
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            _expect(child, "ready")
            _control("-i", "on", child.pid)
            (folder / "go").touch()
            _expect(child, "done")
            _control("-d", child.pid)  # the count so far, to out.1
            (folder / "end").touch()
            child.wait(timeout=120)
        finally:
            child.kill()
        dump = (folder / "out.1").read_text()
    total = int(re.search(r"^totals: (\d+)", dump, re.MULTILINE).group(1))
    return total / sales


def _control(*args) -> None:
    subprocess.run(["callgrind_control", *map(str, args)], check=True, capture_output=True)


def _expect(child: subprocess.Popen, word: str) -> None:
    line = child.stdout.readline().strip()
    if line != word:
        raise RuntimeError(f"the counted child said {line!r}, not {word!r}")


def _counted_child(sales: int, folder: Path) -> None:
    """The child `_instructions` counts: warm, say "ready", wait for "go" (counting is on),
    sell `sales`, say "done", wait for "end" (the count is dumped). It waits by polling a file:
    callgrind_control is answered only while the program runs, not in a blocking read."""
    from pos.models import Product

    settings.RATE_LIMITS["checkout"] = "1000000/m"
    sell = _seller(_till("S2"), Product.objects.get(sku=seed.sku(1)).pk)
    for i in range(50):
        sell(i)
    for word, then in (("ready", "go"), ("done", "end")):
        if word == "done":
            for i in range(50, 50 + sales):
                sell(i)
        print(word, flush=True)
        while not (folder / then).exists():
            time.sleep(0.01)


def run(
    quick: bool = False, profile: bool = False, instructions: bool = False
) -> tuple[list[Figure], dict]:
    batches, per_batch = (5, 40) if quick else (15, 100)
    parameters = {
        "checkout": f"API sales of {LINES} lines (cash) in this process, full middleware stack, "
        f"{batches} batches of {per_batch}, {PRODUCTS:,} products",
    }
    print_header("sale", parameters)
    recreate_database()
    from pos.models import Product

    seed.products(1, PRODUCTS, stock=10**8)
    first = Product.objects.get(sku=seed.sku(1)).pk
    settings.RATE_LIMITS["checkout"] = "1000000/m"  # one cashier far faster than a person
    sell = _seller(_till(), first)
    for i in range(50):  # warm: imports, caches, the connection
        sell(i)
    with CaptureQueriesContext(connection) as captured:
        sell(50)
    statements = len(captured.captured_queries)
    cpu, wall = [], []
    done = 100
    for _ in range(batches):
        began_cpu = time.process_time()
        times = []
        for _ in range(per_batch):
            began = time.perf_counter()
            sell(done)
            times.append((time.perf_counter() - began) * 1000)
            done += 1
        cpu.append((time.process_time() - began_cpu) / per_batch * 1000)
        wall.append(statistics.median(times))
    print(
        f"\nAPI checkout, {LINES} lines, {batches} batches of {per_batch} sales, in this process:"
    )
    print_table(
        ["statements per sale", "CPU ms per sale: median / min of batches", "median wall ms"],
        [
            [
                statements,
                f"{statistics.median(cpu):.2f} / {min(cpu):.2f}",
                f"{statistics.median(wall):.2f}",
            ]
        ],
    )
    print("batches' CPU ms per sale:", " ".join(f"{c:.2f}" for c in cpu))
    if profile:
        _profile(sell, 300 if quick else 1000, done)
    figures = []
    if instructions:
        counted = 20 if quick else 100
        per_sale = _instructions(counted)
        print(f"\ninstructions per sale (callgrind, {counted} sales): {per_sale / 1e6:.2f} million")
        figures.append(
            Figure("sale", "API checkout instructions per sale", per_sale / 1e6, "million", "info")
        )
    return [
        Figure("sale", "API checkout statements", statements, "statements"),
        Figure(
            "sale", "API checkout CPU ms per sale (median of batches)", statistics.median(cpu), "ms"
        ),
        Figure("sale", "API checkout median wall ms", statistics.median(wall), "ms", "info"),
        *figures,
    ], parameters


if __name__ == "__main__" and sys.argv[1:2] == ["instructions"]:
    _counted_child(int(sys.argv[2]), Path(sys.argv[3]))
