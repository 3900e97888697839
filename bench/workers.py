"""Benchmark: gunicorn's worker class and count for checkout, measured side by side.

    python -m bench workers [--quick] [--profile]

The checkout benchmark's shop (100,000 products, 64 cashiers with open shifts and API tokens),
seeded once; then, for each configuration below in turn, gunicorn started as the Procfile starts
it (`gunicorn vevurn.wsgi -c gunicorn.conf.py`) with WEB_CONCURRENCY and GUNICORN_THREADS set,
and the two loads that decide it: 16 cashiers ringing sales back to back (throughput, and the
P95 when the queue is long), and 64 cashiers each ringing a sale every 2 s (the latency a shop
sees below saturation). Printed per configuration: sales/s, P50/P95/P99, errors, and the server's
CPU per sale (gunicorn master and workers, from /proc; PostgreSQL's is not in it). The machine
is shared: compare the configurations of one run with one another. --profile samples one worker
of the first configuration with py-spy during its 16-cashier run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.checkout import (
    PACE_SECONDS,
    load,
    print_profile,
    seed_shop,
    spare_port,
    start_gunicorn,
    start_profile,
    stop,
    wait_ready,
)
from bench.common import Figure, print_header, print_table, recreate_database
from bench.stack import load_average, server_cpu_seconds

# (label, WEB_CONCURRENCY, GUNICORN_THREADS); the first is gunicorn.conf.py's default on 2 cores.
CONFIGURATIONS = [
    ("sync, 5 workers", 5, 1),
    ("sync, 3 workers", 3, 1),
    ("gthread, 2 workers x 4 threads", 2, 4),
    ("gthread, 3 workers x 4 threads", 3, 4),
    ("gthread, 5 workers x 2 threads", 5, 2),
]
BACK_TO_BACK = 16
PACED = 64


def run(quick: bool = False, profile: bool = False) -> tuple[list[Figure], dict]:
    seconds, warmup = (8, 2) if quick else (20, 3)
    parameters = {
        "app": "gunicorn vevurn.wsgi -c gunicorn.conf.py, WEB_CONCURRENCY and GUNICORN_THREADS set",
        "loads": f"{BACK_TO_BACK} cashiers back to back; {PACED} cashiers, a sale every "
        f"{PACE_SECONDS:g} s each",
        "runs": f"{seconds} s each after {warmup} s warm-up",
    }
    print_header("workers", parameters)
    recreate_database()
    tokens = seed_shop()
    rows, figures = [], []
    with tempfile.TemporaryDirectory(prefix="vevurn-bench-") as tmp:
        workdir = Path(tmp)
        for index, (label, workers, threads) in enumerate(CONFIGURATIONS):
            port = spare_port()
            os.environ.update(WEB_CONCURRENCY=str(workers), GUNICORN_THREADS=str(threads))
            try:
                server = start_gunicorn(port, workdir / f"gunicorn-{index}.log")
            finally:
                del os.environ["WEB_CONCURRENCY"], os.environ["GUNICORN_THREADS"]
            try:
                wait_ready(port, server)
                for cashiers, pace in ((BACK_TO_BACK, 0.0), (PACED, PACE_SECONDS)):
                    profiler = None
                    if profile and index == 0 and not pace:
                        profiler = start_profile(server.pid, seconds + warmup, workdir / "profile")
                    started_load = load_average()
                    before = server_cpu_seconds(server.pid)
                    found = load(port, tokens, cashiers, seconds, warmup, pace=pace)
                    cpu = server_cpu_seconds(server.pid) - before
                    if profiler is not None:
                        profiler.wait()
                    sales = found["sales_per_second"] * seconds
                    # The CPU counted covers the warm-up too: divide by every sale made in it.
                    cpu_per_sale = cpu / max(sales * (seconds + warmup) / seconds, 1) * 1000
                    run_name = f"{cashiers} " + (
                        "back to back" if not pace else f"every {pace:g} s"
                    )
                    rows.append(
                        [
                            label,
                            run_name,
                            found["sales_per_second"],
                            found["p50"],
                            found["p95"],
                            found["p99"],
                            found["errors"],
                            cpu_per_sale,
                            f"{started_load} -> {load_average()}",
                        ]
                    )
                    key = f"{label}, {run_name}"
                    figures += [
                        Figure(
                            "workers",
                            f"{key}: sales/s",
                            found["sales_per_second"],
                            "sales/s",
                            "info",
                        ),
                        Figure("workers", f"{key}: P95 ms", found["p95"], "ms", "info"),
                        Figure(
                            "workers", f"{key}: server CPU ms per sale", cpu_per_sale, "ms", "info"
                        ),
                        Figure("workers", f"{key}: errors", found["errors"], "count"),
                    ]
            finally:
                stop(server)
        print_table(
            [
                "configuration",
                "load",
                "sales/s",
                "P50 ms",
                "P95 ms",
                "P99 ms",
                "errors",
                "server CPU ms/sale",
                "load average",
            ],
            rows,
        )
        if profile:
            print_profile(workdir / "profile", top=25)
    return figures, parameters
