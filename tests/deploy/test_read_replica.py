"""DATABASE_REPLICA_URL adds a second alias; report reads go there, writes never."""

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.deploy.production import manage, production_env
from vevurn import db_routers
from vevurn.db_routers import ReplicaRouter, reads_from_replica

# Runs with two aliases on one SQLite file (a replica of itself) and reports where each query went.
SCRIPT = """
import json
import django
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

django.setup()
call_command("migrate", verbosity=0)
from django.contrib.auth.models import Group
from vevurn.db_routers import reads_from_replica

def run(action):
    with CaptureQueriesContext(connections["default"]) as primary, \\
            CaptureQueriesContext(connections["replica"]) as replica:
        action()
    return {"primary": [q["sql"].split()[0] for q in primary.captured_queries],
            "replica": [q["sql"].split()[0] for q in replica.captured_queries]}

def in_report():
    with reads_from_replica():
        Group.objects.create(name="written-inside-a-report")
        assert Group.objects.filter(name="written-inside-a-report").count() == 1

print(json.dumps({
    "outside": run(lambda: list(Group.objects.all())),
    "inside": run(in_report),
}))
"""


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    """One SQLite file migrated from zero for the module; each test works on its own copy, where
    the script's own `migrate` finds nothing to do (each test used to migrate its own)."""
    path = tmp_path_factory.mktemp("replica") / "migrated.sqlite3"
    env = production_env(DEBUG="1", DATABASE_URL=f"sqlite:///{path}")
    result = manage("migrate", "--noinput", env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    return path


def shop_database(migrated_sqlite, tmp_path) -> str:
    """A copy of the migrated file for one test, as a DATABASE_URL."""
    copy = tmp_path / "shop.sqlite3"
    shutil.copyfile(migrated_sqlite, copy)
    return f"sqlite:///{copy}"


def test_report_reads_go_to_the_replica_and_writes_to_the_primary(migrated_sqlite, tmp_path):
    db = shop_database(migrated_sqlite, tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=production_env(DEBUG="1", DATABASE_URL=db, DATABASE_REPLICA_URL=db),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    routed = json.loads(result.stdout.strip().splitlines()[-1])

    assert routed["outside"] == {"primary": ["SELECT"], "replica": []}
    assert "INSERT" in routed["inside"]["primary"]
    assert routed["inside"]["replica"] == ["SELECT"]
    assert all(sql != "INSERT" for sql in routed["inside"]["replica"])


# The report API on the same two aliases: a manager's token asks for each report.
API_SCRIPT = """
import json
import django
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

django.setup()
call_command("migrate", verbosity=0)
from accounts import services
from accounts.models import User
from rest_framework.authtoken.models import Token

manager = services.assign_role(
    user=User.objects.create_user(username="manager", password="x-unused-x"), role="manager"
)
token = Token.objects.create(user=manager)
client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
routed = {}
for path in ("dashboard", "sales", "profit", "inventory", "shifts", "customers"):
    with CaptureQueriesContext(connections["default"]) as primary, \\
            CaptureQueriesContext(connections["replica"]) as replica:
        answer = client.get(f"/api/v1/reports/{path}/")
    routed[path] = {
        "status": answer.status_code,
        "primary": [q["sql"] for q in primary.captured_queries],
        "replica": [q["sql"] for q in replica.captured_queries],
    }
print(json.dumps(routed))
"""


def test_report_api_reads_go_to_the_replica_and_nothing_is_written_there(migrated_sqlite, tmp_path):
    db = shop_database(migrated_sqlite, tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", API_SCRIPT],
        env=production_env(DEBUG="1", DATABASE_URL=db, DATABASE_REPLICA_URL=db),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    routed = json.loads(result.stdout.strip().splitlines()[-1])

    for path, queries in routed.items():
        assert queries["status"] == 200, path
        # The report's own queries (sales, products, shifts...) all ran on the replica ...
        assert queries["replica"], path
        assert all(sql.startswith("SELECT") for sql in queries["replica"]), path
        # ... but for the shop settings row, which ShopSettings.load() reads for writing (it
        # creates the row the first time): a write, and so on the primary ...
        on_primary = [sql for sql in queries["primary"] if '"pos_' in sql]
        assert all('"pos_shopsettings"' in sql for sql in on_primary), path
        # ... as are the token and the user's permissions.
        assert any('"authtoken_token"' in sql for sql in queries["primary"]), path


def test_without_a_replica_everything_stays_on_the_primary():
    router = ReplicaRouter()
    assert "replica" not in settings.DATABASES

    with reads_from_replica():
        assert router.db_for_read(None) == "default"
        assert router.db_for_write(None) == "default"


def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "pos") is True
    assert router.allow_migrate("replica", "pos") is False


@pytest.mark.django_db
def test_report_pages_run_inside_the_replica_block(client, manager, monkeypatch):
    from pos.reports import views

    seen = {}
    render = views.render

    def spying_render(request, *args, **kwargs):
        seen["report_reads_from_replica"] = db_routers._use_replica.get()
        return render(request, *args, **kwargs)

    monkeypatch.setattr(views, "render", spying_render)
    client.login(username="manager", password=PASSWORD)

    assert client.get(reverse("reports:dashboard")).status_code == 200
    assert seen == {"report_reads_from_replica": True}
    assert db_routers._use_replica.get() is False


def test_the_decorator_gives_each_call_its_own_block():
    @reads_from_replica()
    def report():
        return db_routers._use_replica.get()

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda _: report(), range(8))) == [True] * 8
    assert db_routers._use_replica.get() is False
