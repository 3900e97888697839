"""Managers' corrections of the customer ledger: a card issued, a balance adjusted, with a reason;
new entries, journalled, once per form however often it is submitted."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from pos import errors
from pos.journal.verify import verify
from pos.models import Customer, JournalEntry, LedgerEntry, ShopSettings
from pos.services import ledger
from pos.services.gift_cards import issue_gift_card, liability, sell_gift_card

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Aline", phone="+250788000555")


def test_a_manager_adjusts_store_credit_once_per_form_with_its_reason(customer, manager):
    form = {"kind": "store_credit", "amount": D(5000), "reason": "Goodwill: late delivery"}
    key = str(uuid.uuid4())
    entry, again = (
        ledger.adjust(user=manager, request_key=key, customer=customer, **form) for _ in range(2)
    )
    customer.refresh_from_db()
    assert (customer.store_credit, again) == (D(5000), None)
    assert entry.note == "Goodwill: late delivery"
    journalled = JournalEntry.objects.get(kind="account_adjustment")
    assert journalled.reference == f"pos.ledgerentry:{entry.pk}"
    assert verify().ok
    assert ledger.mismatches() == []


def test_an_adjustment_needs_a_reason_and_never_goes_below_zero(customer, manager, cashier):
    with pytest.raises(errors.InvalidAdjustment) as refused:
        ledger.adjust(
            user=manager, kind="points", amount=D(0), reason=" ", request_key="k",
            customer=customer,
        )  # fmt: skip
    assert set(refused.value.fields) == {"reason", "amount"}
    with pytest.raises(errors.InvalidAdjustment, match="below zero"):
        ledger.adjust(
            user=manager, kind="points", amount=D(-1), reason="typo", request_key="k",
            customer=customer,
        )  # fmt: skip
    with pytest.raises(errors.NotAllowed):
        ledger.adjust(
            user=cashier, kind="points", amount=D(5), reason="x", request_key="k",
            customer=customer,
        )  # fmt: skip
    assert not LedgerEntry.objects.exists()


def test_an_issued_card_and_adjustments_keep_the_liability_balanced(shift, cashier, manager):
    sold = sell_gift_card(shift=shift, user=cashier, amount=D(10000))
    issued = issue_gift_card(user=manager, amount=D(3000), reason="Replaces a damaged card")
    ledger.adjust(
        user=manager, kind="gift_card", amount=D(-1000), reason="Sold at the wrong value",
        request_key="a1", gift_card=sold,
    )  # fmt: skip
    report = liability()
    assert (report.issued, report.adjusted, report.outstanding) == (D(13000), D(-1000), D(12000))
    assert report.balances
    assert issued.entries.get().note == "Replaces a damaged card"
    assert JournalEntry.objects.filter(kind="account_adjustment").count() == 2
    assert verify().ok


def test_a_card_sold_today_expires_after_the_shops_validity(shift, cashier):
    shop = ShopSettings.load()
    shop.gift_card_valid_days = 365
    shop.save(update_fields=["gift_card_valid_days"])
    card = sell_gift_card(shift=shift, user=cashier, amount=D(1000))
    assert (card.expires_on - timezone.localdate(card.created_at)).days == 365
