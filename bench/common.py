"""What every benchmark shares: the bench database and Redis, machine facts, figures, tables.

Benchmarks never touch the development or test databases: they work in their own PostgreSQL
database (BENCH_DATABASE_URL, default `vevurn_bench` on 127.0.0.1, dropped and re-created by the
benchmarks that seed it) and their own Redis database (BENCH_REDIS_URL, default db 15).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
BASELINE = BENCH_DIR / "baseline.json"

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/vevurn_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
# Nothing listens here: the app sees Redis refuse connections and serves from its fallback.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
SECRET_KEY = "bench-only-secret-key-" + "x" * 40

# A worse figure than the baseline by more than this is flagged by --compare.
TOLERANCE = 0.20


@dataclass(frozen=True)
class Figure:
    bench: str
    name: str
    value: float
    unit: str
    # "lower" or "higher" is better; "info" figures are printed but never compared.
    better: str = "lower"

    @property
    def key(self) -> str:
        return f"{self.bench}: {self.name}"


def app_environ(**overrides) -> dict[str, str]:
    """Environment for the app under test: production settings against the bench services."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST", "DJANGO_SETTINGS_MODULE"))
    }
    environ.update(
        ENV_FILE="/nonexistent/.env",
        DEBUG="false",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        LOG_FORMAT="json",
        LOG_LEVEL="WARNING",
        SENTRY_DSN="",
        # Benchmarks drive one user far past the shop's human limits.
        RATE_LIMIT_CHECKOUT="100000000/m",
        RATE_LIMIT_API_USER="100000000/m",
        RATE_LIMIT_API_ANON="100000000/m",
    )
    environ.update({name: str(value) for name, value in overrides.items()})
    return environ


def use_bench_services(**overrides) -> None:
    """Point this process's Django at the bench services; call before django.setup()."""
    os.environ.update(app_environ(**overrides))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))


def _server_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, "", ""))


def recreate_database() -> None:
    """Drop and create the bench database, empty; then migrate it."""
    import psycopg
    from django.apps import apps

    if apps.ready:  # an earlier benchmark in this run left Django connected to it
        from django.db import connections

        connections.close_all()

    name = urlsplit(DATABASE_URL).path.lstrip("/")
    with psycopg.connect(_server_url(DATABASE_URL, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=app_environ(DJANGO_SETTINGS_MODULE="vevurn.settings"),
        check=True,
    )


def ensure_database() -> None:
    """Create and migrate the bench database if it is missing (kept between runs otherwise)."""
    import psycopg

    name = urlsplit(DATABASE_URL).path.lstrip("/")
    with psycopg.connect(_server_url(DATABASE_URL, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        recreate_database()
    else:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env=app_environ(DJANGO_SETTINGS_MODULE="vevurn.settings"),
            check=True,
        )


def machine() -> dict[str, str]:
    """CPU, Python, PostgreSQL and Redis versions: printed above every table, kept in results."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    info = {
        "host": socket.gethostname(),
        "cpu": f"{cpu} ({usable} usable cores)",
        "python": platform.python_version(),
        "postgresql": _postgres_version(),
        "redis": _redis_version(),
    }
    return info


def _postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(_server_url(DATABASE_URL, "postgres"), connect_timeout=2) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # noqa: BLE001 - a missing service is reported, not raised
        return f"unavailable ({type(error).__name__})"


def _redis_version() -> str:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        return client.info("server")["redis_version"]
    except Exception as error:  # noqa: BLE001
        return f"unavailable ({type(error).__name__})"


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile (P95 = fraction 0.95) of the samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def print_header(bench: str, parameters: dict) -> None:
    print(f"== {bench}")
    for name, value in machine().items():
        print(f"   {name:<11} {value}")
    for name, value in parameters.items():
        print(f"   {name:<11} {value}")
    print()


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    print(
        "  ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    )
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print()


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def save(bench: str, figures: list[Figure], parameters: dict) -> Path:
    """Write this run's figures to bench/results/<bench>.json (not committed)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{bench}.json"
    path.write_text(
        json.dumps(
            {
                "machine": machine(),
                "parameters": parameters,
                "figures": [asdict(figure) for figure in figures],
            },
            indent=2,
        )
        + "\n"
    )
    return path


def load_baseline() -> dict:
    if not BASELINE.exists():
        return {}
    return json.loads(BASELINE.read_text())


def save_baseline(bench: str) -> None:
    """Make this run's figures of `bench` the accepted baseline (other benches' kept)."""
    current = json.loads((RESULTS_DIR / f"{bench}.json").read_text())
    baseline = load_baseline()
    baseline[bench] = current
    BASELINE.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n")
    print(f"Baseline for {bench} saved to {BASELINE}.")


def compare(bench: str, figures: list[Figure]) -> int:
    """Print each figure beside its baseline; return how many got more than 20% worse."""
    accepted = load_baseline().get(bench)
    if accepted is None:
        print(f"No baseline for {bench} yet: run with --save-baseline once the figures are right.")
        return 0
    before = {f"{f['bench']}: {f['name']}": f for f in accepted["figures"]}
    print(
        f"Compared with the baseline of {accepted['machine'].get('host', '?')} "
        f"({accepted['machine'].get('cpu', '?')}):"
    )
    rows, worse = [], 0
    for figure in figures:
        old = before.get(figure.key)
        if old is None or figure.better == "info" or not old["value"]:
            rows.append([figure.name, old["value"] if old else float("nan"), figure.value, "-", ""])
            continue
        ratio = figure.value / old["value"]
        regressed = ratio > 1 + TOLERANCE if figure.better == "lower" else ratio < 1 - TOLERANCE
        worse += regressed
        rows.append(
            [
                figure.name,
                float(old["value"]),
                figure.value,
                f"{ratio:.2f}x",
                "WORSE" if regressed else "",
            ]
        )
    print_table(["figure", "baseline", "now", "now/baseline", ""], rows)
    if worse:
        print(f"{worse} figure(s) more than {TOLERANCE:.0%} worse than the baseline.")
    return worse


def run_inprocess(spec: dict, **environ) -> dict:
    """Run bench/inprocess.py in a child process with the app's environment plus `environ`."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", json.dumps(spec)],
        cwd=BASE_DIR,
        env=app_environ(DJANGO_SETTINGS_MODULE="bench.settings", **environ),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"bench.inprocess failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def post_sale(client, body: dict):
    """POST one API sale (`body` as the API takes it) through Django's test `client`, with a fresh
    Idempotency-Key, as a till sends it; the sale must be made (201)."""
    response = client.post(
        "/api/v1/sales/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.content
    return response
