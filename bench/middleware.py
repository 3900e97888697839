"""Benchmark 2: what the request metrics middleware adds to a cheap view, per request.

    python -m bench middleware [--quick] [--compare] [--save-baseline]

The same cheap view (/bench/ping/, a JSON answer) through the app's full middleware stack,
in-process (no sockets), in separate worker processes per variant, interleaved over rounds:
metrics off; metrics on with Redis; metrics on with Redis down (on the fallback); and, for
reference, django-prometheus's middlewares instead of ours. Prints the median and mean time per
request and what each adds over "metrics off". Target: under 50 µs with Redis, and at most a
third of django-prometheus's overhead.

Then, for information (not a target), the same view in one process alternating requests between
the stack with our middleware and the same stack without it: the middleware's own cost per
request. The figures above compare separate processes, which differ by more than that from one
process to the next on a busy machine (and include what the flush thread's existence costs this
loop, which never blocks as a gunicorn worker does between requests); this one does not.
"""

from __future__ import annotations

from bench.common import (
    DEAD_REDIS_URL,
    Figure,
    median,
    percentile,
    print_header,
    print_table,
    run_inprocess,
)

PATH = "/bench/ping/"
VARIANTS = {
    "metrics off": {"BENCH_METRICS": "off"},
    "metrics on, Redis": {},
    "metrics on, Redis down": {"REDIS_URL": DEAD_REDIS_URL},
    "django-prometheus (ours off)": {"BENCH_METRICS": "off", "BENCH_PROMETHEUS": "on"},
}


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    requests = 5_000 if quick else 20_000
    rounds = 2 if quick else 3
    parameters = {
        "view": f"GET {PATH} through every middleware, in-process",
        "requests": f"{requests:,} per variant per round, {rounds} rounds, interleaved",
        "same process": f"{requests // 2:,} requests with and without ours, alternating, per round",
    }
    print_header("middleware", parameters)
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(rounds):
        for name, environ in VARIANTS.items():
            found = run_inprocess(
                {"paths": [PATH], "requests": requests, "warmup": 1000}, **environ
            )
            assert found["status"][PATH] == 200, found["status"]
            samples[name] += found["samples"][PATH]

    base_median = median(samples["metrics off"])
    base_mean = sum(samples["metrics off"]) / len(samples["metrics off"])
    rows, added = [], {}
    for name, values in samples.items():
        mean = sum(values) / len(values)
        added[name] = (median(values) - base_median, mean - base_mean)
        rows.append(
            [name, median(values), percentile(values, 0.95), mean, added[name][0], added[name][1]]
        )
    print_table(
        ["variant", "median µs", "P95 µs", "mean µs", "added (median) µs", "added (mean) µs"],
        rows,
    )
    ours = added["metrics on, Redis"][0]
    theirs = added["django-prometheus (ours off)"][0]
    ratio = ours / theirs if theirs > 0 else float("nan")
    print(f"Ours / django-prometheus (median added): {ratio:.2f} (target at most 0.33)")
    print(f"Ours with Redis adds {ours:.1f} µs (target under 50 µs)\n")

    paired: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(rounds):
        found = run_inprocess(
            {
                "paths": [PATH],
                "requests": requests // 2,
                "warmup": 1000,
                "without": "monitoring.metrics.RequestMetricsMiddleware",
            }
        )
        for name in paired:
            paired[name] += found["samples"][name]
    own = median(paired["with"]) - median(paired["without"])
    print_table(
        ["same process, alternating requests", "median µs", "P95 µs"],
        [
            [
                "without our middleware",
                median(paired["without"]),
                percentile(paired["without"], 0.95),
            ],
            [
                "with our middleware (Redis)",
                median(paired["with"]),
                percentile(paired["with"], 0.95),
            ],
        ],
    )
    print(f"Our middleware's own cost, same process: {own:.1f} µs (information)\n")
    figures = [
        Figure("middleware", "request, metrics off: median µs", base_median, "µs"),
        Figure("middleware", "added by metrics, Redis: median µs", ours, "µs"),
        Figure(
            "middleware",
            "added by metrics, Redis down: median µs",
            added["metrics on, Redis down"][0],
            "µs",
        ),
        Figure("middleware", "added by django-prometheus: median µs", theirs, "µs", "info"),
        Figure("middleware", "ours / django-prometheus", ratio, "ratio"),
        Figure(
            "middleware", "our middleware's own cost, same process: median µs", own, "µs", "info"
        ),
    ]
    return figures, parameters
