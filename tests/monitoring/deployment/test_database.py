from types import SimpleNamespace

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor

from monitoring.deployment import database
from tests.monitoring.deployment.conftest import run


def test_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://vevurn:pw@db.internal:5432/vevurn")
    assert run("database.url").detail == "postgresql database vevurn"
    monkeypatch.delenv("DATABASE_URL")
    assert run("database.url").status == "warn"


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("postgres://u@h:notaport/db", "DATABASE_URL does not parse"),
        ("postgress://u@h/db", "Scheme 'postgress://' is unknown"),
        ("postgres://u@h:5432/", "DATABASE_URL names no database"),
    ],
)
def test_a_database_url_that_does_not_parse_fails(monkeypatch, url, detail):
    monkeypatch.setenv("DATABASE_URL", url)
    result = run("database.url")
    assert result.status == "fail"
    assert detail in result.detail


def test_sqlite_warns_postgresql_passes(monkeypatch):
    monkeypatch.setattr(database, "_engine", lambda: "django.db.backends.sqlite3")
    assert run("database.engine").status == "warn"
    monkeypatch.setattr(database, "_engine", lambda: "django.db.backends.postgresql")
    assert run("database.engine").status == "pass"


@pytest.mark.django_db
def test_reachable():
    assert run("database.reachable").detail == "SELECT 1 answered"


@pytest.mark.django_db
def test_unreachable_fails_with_the_reason(monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "cursor", refuse)
    result = run("database.reachable")
    assert result.status == "fail"
    assert result.detail == "cannot query the database: OperationalError: connection refused"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("warn_ms", "fail_ms", "status"), [(1000, 2000, "pass"), (-1, 2000, "warn"), (-1, -1, "fail")]
)
def test_latency(monkeypatch, warn_ms, fail_ms, status):
    monkeypatch.setattr(database, "LATENCY_WARN_MS", warn_ms)
    monkeypatch.setattr(database, "LATENCY_FAIL_MS", fail_ms)
    result = run("database.latency")
    assert result.status == status
    assert result.detail.startswith("median SELECT 1 round trip ")


@pytest.mark.django_db
def test_server_version(monkeypatch):
    assert run("database.version").status == "pass"
    monkeypatch.setattr(database, "MIN_POSTGRESQL", (99, 0))
    monkeypatch.setattr(database, "MIN_SQLITE", (99, 0, 0))
    result = run("database.version")
    assert result.status == "fail"
    assert "is older than 99.0" in result.detail


@pytest.mark.django_db
def test_migrations_applied():
    assert run("database.migrations").detail == "every migration applied"


@pytest.mark.django_db
def test_unapplied_migrations_fail_and_are_named(monkeypatch):
    pending = [(SimpleNamespace(app_label="pos", name="0042_new_till"), False)]
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: pending)
    result = run("database.migrations")
    assert (result.status, result.detail) == (
        "fail",
        "1 migration(s) not applied: pos.0042_new_till",
    )


@pytest.mark.parametrize(
    ("max_age", "health_checks", "status"),
    [(60, True, "pass"), (None, True, "warn"), (0, True, "warn"), (60, False, "warn")],
)
def test_connection_settings(settings, monkeypatch, max_age, health_checks, status):
    config = settings.DATABASES[DEFAULT_DB_ALIAS]
    monkeypatch.setitem(config, "CONN_MAX_AGE", max_age)
    monkeypatch.setitem(config, "CONN_HEALTH_CHECKS", health_checks)
    assert run("database.connections").status == status


@pytest.mark.django_db
def test_a_missing_table_is_reported_as_a_database_failure(monkeypatch):
    from pos.models import ShopSettings

    def missing(*args, **kwargs):
        raise OperationalError("no such table: pos_shopsettings")

    monkeypatch.setattr(ShopSettings, "load", missing)
    result = run("app.shop_settings")
    assert result.status == "fail"
    assert "no such table" in result.detail
    assert "migrate" in result.fix
