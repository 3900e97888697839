"""A cashier cannot see or act on another cashier's shift, on the screens or through the API.

Grace sells on R1; Bob, another cashier, is on R2. Everything Bob tries on Grace's shift, her
sales and her held cart is refused and changes nothing.
"""

import json
from decimal import Decimal

import pytest
from django.test import Client

from pos.models import CashMovement, HeldSale, Sale, Shift


@pytest.fixture
def bob(shop):
    client = Client()
    client.force_login(shop["users"]["other_cashier"])
    return client


@pytest.fixture
def shift_for(shop):
    """An open shift for `user` on a till of its own."""
    from pos.models import Register
    from pos.services.shifts import open_shift

    def make(user):
        register = Register.objects.create(code=f"T{user.pk}", name=f"Till of {user}")
        return open_shift(register=register, cashier=user, opening_float=Decimal(10000))

    return make


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

    graces_cash_movements = list(CashMovement.objects.filter(shift=grace_shift))

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
    assert list(CashMovement.objects.filter(shift=grace_shift)) == graces_cash_movements


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


# --- Issue 19: one rule for who sees a sale, its invoice, and who takes its return ------------


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["bob", "bob_token"])
def test_bob_cannot_open_grace_s_invoice_on_the_screen_or_the_api(shop, client_name, request):
    client = request.getfixturevalue(client_name)
    invoice = shop["invoice"]  # Grace's sale on account

    assert client.get(f"/pos/invoices/{invoice.pk}/").status_code in (302, 403)
    assert client.get(f"/api/v1/invoices/{invoice.pk}/").status_code == 404
    assert client.get("/api/v1/invoices/").json()["results"] == []
    assert (
        client.get("/api/v1/invoices/", {"customer": shop["customer"].pk}).json()["results"] == []
    )


@pytest.mark.django_db
def test_bob_cannot_open_grace_s_invoice_page_nor_her_sale_s_receipt(shop, bob):
    assert bob.get(f"/pos/invoices/{shop['invoice'].pk}/").status_code == 403
    assert bob.get(f"/pos/sales/{shop['invoice'].sale_id}/receipt/").status_code == 403


@pytest.mark.django_db
def test_grace_and_the_manager_open_the_invoice_and_a_customer_pays_it_at_bob_s_till(
    shop, bob_token
):
    invoice = shop["invoice"]
    for user in (shop["users"]["cashier"], shop["users"]["manager"]):
        client = Client()
        client.force_login(user)
        assert client.get(f"/pos/invoices/{invoice.pk}/").status_code == 200
        assert client.get(f"/api/v1/invoices/{invoice.pk}/").status_code == 200

    # The customer pays what they owe at whichever till they come to.
    paid = bob_token.post(
        f"/api/v1/invoices/{invoice.pk}/payments/",
        json.dumps({"amount": "1000", "tender": "cash"}),
        content_type="application/json",
    )
    assert paid.status_code == 201
    invoice.refresh_from_db()
    assert invoice.amount_paid == 1000


@pytest.mark.django_db
def test_a_cashier_on_a_shared_till_sees_the_sales_of_the_shift_on_every_path(shop, make_user):
    from pos.services.shifts import join_shift

    grace_shift, sale = shop["shift"], shop["sale"]
    carine = make_user("carine", "cashier")
    join_shift(shift=grace_shift, cashier=carine)
    client = Client()
    client.force_login(carine)

    assert client.get(f"/pos/sales/{sale.pk}/receipt/").status_code == 200
    assert client.get(f"/api/v1/sales/{sale.pk}/").status_code == 200
    assert client.get(f"/pos/invoices/{shop['invoice'].pk}/").status_code == 200
    assert client.get(f"/api/v1/invoices/{shop['invoice'].pk}/").status_code == 200


@pytest.mark.django_db
def test_a_return_of_grace_s_sale_is_taken_at_bob_s_till_with_a_manager_s_approval(shop, bob):
    from pos.models import Refund
    from tests.conftest import PASSWORD

    sale = shop["sale"]
    line = sale.lines.get()

    # Bob finds it from the receipt the customer brings, and sees what a return needs.
    found = bob.get("/register/returns/", {"q": sale.number})
    assert found["Location"] == f"/register/sales/{sale.pk}/refund/"
    page = bob.get(found["Location"])
    assert page.status_code == 200 and f'name="qty_{line.pk}"' in page.content.decode()

    form = {f"qty_{line.pk}": "1", "reason": "Faulty", "tender": "cash"}
    refused = bob.post(found["Location"], form)
    assert refused.status_code == 200 and not Refund.objects.exists()
    done = bob.post(
        found["Location"], {**form, "manager_username": "eric", "manager_password": PASSWORD}
    )
    refund = Refund.objects.get()
    assert done["Location"] == f"/pos/refunds/{refund.pk}/slip/"
    assert refund.shift == shop["other_shift"]  # paid out of Bob's drawer, not Grace's
    assert bob.get(done["Location"]).status_code == 200


@pytest.mark.django_db
def test_the_api_takes_a_return_of_any_sale_as_the_till_does(shop, make_user, shift_for):
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    from pos.models import Refund

    # A senior cashier allowed to refund (no pos.view_shift): Grace's sale is not theirs to
    # look at, but theirs to take back, as at the till.
    sam = make_user("sam", "cashier")
    sam.user_permissions.add(Permission.objects.get(codename="refund_sale"))
    shift_for(sam)
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=sam).key}")
    sale = shop["sale"]
    body = {
        "lines": [{"sale_line": sale.lines.get().pk, "quantity": "1"}],
        "reason": "Faulty",
        "tender": "cash",
    }

    assert client.get(f"/api/v1/sales/{sale.pk}/").status_code == 404
    done = client.post(
        f"/api/v1/sales/{sale.pk}/refund/", json.dumps(body), content_type="application/json"
    )

    assert done.status_code == 201, done.content
    assert Refund.objects.get().sale == sale
