import pytest
from django.urls import reverse

from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_is_the_front_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_login_then_logout(client, cashier):
    response = client.post("/", {"username": "cashier", "password": PASSWORD}, follow=True)
    # A cashier without an open shift lands on "open a shift" (pos.register.views.start).
    assert response.redirect_chain[-1][0] == reverse("register:open_shift")
    assert b"Welcome, Grace" in response.content

    response = client.post(reverse("accounts:logout"), follow=True)
    assert b"Sign in" in response.content
    assert client.get(reverse("accounts:home")).status_code == 302


def test_wrong_password_shows_an_error(client, cashier):
    response = client.post("/", {"username": "cashier", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_inactive_user_cannot_log_in(client, cashier):
    cashier.is_active = False
    cashier.save()
    response = client.post("/", {"username": "cashier", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_temporary_password_must_be_changed_first(client):
    from accounts.services import create_user

    user, temporary = create_user(username="newbie", role="cashier")
    assert user.must_change_password

    client.post("/", {"username": "newbie", "password": temporary})
    # Every page but the password form sends the user back to it.
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")
    assert client.get("/admin/").status_code == 302

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": temporary,
            "new_password1": "Kigali-till-42",
            "new_password2": "Kigali-till-42",
        },
        follow=True,
    )
    assert b"Your password has been changed" in response.content
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get(reverse("accounts:home")).status_code == 200  # still signed in


def test_manager_creates_a_cashier_with_a_temporary_password(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newcashier",
            "first_name": "Jean",
            "last_name": "K",
            "email": "",
            "role": "cashier",
        },
        follow=True,
    )
    assert response.status_code == 200
    user = User.objects.get(username="newcashier")
    assert user.must_change_password
    assert user.groups.get().name == "Cashiers"
    shown = [str(m) for m in response.context["messages"]]
    temporary = next(m for m in shown if "Temporary password" in m).split(": ")[1].split(" ")[0]
    assert user.check_password(temporary)


def test_manager_cannot_create_a_manager(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "sneaky", "role": "manager"},
    )
    assert response.status_code == 200  # form redisplayed with an error
    assert "role" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="sneaky").exists()


def test_manager_does_not_see_admins(client, manager, admin_user):
    client.force_login(manager)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert b"boss" not in response.content
    assert (
        client.get(reverse("admin:accounts_user_change", args=[admin_user.pk])).status_code == 302
    )


def test_cashier_cannot_use_the_admin(client, cashier):
    client.force_login(cashier)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
