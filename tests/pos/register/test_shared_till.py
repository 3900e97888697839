"""A shared till: it locks (by hand or after the shop's idle time); cashiers unlock it and take
it over with their PIN within one shift; a manager approves an override with their PIN on the
same screen."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import pins
from accounts.models import AuditLog
from pos.models import Sale, ShiftCashier, ShopSettings
from pos.register import lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(make_user):
    user = make_user("bob", "cashier", first_name="Bob")
    pins.set_pin(user=user, pin="2580")
    return user


@pytest.fixture
def grace_pin(cashier):
    pins.set_pin(user=cashier, pin="4071")
    return "4071"


def unlock(till, user, pin):
    return till.post(reverse("register:unlock"), {"user": user.pk, "pin": pin})


def pay(till, **fields):
    key = str(till.get(reverse("register:payment")).context["form"]["idempotency_key"].value())
    return till.post(reverse("register:complete"), {"idempotency_key": key, **fields})


def test_a_locked_till_shows_only_the_lock_screen(till, scan, product, grace_pin):
    scan(product.barcode)
    till.post(reverse("register:lock"))

    for url in (reverse("register:register"), reverse("register:payment")):
        response = till.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("register:unlock")
    page = till.get(reverse("register:unlock")).content.decode()
    assert "Till locked" in page and product.name not in page


def test_the_till_locks_itself_after_the_shops_idle_time(till, grace_pin):
    shop = ShopSettings.load()
    shop.till_lock_minutes = 2
    shop.save()
    assert till.get(reverse("register:register")).status_code == 200
    session = till.session
    session[lock.LAST_SEEN] = int(time.time()) - 3 * 60
    session.save()

    assert till.get(reverse("register:register"))["Location"] == reverse("register:unlock")


def test_the_till_page_tells_the_browser_when_to_lock(till):
    shop = ShopSettings.load()
    shop.till_lock_minutes = 2
    shop.save()
    assert 'data-idle-seconds="120"' in till.get(reverse("register:register")).content.decode()


def test_the_idle_lock_can_be_off(till):
    shop = ShopSettings.load()
    shop.till_lock_minutes = 0
    shop.save()
    till.get(reverse("register:register"))
    session = till.session
    session[lock.LAST_SEEN] = int(time.time()) - 24 * 3600
    session.save()

    assert till.get(reverse("register:register")).status_code == 200


def test_own_pin_unlocks_and_a_wrong_one_does_not(till, cashier, grace_pin):
    till.post(reverse("register:lock"))

    wrong = unlock(till, cashier, "9999")
    assert wrong.status_code == 403
    assert "Wrong PIN. 4 tries left" in wrong.content.decode()
    assert till.get(reverse("register:register")).status_code == 302
    assert unlock(till, cashier, grace_pin)["Location"] == reverse("register:register")
    assert till.get(reverse("register:register")).status_code == 200


def test_two_cashiers_switch_by_pin_and_each_sells_under_their_name_in_one_shift(
    till, scan, product, cashier, shift, bob, grace_pin
):
    scan(product.barcode)
    pay(till, cash="12000")
    scan(product.barcode)  # a cart in progress when Bob takes over
    till.post(reverse("register:lock"))

    assert unlock(till, bob, "2580")["Location"] == reverse("register:register")
    page = till.get(reverse("register:register"))
    assert page.wsgi_request.user == bob
    assert page.context["shift"] == shift  # Grace's shift, on the same till
    assert [line.product for line in page.context["lines"]] == [product]  # the cart stayed
    pay(till, cash="12000")
    till.post(reverse("register:lock"))
    unlock(till, cashier, grace_pin)
    scan(product.barcode)
    pay(till, cash="12000")

    sales = list(Sale.objects.order_by("pk").values_list("cashier__username", "shift"))
    assert sales == [("cashier", shift.pk), ("bob", shift.pk), ("cashier", shift.pk)]
    assert list(ShiftCashier.objects.values_list("cashier__username", flat=True)) == ["bob"]
    assert AuditLog.objects.filter(action="shift.cashier_joined", actor=bob).count() == 1
    receipt = till.get(reverse("pos:receipt", args=[Sale.objects.get(cashier=bob).pk]))
    assert receipt.status_code == 200  # Grace can reprint Bob's receipt from their till


def test_a_wrong_pin_does_not_switch_and_five_lock_it(till, cashier, bob):
    till.post(reverse("register:lock"))
    for _ in range(4):
        assert unlock(till, bob, "1111").status_code == 403
    locked = unlock(till, bob, "1111")
    assert locked.status_code == 403 and "locked" in locked.content.decode()
    assert unlock(till, bob, "2580").status_code == 403  # even the right PIN, now

    assert till.get(reverse("accounts:home")).wsgi_request.user == cashier
    assert not ShiftCashier.objects.exists()


def test_a_cashier_with_no_pin_is_not_offered(till, make_user, bob):
    make_user("nopin", "cashier", first_name="Nopin")
    till.post(reverse("register:lock"))
    page = till.get(reverse("register:unlock")).content.decode()
    assert "Bob" in page and "Nopin" not in page


def test_a_manager_approves_a_discount_with_their_pin_on_the_same_screen(
    till, scan, product, manager, django_capture_on_commit_callbacks
):
    pins.set_pin(user=manager, pin="7391")
    scan(product.barcode)
    till.post(reverse("register:order_discount"), {"order_discount": "1800"})  # 15% > 10%
    page = till.get(reverse("register:payment")).content.decode()
    assert 'name="manager_pin"' in page

    wrong = pay(till, cash="10200", manager_username="manager", manager_pin="0000")
    assert "Wrong PIN" in wrong.content.decode()
    assert not Sale.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        pay(till, cash="10200", manager_username="manager", manager_pin="7391")

    sale = Sale.objects.get()
    assert sale.total == Decimal("10200")
    assert sale.cashier.username == "cashier"
    assert AuditLog.objects.get(action="sale.discount_approved").actor == manager


def test_a_cashiers_pin_does_not_approve(till, scan, product, bob):
    scan(product.barcode)
    till.post(reverse("register:order_discount"), {"order_discount": "1800"})
    response = pay(till, cash="10200", manager_username="bob", manager_pin="2580")
    assert "bob cannot approve this." in response.content.decode()
    assert not Sale.objects.exists()


def test_a_joined_cashiers_double_submit_sells_once_on_the_shared_shift(
    till, scan, product, shift, bob
):
    scan(product.barcode)
    till.post(reverse("register:lock"))
    unlock(till, bob, "2580")
    key = str(till.get(reverse("register:payment")).context["form"]["idempotency_key"].value())

    first = till.post(reverse("register:complete"), {"idempotency_key": key, "cash": "12000"})
    again = till.post(reverse("register:complete"), {"idempotency_key": key, "cash": "12000"})

    sale = Sale.objects.get()
    assert (sale.cashier, sale.shift) == (bob, shift)
    assert first["Location"] == again["Location"] == reverse("pos:receipt", args=[sale.pk])
