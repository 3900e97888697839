"""Wrong PINs racing each other on PostgreSQL: each is counted, the fifth locks, none slips by."""

import pytest

from accounts import pins
from accounts.models import User
from tests.pos.test_selling_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twelve_parallel_wrong_pins_lock_after_exactly_five(cashier):
    pins.set_pin(user=cashier, pin="4071")

    def guess(i):
        return pins.verify_pin(user=cashier, pin=f"{1000 + i}")

    results = race(12, guess)

    wrong = [r for r in results if isinstance(r, pins.WrongPin)]
    locked = [r for r in results if isinstance(r, pins.PinLocked)]
    assert len(wrong) == 4 and len(locked) == 8, results
    assert sorted(r.details["tries_left"] for r in wrong) == [1, 2, 3, 4]
    user = User.objects.get(pk=cashier.pk)
    assert user.pin_failures == 5 and user.pin_locked_at is not None
    with pytest.raises(pins.PinLocked):
        pins.verify_pin(user=cashier, pin="4071")
