"""API tokens: managers create and revoke them in the admin; who a token may belong to."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/authtoken/tokenproxy/add/"


@pytest.fixture
def manager_admin(manager):
    client = Client()
    client.force_login(manager)
    return client


def test_a_manager_creates_a_token_for_a_cashier(manager_admin, cashier):
    response = manager_admin.post(ADD_URL, {"user": cashier.pk})

    assert response.status_code == 302
    assert Token.objects.filter(user=cashier).exists()


def test_a_manager_cannot_create_a_token_for_an_admin(manager_admin, admin_user):
    response = manager_admin.post(ADD_URL, {"user": admin_user.pk})

    assert response.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in response.content.decode()
    assert not Token.objects.exists()


def test_a_manager_revokes_a_cashiers_token(manager_admin, cashier, admin_user):
    Token.objects.create(user=cashier)
    Token.objects.create(user=admin_user)

    listed = manager_admin.get("/admin/authtoken/tokenproxy/").content.decode()
    assert "cashier" in listed and "boss" not in listed
    response = manager_admin.post(
        f"/admin/authtoken/tokenproxy/{cashier.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert list(Token.objects.values_list("user__username", flat=True)) == ["boss"]


def test_a_cashier_cannot_manage_tokens(cashier):
    client = Client()
    client.force_login(cashier)

    assert client.get(ADD_URL).status_code in (302, 403)


def test_a_token_of_a_user_with_a_temporary_password_is_refused(api_client_for, cashier):
    client = api_client_for(cashier)
    cashier.must_change_password = True
    cashier.save()

    response = client.get("/api/v1/products/")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Change your temporary password first."
