"""Database: the URL, the engine, reachability, latency, server version, migrations, connections.

The connection is bounded by the settings' own timeouts (DB_CONNECT_TIMEOUT for PostgreSQL, the
SQLite busy timeout), so these checks end even when the server does not answer.
"""

import os
import statistics
import time

import dj_database_url
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from monitoring.deployment.base import check, failed, passed, warned

# Django 5.2 supports PostgreSQL 14+ and SQLite 3.31+.
MIN_POSTGRESQL = (14, 0)
MIN_SQLITE = (3, 31, 0)
LATENCY_WARN_MS = 20
LATENCY_FAIL_MS = 200


def _engine() -> str:
    return settings.DATABASES[DEFAULT_DB_ALIAS]["ENGINE"]


@check("database.url", category="database", title="DATABASE_URL parses", severity="critical")
def database_url(context):
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return warned(
            "DATABASE_URL is not set: the SQLite file beside manage.py is used",
            "Set DATABASE_URL=postgres://user:password@host:5432/name",
        )
    try:
        parsed = dj_database_url.parse(url)
    except ValueError as error:
        return failed(
            f"DATABASE_URL does not parse: {error}",
            "Write it as postgres://user:password@host:5432/name",
        )
    if parsed["ENGINE"] == "django.db.backends.postgresql" and not parsed.get("NAME"):
        return failed("DATABASE_URL names no database", "Append /<database name> to the URL.")
    return passed(f"{parsed['ENGINE'].rsplit('.', 1)[-1]} database {parsed.get('NAME')}")


@check("database.engine", category="database", title="Not SQLite in production", severity="medium")
def database_engine(context):
    if _engine() == "django.db.backends.sqlite3":
        return warned(
            "SQLite: one writer at a time, no network access for a second instance",
            "Use PostgreSQL in production: set DATABASE_URL=postgres://...",
        )
    return passed(_engine().rsplit(".", 1)[-1])


@check("database.reachable", category="database", title="Database reachable", severity="critical")
def database_reachable(context):
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return failed(
            f"cannot query the database: {type(error).__name__}: {error}"[:300],
            "Check DATABASE_URL (host, port, credentials) and that the server is up.",
        )
    return passed("SELECT 1 answered")


@check("database.latency", category="database", title="Database round trip", severity="medium")
def database_latency(context):
    connection = connections[DEFAULT_DB_ALIAS]
    timings = []
    with connection.cursor() as cursor:
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    detail = f"median SELECT 1 round trip {median:.1f} ms"
    fix = "Run the app close to its database (same region / network)."
    if median > LATENCY_FAIL_MS:
        return failed(detail, fix)
    if median > LATENCY_WARN_MS:
        return warned(detail, fix)
    return passed(detail)


def _version_text(version: tuple) -> str:
    return ".".join(str(part) for part in version)


@check("database.version", category="database", title="Server version supported", severity="high")
def database_version(context):
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        number = connection.pg_version  # e.g. 150004
        version, minimum = (number // 10000, number % 10000), MIN_POSTGRESQL
        name = "PostgreSQL"
    elif connection.vendor == "sqlite":
        version, minimum = connection.Database.sqlite_version_info, MIN_SQLITE
        name = "SQLite"
    else:
        return warned(f"{connection.vendor} is not a database this app is tested on", "")
    if tuple(version) < minimum:
        return failed(
            f"{name} {_version_text(version)} is older than {_version_text(minimum)}",
            f"Upgrade {name} to {_version_text(minimum)} or later.",
        )
    return passed(f"{name} {_version_text(version)}")


@check("database.migrations", category="database", title="Migrations applied", severity="critical")
def database_migrations(context):
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return failed(
            f"{len(names)} migration(s) not applied: {shown}",
            "Run python manage.py migrate --noinput (the Procfile's release step).",
        )
    return passed("every migration applied")


@check(
    "database.connections",
    category="database",
    title="Connection reuse settings",
    severity="low",
)
def database_connections(context):
    config = settings.DATABASES[DEFAULT_DB_ALIAS]
    max_age = config.get("CONN_MAX_AGE", 0)
    if max_age is None:
        return warned(
            "CONN_MAX_AGE is unlimited: connections dropped by the server are reused",
            "Set DB_CONN_MAX_AGE=60.",
        )
    if max_age == 0:
        return warned(
            "CONN_MAX_AGE=0: a new database connection for every request",
            "Set DB_CONN_MAX_AGE=60 unless a connection pooler sits in between.",
        )
    if not config.get("CONN_HEALTH_CHECKS"):
        return warned(
            f"connections kept {max_age} s without health checks",
            "Enable CONN_HEALTH_CHECKS (settings.py does with dj-database-url).",
        )
    return passed(f"connections kept {max_age} s, checked before reuse")
