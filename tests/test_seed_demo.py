import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_creates_nothing_twice(client, capsys):
    call_command("seed_demo")
    counts = {"users": User.objects.count()}
    call_command("seed_demo")
    assert User.objects.count() == counts["users"]

    out = capsys.readouterr().out
    assert "manager / vevurn-manager-demo" in out
    # The printed credentials work.
    response = client.post("/", {"username": "cashier", "password": "vevurn-cashier-demo"})
    assert response.status_code == 302
    manager = User.objects.get(username="manager")
    assert manager.has_perm("accounts.manage_cashiers")
