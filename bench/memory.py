"""Benchmark 6: a worker's resident memory over 100,000 requests (it must level off).

    python -m bench memory [--quick]

One in-process worker serves 100,000 requests spread over four kinds: the cheap view with a
different query string each time, a 404 on a different path each time (so any per-path state
would grow), the live probe and the login page. RSS is read at checkpoints. Run with Redis up
and with Redis down, where the metrics and the cache live in the bounded in-memory fallback.
Growth over the second half of the run is the figure to watch: bounded means about zero.
"""

from __future__ import annotations

from bench.common import (
    DEAD_REDIS_URL,
    Figure,
    ensure_database,
    print_header,
    print_table,
    run_inprocess,
)

PATHS = ["/bench/ping/?n={n}", "/no-such-page/{n}/", "/api/health/live", "/"]


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    total = 20_000 if quick else 100_000
    per_path = total // len(PATHS)
    checkpoints = [total // 10 * i for i in (1, 2, 5, 10)]
    parameters = {"requests": f"{total:,} ({per_path:,} each of {', '.join(PATHS)})"}
    print_header("memory", parameters)
    ensure_database()
    rows, figures = [], []
    for state, environ in {"Redis up": {}, "Redis down": {"REDIS_URL": DEAD_REDIS_URL}}.items():
        found = run_inprocess(
            {
                "paths": PATHS,
                "requests": per_path,
                "warmup": 0,
                "interleave": True,
                "rss_at": checkpoints,
            },
            **environ,
        )
        rss = {int(k): v for k, v in found["rss_mb"].items()}
        half, end = rss[checkpoints[-2]], rss[checkpoints[-1]]
        rows.append([state, rss[0], *(rss[c] for c in checkpoints), end - half])
        figures += [
            Figure("memory", f"{state}: RSS after {total:,} requests MB", end, "MB"),
            Figure("memory", f"{state}: growth over the second half MB", end - half, "MB", "info"),
        ]
    print_table(
        ["Redis", "RSS at start MB", *(f"after {c:,}" for c in checkpoints), "second half +MB"],
        rows,
    )
    return figures, parameters
