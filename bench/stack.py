"""Benchmark: the cheapest request through gunicorn, ours beside bare Django in the same run.

    python -m bench stack [--quick] [--profile] [--compare]

Two gunicorn servers side by side, each with 2 sync workers (the comparison issue 30 defines):
the app as the Procfile runs it (`gunicorn vevurn.wsgi -c gunicorn.conf.py`, its defaults but
for the worker class and count; production settings plus the bench's views; the JSON access log
on: LOG_LEVEL=INFO, lines written to a file) and bare Django (bench/bare_settings.py:
startproject's middlewares, no logging of its own). One client on this
machine keeps 8 connections busy (a new connection per request where the worker closes it, as
sync workers do), in rounds of a few seconds, alternating between

- bare Django: GET /bench/ping/ (a JSON view);
- ours: the same view through the full middleware stack;
- ours: GET /api/health/live, answered by the probe middleware near the top of the stack.

With gthread workers, each round's 8 connections start spread evenly over the two workers
(`spread_connections`): a gthread worker keeps the connections it accepted, and which worker
wins a connection is a race. Round by round the two servers see the same machine (this one is
shared: compare the ratios, not the absolute figures). Printed per variant: requests/s, and
the servers' CPU per request (utime + stime of the gunicorn master and its workers, exited
workers included, from /proc), which a busy machine inflates less than wall time. Target
(issue 30): ours at least 0.8 of bare Django's throughput. --profile samples one of our workers
with py-spy during a round of the JSON view and prints where its time goes.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.checkout import print_profile, spare_port, start_profile, stop, worker_pids
from bench.common import (
    BASE_DIR,
    Figure,
    app_environ,
    ensure_database,
    print_header,
    print_table,
)

CONNECTIONS = 8
WORKERS = 2
PING = "/bench/ping/"
LIVE = "/api/health/live"
TICKS = os.sysconf("SC_CLK_TCK")


# The worker configurations both servers run in turn, the same for each: sync workers (the
# issue's comparison: a connection per request) and gunicorn.conf.py's default, gthread (a
# worker per core with 4 threads, connections kept alive).
MODES = {"sync": 1, "gthread": 4}


def start_ours(port: int, log: Path, threads: int = 1, **environ) -> subprocess.Popen:
    return _start(
        [sys.executable, "-m", "gunicorn", "vevurn.wsgi", "-c", "gunicorn.conf.py"],
        log,
        app_environ(
            DJANGO_SETTINGS_MODULE="bench.settings",
            PORT=port,
            WEB_CONCURRENCY=WORKERS,
            GUNICORN_THREADS=threads,  # 1: sync workers
            LOG_LEVEL="INFO",  # the access line of every request, as in production
            **environ,
        ),
    )


def start_bare(port: int, log: Path, threads: int = 1) -> subprocess.Popen:
    """Bare Django under gunicorn's own defaults but for the worker settings ours runs with.
    Its configuration file is named (an empty one): without `-c`, gunicorn reads
    ./gunicorn.conf.py, the app's, whose 4 threads turn `--worker-class sync` into gthread (as
    gunicorn does whenever threads > 1): before 5 Dec 2026 the "bare" reference ran 2 gthread
    workers with keep-alive against our 2 sync workers closing every connection."""
    return _start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "django.core.wsgi:get_wsgi_application()",
            "--config",
            str(Path(__file__).with_name("bare_gunicorn.conf.py")),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(threads),
            "--worker-class",
            "sync" if threads == 1 else "gthread",
            "--keep-alive",
            "5",  # gunicorn.conf.py's GUNICORN_KEEPALIVE default
            "--no-control-socket",
        ],
        log,
        app_environ(DJANGO_SETTINGS_MODULE="bench.bare_settings"),
    )


def _start(command: list[str], log_path: Path, environ: dict) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_answering(port: int, path: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}")
        done, _ = hammer(port, path, connections=1, seconds=0.2)
        if done:
            return
        time.sleep(0.3)
    sys.exit(f"gunicorn on port {port} did not answer {path}")


def server_cpu_seconds(master: int) -> float:
    """CPU of the gunicorn master, its live workers and the workers it has reaped."""
    ticks = _stat_ticks(master, children_too=True)
    for pid in worker_pids(master):
        ticks += _stat_ticks(pid, children_too=False)
    return ticks / TICKS


def _stat_ticks(pid: int, *, children_too: bool) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:  # a worker that exited between the listing and the read
        return 0
    # After the command: state is fields[0]; utime, stime, cutime, cstime are fields 11-14.
    ticks = int(fields[11]) + int(fields[12])
    if children_too:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


class _Connection:
    __slots__ = ("buffer", "sock")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""


def _request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def spread_connections(
    port: int, path: str, connections: int, master: int, timeout: float = 30
) -> list[socket.socket]:
    """`connections` kept-alive connections to the server whose gunicorn master is `master`,
    each answered once, spread evenly over its workers.

    A gthread worker keeps the connections it accepted, and which worker accepts one is a race
    that the worker awake first wins: 8 connections opened together often all went to one of
    the two workers, which then served alone on one core at about half the throughput (bare
    Django and ours alike, measured per worker on 6 Dec 2026). That luck, not the stack, decided
    the gthread ratio, which swung 0.45-1.03 between runs. So a connection that lands on a
    worker already holding its share is closed and opened again (until `timeout`: a worker
    still loading the app accepts nothing yet)."""
    workers = [psutil.Process(pid) for pid in worker_pids(master)]
    share = -(-connections // max(len(workers), 1))
    held: dict[int, list[socket.socket]] = {worker.pid: [] for worker in workers}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(map(len, held.values())) == connections:
            return [sock for socks in held.values() for sock in socks]
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(_request(path))
        _read_answer(sock)  # accepted and answered: the worker holds it now
        owner = _owner(workers, sock.getsockname()[1])
        if owner in held and len(held[owner]) < share:
            held[owner].append(sock)
        else:
            sock.close()
    sys.exit(f"gunicorn's workers did not take {connections} connections evenly in {timeout} s")


def _owner(workers: list[psutil.Process], client_port: int) -> int | None:
    for worker in workers:
        for connection in worker.net_connections(kind="tcp4"):
            if connection.raddr and connection.raddr.port == client_port:
                return worker.pid
    return None


def _read_answer(sock: socket.socket) -> None:
    """Read one whole answer from a blocking socket."""
    data = b""
    while (head_end := data.find(b"\r\n\r\n")) < 0:
        data += _received(sock)
    while len(data) < head_end + 4 + _content_length(data[:head_end]):
        data += _received(sock)


def _received(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("the server closed the connection before its whole answer")
    return data


def _content_length(head: bytes) -> int:
    for line in head.lower().split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def hammer(
    port: int, path: str, connections: int, seconds: float, spread_over: int | None = None
) -> tuple[int, int]:
    """GET `path` over `connections` connections, one request at a time on each, for `seconds`;
    returns (answers 200, other answers or failed connections). Reconnects whenever the server
    closes (a sync worker closes after every answer). With `spread_over` (a gunicorn master's
    pid), the connections start spread evenly over its workers (`spread_connections`)."""
    request = _request(path)
    selector = selectors.DefaultSelector()
    ok = failed = 0

    def connect() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect_ex(("127.0.0.1", port))
        selector.register(sock, selectors.EVENT_WRITE, _Connection(sock))

    def reconnect(conn: _Connection) -> None:
        selector.unregister(conn.sock)
        conn.sock.close()
        connect()

    if spread_over is None:
        for _ in range(connections):
            connect()
    else:
        for sock in spread_connections(port, path, connections, spread_over):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_WRITE, _Connection(sock))
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        for key, events in selector.select(timeout=0.1):
            conn: _Connection = key.data
            if events & selectors.EVENT_WRITE:
                try:
                    conn.sock.sendall(request)
                except OSError:
                    failed += 1
                    reconnect(conn)
                    continue
                selector.modify(conn.sock, selectors.EVENT_READ, conn)
                continue
            try:
                data = conn.sock.recv(65536)
            except OSError:
                data = b""
            if not data:  # closed: after a complete answer (counted below) or mid-way
                if conn.buffer:
                    failed += 1
                reconnect(conn)
                continue
            conn.buffer += data
            head_end = conn.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = conn.buffer[:head_end].lower()
            if len(conn.buffer) < head_end + 4 + _content_length(head):
                continue
            if conn.buffer[9:12] == b"200":
                ok += 1
            else:
                failed += 1
            conn.buffer = b""
            if b"connection: close" in head:
                reconnect(conn)
            else:
                selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    selector.close()
    return ok, failed


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def run(quick: bool = False, profile: bool = False) -> tuple[list[Figure], dict]:
    seconds = 3 if quick else 6
    rounds = 2 if quick else 4
    parameters = {
        "servers": f"gunicorn, {WORKERS} workers each, side by side: sync, then gthread x 4",
        "ours": "gunicorn vevurn.wsgi -c gunicorn.conf.py, bench.settings, JSON access log on",
        "bare": "bench.bare_settings: startproject's 7 middlewares, no logging",
        "load": f"{CONNECTIONS} connections, {rounds} rounds of {seconds} s per variant",
    }
    print_header("stack", parameters)
    ensure_database()  # the metrics flush evaluates the alert rules, which read it
    figures: list[Figure] = []
    errors = 0
    for mode, threads in MODES.items():
        mode_figures, failed = run_mode(mode, threads, seconds, rounds, profile)
        figures += mode_figures
        errors += failed
    figures.append(Figure("stack", "errors", errors, "count"))
    return figures, parameters


def run_mode(
    mode: str, threads: int, seconds: float, rounds: int, profile: bool
) -> tuple[list[Figure], int]:
    """Both servers with `threads` threads per worker (1: sync), rounds alternating."""
    variants = {
        "bare Django, JSON view": ("bare", PING),
        "ours, JSON view": ("ours", PING),
        "ours, /api/health/live": ("ours", LIVE),
    }
    done = {name: 0 for name in variants}
    cpu = {name: 0.0 for name in variants}
    failed = {name: 0 for name in variants}
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="vevurn-bench-") as tmp:
        workdir = Path(tmp)
        servers = {"bare": (spare_port(),), "ours": (spare_port(),)}
        processes = {
            "bare": start_bare(servers["bare"][0], workdir / "bare.log", threads),
            "ours": start_ours(servers["ours"][0], workdir / "ours.log", threads),
        }
        try:
            for name, process in processes.items():
                wait_answering(servers[name][0], PING, process)
            # A gthread worker keeps its connections: each round starts them spread over both.
            spread = {
                name: process.pid if threads > 1 else None for name, process in processes.items()
            }
            for server, path in variants.values():  # warm-up: imports, first connections
                hammer(servers[server][0], path, CONNECTIONS, 1.0, spread[server])
            for round_number in range(rounds):
                for name, (server, path) in variants.items():
                    profiler = None
                    if profile and round_number == rounds - 1 and name == "ours, JSON view":
                        profiler = start_profile(
                            processes["ours"].pid, seconds, workdir / "profile"
                        )
                    before = server_cpu_seconds(processes[server].pid)
                    ok, bad = hammer(servers[server][0], path, CONNECTIONS, seconds, spread[server])
                    cpu[name] += server_cpu_seconds(processes[server].pid) - before
                    done[name] += ok
                    failed[name] += bad
                    if profiler is not None:
                        profiler.wait()
                loads.append(load_average())
            access_lines = sum(
                1
                for line in (workdir / "ours.log").read_text(errors="replace").splitlines()
                if "vevurn.access" in line
            )
        finally:
            for process in processes.values():
                stop(process)
        if profile:
            print(f"Profile of one of our workers ({mode}):")
            print_profile(workdir / "profile")
    total = rounds * seconds
    bare = "bare Django, JSON view"
    cpu_per = {name: cpu[name] / max(done[name], 1) * 1e6 for name in variants}
    rows = [
        [
            name,
            done[name] / total,
            cpu_per[name],
            failed[name],
            done[name] / max(done[bare], 1),
            cpu_per[bare] / max(cpu_per[name], 1e-9),
        ]
        for name in variants
    ]
    workers = (
        f"{WORKERS} sync workers" if threads == 1 else f"{WORKERS} gthread workers x {threads}"
    )
    print(f"Both servers: {workers}")
    print_table(
        [
            "variant",
            "requests/s",
            "server CPU µs/request",
            "errors",
            "/ bare Django",
            "bare's CPU / this",
        ],
        rows,
    )
    print(f"Load average (1, 5, 15 min) at the start and after each round: {' | '.join(loads)}")
    print(f"Access lines our server wrote: {access_lines:,}")
    ratio = done["ours, JSON view"] / max(done[bare], 1)
    print(
        f"Ours / bare Django, JSON view, {mode}: {ratio:.2f} of the throughput "
        "(target at least 0.8)\n"
    )
    # The sync figures keep their earlier names (the baseline's); gthread's are named so.
    suffix = "" if threads == 1 else f", {mode}"
    figures = [
        Figure(
            "stack", f"ours / bare Django, JSON view: throughput{suffix}", ratio, "ratio", "higher"
        ),
        Figure(
            "stack",
            f"ours / bare Django, /api/health/live vs JSON view: throughput{suffix}",
            done["ours, /api/health/live"] / max(done[bare], 1),
            "ratio",
            "higher",
        ),
        Figure(
            "stack",
            f"bare Django / ours, JSON view: CPU per request{suffix}",
            cpu_per[bare] / max(cpu_per["ours, JSON view"], 1e-9),
            "ratio",
            "higher",
        ),
    ]
    for name in variants:
        figures.append(
            Figure("stack", f"{name}: requests/s{suffix}", done[name] / total, "req/s", "info")
        )
        figures.append(
            Figure("stack", f"{name}: server CPU µs{suffix}", cpu_per[name], "µs", "info")
        )
    return figures, sum(failed.values())


def cpu_in_process(requests: int = 3000, batches: int = 5, profile: str = "") -> None:
    """This process's CPU per request of the JSON view through the WSGI handler alone (no
    sockets), printed as µs: the minimum and median of `batches` batches. Run as

        python -m bench.stack cpu ours|bare [--profile FILE]

    in the environment `start_ours`/`start_bare` give their servers (stderr is the access log:
    send it to a file). --profile writes a cProfile of one more batch to FILE."""

    from django.core.wsgi import get_wsgi_application

    from bench.inprocess import environ_for

    app = get_wsgi_application()

    def start_response(status, headers, exc_info=None):
        assert status.startswith("200"), status

    def batch(count: int) -> float:
        began = time.process_time()
        for _ in range(count):
            body = app(environ_for(PING, {}), start_response)
            for _ in body:
                pass
            body.close()
        return time.process_time() - began

    _per_request(batch, f"{PING} in process", requests, batches, profile)


def _per_request(batch, label: str, requests: int, batches: int, profile: str) -> None:
    """Print the CPU µs per request of `batch(count)` (which makes `count` requests and returns
    the CPU seconds they cost) after 500 to warm: the minimum and median of `batches` batches of
    `requests`; with `profile`, write a cProfile of one more batch to that file."""
    import statistics

    batch(500)
    per_batch = [batch(requests) / requests * 1e6 for _ in range(batches)]
    print(
        f"CPU µs per request, {label}: min {min(per_batch):.1f}, "
        f"median {statistics.median(per_batch):.1f} ({batches} x {requests})"
    )
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        batch(requests)
        profiler.disable()
        profiler.dump_stats(profile)


def side_by_side(before: str, threads: int, rounds: int = 8, seconds: float = 4) -> None:
    """Bare Django, ours from the worktree `before`, ours from this one, and ours from this one
    with the access line off (LOG_LEVEL=WARNING), each with 2 workers of `threads` threads (1:
    sync), rounds alternating between the four: a change's before and after under the same
    load. Run as

        python -m bench.stack side /path/to/worktree-at-main [threads [rounds [seconds]]]
    """
    with tempfile.TemporaryDirectory(prefix="vevurn-bench-") as tmp:
        workdir = Path(tmp)
        trees = {"before": Path(before), "after": BASE_DIR, "after, line off": BASE_DIR}
        ports = {name: spare_port() for name in ("bare", *trees)}
        processes = {"bare": start_bare(ports["bare"], workdir / "bare.log", threads)}
        for name, tree in trees.items():
            level = "WARNING" if name.endswith("off") else "INFO"
            processes[name] = subprocess.Popen(
                [str(tree / ".venv/bin/python"), "-m", "gunicorn", "vevurn.wsgi"]
                + ["-c", "gunicorn.conf.py"],
                cwd=tree,
                env=app_environ(
                    DJANGO_SETTINGS_MODULE="bench.settings",
                    PORT=ports[name],
                    WEB_CONCURRENCY=WORKERS,
                    GUNICORN_THREADS=threads,
                    LOG_LEVEL=level,
                ),
                stdout=open(workdir / f"{name}.log", "ab"),  # noqa: SIM115 - closed at exit
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        done = dict.fromkeys(processes, 0)
        cpu = dict.fromkeys(processes, 0.0)
        loads = [load_average()]
        try:
            for name, process in processes.items():
                wait_answering(ports[name], PING, process)
            spread = {
                name: process.pid if threads > 1 else None for name, process in processes.items()
            }
            for name in processes:
                hammer(ports[name], PING, CONNECTIONS, 1.0, spread[name])
            for _ in range(rounds):
                for name, process in processes.items():
                    began = server_cpu_seconds(process.pid)
                    ok, _failed = hammer(ports[name], PING, CONNECTIONS, seconds, spread[name])
                    cpu[name] += server_cpu_seconds(process.pid) - began
                    done[name] += ok
                loads.append(load_average())
        finally:
            for process in processes.values():
                stop(process)
        lines = {
            name: (workdir / f"{name}.log").read_text(errors="replace").count('"vevurn.access"')
            for name in ("before", "after")
        }
    bare_cpu = cpu["bare"] / max(done["bare"], 1)
    print(f"2 workers x {threads} threads, {rounds} rounds of {seconds} s, {CONNECTIONS} conn.")
    for name in processes:
        per = cpu[name] / max(done[name], 1)
        print(
            f"{name:16} {done[name] / (rounds * seconds):7.0f} req/s {per * 1e6:6.0f} µs/req"
            f"  / bare: throughput {done[name] / max(done['bare'], 1):.2f},"
            f" CPU {bare_cpu / max(per, 1e-9):.2f}"
        )
    print(f"Access lines: {lines}, answers counted: before {done['before']}, after {done['after']}")
    print(f"Load average: {' | '.join(loads)}")


def cpu_served(which: str, requests: int = 3000, batches: int = 5, profile: str = "") -> None:
    """CPU per request of the JSON view served by gunicorn's own sync worker code, in this
    process: a loopback connection per request, gunicorn's parser, its response writer and its
    graceful close, with the configuration `start_ours`/`start_bare` give their servers (ours:
    gunicorn.conf.py, its logger and hooks; bare: gunicorn's defaults). What a sync worker does
    per request but the select loop, measured around the worker's accept (the client's part is
    left out); no other process, so much steadier than `bench stack` on a shared machine, and
    run under callgrind or cProfile. Run as

        python -m bench.stack served ours|bare [--profile FILE]
    """

    from gunicorn.app.base import Application
    from gunicorn.workers.sync import SyncWorker

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    address = listener.getsockname()

    class Served(Application):
        def load_config(self):
            if which == "ours":
                self.load_config_from_file(str(BASE_DIR / "gunicorn.conf.py"))
            else:
                self.load_config_from_file(str(Path(__file__).with_name("bare_gunicorn.conf.py")))
                self.cfg.set("keepalive", 5)
            self.cfg.set("workers", WORKERS)
            self.cfg.set("threads", 1)
            self.cfg.set("worker_class", "sync")

        def load(self):
            from django.core.wsgi import get_wsgi_application

            return get_wsgi_application()

    served = Served()
    log = served.cfg.logger_class(served.cfg)  # before the app, as gunicorn's master does
    worker = SyncWorker(1, os.getpid(), [listener], served, served.cfg.timeout, served.cfg, log)
    worker.wsgi = served.wsgi()
    request = f"GET {PING} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()

    def call() -> float:
        client = socket.create_connection(address)
        client.sendall(request)
        # The client's FIN is in before the worker's graceful close reads for it (one thread).
        client.shutdown(socket.SHUT_WR)
        began = time.process_time()
        worker.notify()
        worker.accept(listener)
        spent = time.process_time() - began
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        client.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        return spent

    _per_request(
        lambda count: sum(call() for _ in range(count)),
        f"{PING} served by a {which} sync worker in process",
        requests,
        batches,
        profile,
    )
    listener.close()


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "side":
    sys.path.insert(0, str(BASE_DIR))
    side_by_side(sys.argv[2], *(int(value) for value in sys.argv[3:5]), *map(float, sys.argv[5:6]))
if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] in ("cpu", "served"):
    settings_module = "bench.settings" if sys.argv[2] == "ours" else "bench.bare_settings"
    overrides = {"LOG_LEVEL": "INFO"} if sys.argv[2] == "ours" else {}
    os.environ.update(app_environ(DJANGO_SETTINGS_MODULE=settings_module, **overrides))
    sys.path.insert(0, str(BASE_DIR))
    profile_to = sys.argv[4] if sys.argv[3:4] == ["--profile"] else ""
    if sys.argv[1] == "served":
        cpu_served(sys.argv[2], profile=profile_to)
    else:
        import django

        django.setup()
        cpu_in_process(profile=profile_to)
