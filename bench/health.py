"""Benchmark 4: the health probes' latency, beside django-health-check's own view.

    python -m bench health [--quick]

In-process through the full middleware stack, against the bench PostgreSQL: /api/health/live,
/ready and /detailed, and django-health-check's HealthCheckView over the same checks (database
for ready; database, cache, Redis, disk and memory for detailed). Three Redis states: up; down
(connections refused); hung (a socket that accepts and never answers, the worst case). The
detailed probe must answer within HEALTH_CHECK_TIMEOUT_SECONDS whatever Redis does.
"""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager

from bench.common import (
    DEAD_REDIS_URL,
    Figure,
    ensure_database,
    median,
    percentile,
    print_header,
    print_table,
    run_inprocess,
)

TOKEN = "bench-monitoring-token-0123456789abcdef"  # noqa: S105 - bench-only
TIMEOUT_SECONDS = 2.0
PROBES = {
    "live": "/api/health/live",
    "ready": "/api/health/ready",
    "detailed": "/api/health/detailed",
    "django-health-check ready": "/bench/health-check/ready/",
    "django-health-check detailed": "/bench/health-check/detailed/",
}


@contextmanager
def hung_redis():
    """A port that accepts connections and never answers: Redis hung, not down."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def run(quick: bool = False) -> tuple[list[Figure], dict]:
    requests = 100 if quick else 500
    parameters = {
        "requests": f"{requests} per probe and Redis state, in-process, after 20 to warm up",
        "timeout": f"HEALTH_CHECK_TIMEOUT_SECONDS={TIMEOUT_SECONDS:g}",
    }
    print_header("health", parameters)
    ensure_database()
    rows, figures = [], []
    with hung_redis() as hung_url:
        states = {"Redis up": {}, "Redis down": {"REDIS_URL": DEAD_REDIS_URL}}
        states["Redis hung"] = {"REDIS_URL": hung_url}
        for state, environ in states.items():
            # A hung Redis costs the detailed probes up to their timeout each: fewer requests.
            count = requests if state == "Redis up" else max(20, requests // 10)
            found = run_inprocess(
                {
                    "paths": list(PROBES.values()),
                    "requests": count,
                    # Down or hung: the first requests, which meet Redis failing, count too.
                    "warmup": 20 if state == "Redis up" else 0,
                    "headers": {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
                },
                MONITORING_API_TOKEN=TOKEN,
                HEALTH_CHECK_TIMEOUT_SECONDS=TIMEOUT_SECONDS,
                **environ,
            )
            for name, path in PROBES.items():
                samples = [us / 1000 for us in found["samples"][path]]
                p50, p95, worst = median(samples), percentile(samples, 0.95), max(samples)
                rows.append([name, state, found["status"][path], p50, p95, worst])
                figures.append(
                    Figure(
                        "health",
                        f"{name}, {state}: P50 ms",
                        p50,
                        "ms",
                        "info" if name.startswith("django-health-check") else "lower",
                    )
                )
                if name == "detailed" and state != "Redis up":
                    within = worst <= TIMEOUT_SECONDS * 1000
                    verdict = "within" if within else "OVER"
                    print(f"detailed, {state}: slowest {worst:.0f} ms, {verdict} the timeout")
                    figures.append(Figure("health", f"detailed, {state}: max ms", worst, "ms"))
    print()
    print_table(["probe", "Redis", "status", "P50 ms", "P95 ms", "max ms"], rows)
    return figures, parameters
