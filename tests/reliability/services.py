"""Private PostgreSQL and Redis servers that a test may stop and start at will.

The machine's (and CI's) PostgreSQL and Redis are shared with the rest of the suite: a fault test
never touches them. It starts its own cluster (initdb into a temporary directory) and its own
redis-server, each on a spare port, and stops, kills or restarts those. `stop()` always leaves
nothing running, whatever state the test left them in.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg
import redis

from tests.deploy.servers import spare_port

# Debian installs the server programs outside PATH, one directory per major version.
PG_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
# initdb and postgres refuse to run as root; as root the cluster belongs to this user.
PG_OS_USER = "postgres"


def pg_bindir() -> str | None:
    """The directory holding initdb and pg_ctl, or None when PostgreSQL's server is not here."""
    on_path = shutil.which("initdb")
    candidates = [os.path.dirname(on_path)] if on_path else []
    for pattern in PG_BIN_GLOBS:
        candidates += sorted(glob.glob(pattern), reverse=True)  # newest major version first
    for directory in candidates:
        if all(os.access(os.path.join(directory, p), os.X_OK) for p in ("initdb", "pg_ctl")):
            return directory
    return None


def postgres_server_missing() -> str | None:
    """Why a private PostgreSQL cluster cannot be started here, or None when it can."""
    if pg_bindir() is None:
        return "needs PostgreSQL's server programs (initdb, pg_ctl) to start a private cluster"
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            return "needs runuser to start a private PostgreSQL cluster as root"
        try:
            import pwd

            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            return f"needs the {PG_OS_USER!r} user to start a private PostgreSQL cluster as root"
    return None


def _wait(ready, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:g} s")
        time.sleep(0.1)


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: trust auth, superuser `root`, one database."""

    def __init__(self, database: str = "shop"):
        self.bindir = pg_bindir()
        self.port = spare_port()
        self.database = database
        self.dir = tempfile.mkdtemp(prefix="vevurn-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, PG_OS_USER)
            self.as_owner = ["runuser", "-u", PG_OS_USER, "--"]

    @property
    def url(self) -> str:
        return f"postgres://root@127.0.0.1:{self.port}/{self.database}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, os.path.join(self.bindir, program), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def init(self) -> "PrivatePostgres":
        self._run("initdb", "-D", self.data, "-U", "root", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start()
        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        return self

    def admin_dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=root dbname={database} connect_timeout=2"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=50"
        )
        self._run(
            "pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "60", "start"
        )
        _wait(self.accepts_connections, "PostgreSQL did not accept connections")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: active transactions are rolled back and their clients disconnected."""
        if self.is_running():
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(self.admin_dsn()) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def destroy(self) -> None:
        try:
            self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server of the test's own: no persistence, so a restart starts empty."""

    def __init__(self):
        self.port = spare_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.answers, "redis-server did not answer")
        return self

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        _wait(lambda: not port_open(self.port), "redis-server did not let go of its port")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
