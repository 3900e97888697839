import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_cashier_signs_in_and_out(page, cashier):
    page.goto("/")
    page.get_by_label("Username").fill("cashier")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Welcome, Grace").wait_for()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def test_wrong_password_is_explained(page, cashier):
    page.goto("/")
    page.get_by_label("Username").fill("cashier")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "correct username and password" in page.get_by_role("alert").inner_text()


def test_new_cashier_must_choose_a_password(page, db):
    from accounts.services import create_user

    _user, temporary = create_user(username="newbie", role="cashier")
    page.goto("/")
    page.get_by_label("Username").fill("newbie")
    page.get_by_label("Password").fill(temporary)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("You signed in with a temporary password").wait_for()
    page.get_by_label("Old password").fill(temporary)
    page.get_by_label("New password", exact=True).fill("Kigali-till-42")
    page.get_by_label("New password confirmation").fill("Kigali-till-42")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password has been changed").wait_for()
