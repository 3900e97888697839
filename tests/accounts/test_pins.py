"""Personal PINs: stored hashed, 4-6 digits, locked after 5 wrong in a row, rate limited per
device, set by the user with their password."""

import pytest
from django.contrib.auth.hashers import check_password
from django.test import RequestFactory
from django.urls import reverse

from accounts import pins
from accounts.models import AuditLog, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_pin_is_stored_hashed_by_the_password_hashers(cashier):
    pins.set_pin(user=cashier, pin="4071")

    stored = User.objects.get(pk=cashier.pk).pin
    assert "4071" not in stored
    assert check_password("4071", stored)
    assert stored.split("$")[0] == "md5"  # the suite's hasher (tests/settings.py): it follows it
    assert AuditLog.objects.filter(action="user.pin_set", target_id=str(cashier.pk)).exists()
    assert "4071" not in str(list(AuditLog.objects.values()))


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "", "0000", "1234", "9876", "555555"])
def test_short_long_non_digit_and_trivial_pins_are_refused(cashier, pin):
    with pytest.raises(pins.InvalidPin):
        pins.set_pin(user=cashier, pin=pin)
    assert not User.objects.get(pk=cashier.pk).has_pin


def test_the_right_pin_returns_the_user_and_resets_the_count(cashier):
    pins.set_pin(user=cashier, pin="4071")
    with pytest.raises(pins.WrongPin):
        pins.verify_pin(user=cashier, pin="4072")
    assert User.objects.get(pk=cashier.pk).pin_failures == 1

    assert pins.verify_pin(user=cashier, pin="4071") == cashier
    assert User.objects.get(pk=cashier.pk).pin_failures == 0


def test_five_wrong_pins_in_a_row_lock_it_even_for_the_right_pin(cashier):
    pins.set_pin(user=cashier, pin="4071")
    left = []
    for _ in range(4):
        with pytest.raises(pins.WrongPin) as wrong:
            pins.verify_pin(user=cashier, pin="1111")
        left.append(wrong.value.details["tries_left"])
    with pytest.raises(pins.PinLocked):
        pins.verify_pin(user=cashier, pin="1111")

    assert left == [4, 3, 2, 1]
    with pytest.raises(pins.PinLocked):
        pins.verify_pin(user=cashier, pin="4071")
    assert User.objects.get(pk=cashier.pk).pin_locked_at is not None
    assert AuditLog.objects.filter(action="user.pin_locked").count() == 1


def test_a_new_pin_or_a_manager_clearing_it_unlocks(cashier, manager):
    pins.set_pin(user=cashier, pin="4071")
    for _ in range(5):
        with pytest.raises((pins.WrongPin, pins.PinLocked)):
            pins.verify_pin(user=cashier, pin="1111")

    pins.clear_pin(user=cashier, actor=manager)
    with pytest.raises(pins.NoPin):
        pins.verify_pin(user=cashier, pin="4071")
    pins.set_pin(user=cashier, pin="2580")
    assert pins.verify_pin(user=cashier, pin="2580") == cashier


def test_a_cashier_cannot_clear_another_users_pin(cashier, make_user):
    other = make_user("other", "cashier")
    pins.set_pin(user=other, pin="4071")
    with pytest.raises(pins.PermissionDenied):
        pins.clear_pin(user=other, actor=cashier)


def test_wrong_pins_from_one_device_are_rate_limited_across_users(make_user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pin": "3/15m"}
    users = [make_user(f"c{n}", "cashier") for n in range(3)]
    for user in users:
        pins.set_pin(user=user, pin="4071")
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.7")
    for user in users:  # one wrong PIN each: no user is near their own lock
        with pytest.raises(pins.WrongPin):
            pins.verify_pin_from(request, user=user, pin="9999")

    with pytest.raises(pins.TooManyPins) as refused:
        pins.verify_pin_from(request, user=users[0], pin="4071")  # even the right one, now
    assert refused.value.status == 429 and refused.value.details["retry_after"] > 0
    other_device = RequestFactory().post("/", REMOTE_ADDR="10.0.0.8")
    assert pins.verify_pin_from(other_device, user=users[0], pin="4071") == users[0]


def test_right_pins_are_never_counted_by_the_rate_limit(cashier, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pin": "2/15m"}
    pins.set_pin(user=cashier, pin="4071")
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.7")
    for _ in range(5):
        assert pins.verify_pin_from(request, user=cashier, pin="4071") == cashier


def test_set_your_own_pin_with_your_password(client, cashier):
    client.force_login(cashier)
    url = reverse("accounts:pin")

    wrong = client.post(url, {"password": "nope", "pin": "4071", "pin_again": "4071"})
    differ = client.post(url, {"password": PASSWORD, "pin": "4071", "pin_again": "4072"})
    done = client.post(url, {"password": PASSWORD, "pin": "4071", "pin_again": "4071"})

    assert "Your password is wrong." in wrong.content.decode()
    assert "The two PINs differ." in differ.content.decode()
    assert done.status_code == 302
    assert pins.verify_pin(user=cashier, pin="4071") == cashier


def test_a_manager_clears_a_locked_pin_from_the_user_list(client, manager, cashier):
    pins.set_pin(user=cashier, pin="4071")
    User.objects.filter(pk=cashier.pk).update(pin_locked_at="2026-01-01T00:00Z")
    client.force_login(manager)

    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "clear_pin", "_selected_action": [cashier.pk]},
    )

    assert "locked" in listing
    cleared = User.objects.get(pk=cashier.pk)
    assert not cleared.has_pin and cleared.pin_locked_at is None
    assert AuditLog.objects.filter(action="user.pin_cleared", actor=manager).exists()
