"""A cashier cannot see or act on another cashier's shift, on the screens or through the API.

Grace sells on R1; Bob, another cashier, is on R2. Everything Bob tries on Grace's shift, her
sales and her held cart is refused and changes nothing.
"""

import json

import pytest
from django.test import Client

from pos.models import CashMovement, HeldSale, Sale, Shift


@pytest.fixture
def bob(shop):
    client = Client()
    client.force_login(shop["users"]["other_cashier"])
    return client


@pytest.fixture
def bob_token(shop):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=shop["users"]["other_cashier"])
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


@pytest.mark.django_db
def test_screens_refuse_bob_grace_s_shift_and_sales(shop, bob):
    grace_shift, sale, held = shop["shift"], shop["sale"], shop["held"]

    assert bob.get(f"/register/shifts/{grace_shift.pk}/z-report/").status_code == 403
    assert bob.get(f"/pos/sales/{sale.pk}/receipt/").status_code == 403
    assert bob.post(f"/register/sales/{sale.pk}/void/", {"reason": "x"}).status_code == 404
    history = bob.get("/register/history/", {"q": sale.number})
    assert history.status_code == 200
    assert f"/pos/sales/{sale.pk}/receipt/" not in history.content.decode()
    # His shift screen is his own: closing it closes his, never Grace's.
    shift_page = bob.get("/register/shift/").content.decode()
    assert "Till 2" in shift_page and "Till 1" not in shift_page
    # Grace's held cart (on R1) can be neither resumed nor thrown away from R2.
    assert bob.post(f"/register/held/{held.pk}/resume/").status_code == 409
    assert bob.post(f"/register/held/{held.pk}/discard/").status_code == 409
    assert HeldSale.objects.filter(pk=held.pk).exists()
    grace_shift.refresh_from_db()
    assert grace_shift.status == Shift.Status.OPEN
    assert Sale.objects.get(pk=sale.pk).status == Sale.Status.COMPLETED


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["bob", "bob_token"])
def test_the_api_hides_grace_s_shift_and_sales_from_bob(shop, client_name, request):
    client = request.getfixturevalue(client_name)
    grace_shift, sale, held = shop["shift"], shop["sale"], shop["held"]

    def post(url, body):
        return client.post(url, json.dumps(body), content_type="application/json")

    shifts = client.get("/api/v1/shifts/").json()["results"]
    assert [s["id"] for s in shifts] == [shop["other_shift"].pk]
    assert client.get(f"/api/v1/shifts/{grace_shift.pk}/").status_code == 404
    assert client.get(f"/api/v1/shifts/{grace_shift.pk}/z-report/").status_code == 404
    closing = post(f"/api/v1/shifts/{grace_shift.pk}/close/", {"counted": {"cash": "0"}})
    assert closing.status_code == 404
    cash_out = {"kind": "paid_out", "amount": "1000", "reason": "lunch"}
    assert post(f"/api/v1/shifts/{grace_shift.pk}/cash-movements/", cash_out).status_code == 404

    sales = client.get("/api/v1/sales/").json()["results"]
    assert [s["id"] for s in sales] == [shop["other_sale"].pk]
    assert client.get(f"/api/v1/sales/{sale.pk}/").status_code == 404
    assert client.get(f"/api/v1/sales/{sale.pk}/receipt/").status_code == 404
    assert client.get("/api/v1/sales/", {"shift": grace_shift.pk}).json()["results"] == []

    # Grace's held cart, parked on her till, is not Bob's to list, resume or throw away.
    assert client.get("/api/v1/held-sales/").json()["results"] == []
    assert client.get(f"/api/v1/held-sales/{held.pk}/").status_code == 404
    assert client.delete(f"/api/v1/held-sales/{held.pk}/").status_code == 404
    resume = post(f"/api/v1/held-sales/{held.pk}/resume/", {"register": shop["register"].pk + 1})
    assert resume.status_code == 404
    assert HeldSale.objects.filter(pk=held.pk).exists()
    grace_shift.refresh_from_db()
    assert grace_shift.status == Shift.Status.OPEN
    assert not CashMovement.objects.filter(shift=grace_shift).exists()


@pytest.mark.django_db
def test_a_manager_still_sees_every_shift_and_sale(shop):
    manager = Client()
    manager.force_login(shop["users"]["manager"])
    assert manager.get(f"/register/shifts/{shop['shift'].pk}/z-report/").status_code == 200
    assert manager.get(f"/pos/sales/{shop['sale'].pk}/receipt/").status_code == 200
    assert manager.get(f"/api/v1/sales/{shop['sale'].pk}/").status_code == 200
    assert manager.get(f"/api/v1/shifts/{shop['shift'].pk}/").status_code == 200
    assert manager.get(f"/api/v1/held-sales/{shop['held'].pk}/").status_code == 200


@pytest.mark.django_db
def test_grace_sees_her_till_s_held_carts_through_the_api(shop):
    grace = Client()
    grace.force_login(shop["users"]["cashier"])
    held = grace.get("/api/v1/held-sales/").json()["results"]
    assert [h["id"] for h in held] == [shop["held"].pk]
