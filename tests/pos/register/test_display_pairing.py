"""The customer display on a tablet with no one signed in: a manager pairs it with one till
(a link holding a secret), it follows that till's cart and shows no staff data; the link is
stored hashed, and pairing again or unpairing stops the old one."""

import re

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse

from accounts.models import AuditLog
from core.errors import PermissionDenied
from pos.models import Register
from pos.services import registers
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def pair_in_the_admin(manager, register) -> str:
    client = Client()
    client.login(username=manager.username, password=PASSWORD)
    response = client.post(
        reverse("admin:pos_register_changelist"),
        {"action": "pair_customer_display", "_selected_action": [register.pk]},
        follow=True,
    )
    [link] = re.findall(r"https?://\S+/register/display/paired/[\w-]+/", response.content.decode())
    return link.split("testserver", 1)[1]


def test_a_paired_tablet_follows_the_tills_cart_without_signing_in(
    manager, cashier, register, shift, till, scan, product
):
    path = pair_in_the_admin(manager, register)
    tablet = Client()

    page = tablet.get(path)
    assert page.status_code == 200
    state_url = re.search(r'data-state-url="([^"]+)"', page.content.decode()).group(1)
    assert tablet.get(state_url).json()["mode"] == "idle"

    scan(product.barcode, follow=True)  # the cashier rings a product up; the till shows it

    shown = tablet.get(state_url).json()
    assert shown["mode"] == "cart"
    assert [line["name"] for line in shown["lines"]] == [product.name]
    text = str(shown) + page.content.decode()
    assert cashier.username not in text and manager.username not in text
    register.refresh_from_db()
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert register.display_key == registers.display_key(token) != token  # stored hashed
    assert AuditLog.objects.filter(action="register.display_paired").count() == 1


def test_pairing_again_or_unpairing_stops_the_old_link_and_a_wrong_one_finds_nothing(
    manager, register
):
    old = pair_in_the_admin(manager, register)
    new = pair_in_the_admin(manager, register)
    tablet = Client()
    assert tablet.get(old).status_code == 404
    assert tablet.get(new).status_code == 200

    admin = Client()
    admin.login(username=manager.username, password=PASSWORD)
    admin.post(
        reverse("admin:pos_register_changelist"),
        {"action": "unpair_customer_display", "_selected_action": [register.pk]},
    )
    assert tablet.get(new).status_code == 404
    assert tablet.get(new + "state/").status_code == 404
    assert tablet.get("/register/display/paired/guess/state/").status_code == 404
    Register.objects.update(display_key="")  # an empty key never matches an empty token
    assert registers.register_for_display("") is None


def test_only_who_may_change_registers_pairs_a_display(cashier, register):
    with pytest.raises(PermissionDenied):
        registers.pair_display(register=register, user=cashier)
    assert "pair_customer_display" in site._registry[Register].actions
    register.refresh_from_db()
    assert register.display_key == ""
