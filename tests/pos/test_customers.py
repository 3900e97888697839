from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from pos.errors import InvalidPhoneNumber
from pos.phones import normalise_phone
from pos.services.customers import create_customer, record_customer_purchase

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw",
    [
        "0788123456",
        "788123456",
        "250788123456",
        "+250788123456",
        "+250 788 123 456",
        "078-812-3456",
    ],
)
def test_rwandan_numbers_are_normalised(raw):
    assert normalise_phone(raw) == "+250788123456"


@pytest.mark.parametrize(
    "raw", ["", "12345", "+256788123456", "0288123456", "07881234567", "phone", "+250 688 123 456"]
)
def test_other_numbers_are_refused_clearly(raw):
    with pytest.raises(InvalidPhoneNumber) as exc:
        normalise_phone(raw)
    assert "0788123456" in exc.value.message


def test_phone_is_unique_whatever_its_spelling():
    create_customer(name="Jean", phone="0788123456")
    with pytest.raises(ValidationError) as exc:
        create_customer(name="Jean again", phone="+250 788 123 456")
    assert "phone" in exc.value.message_dict


def test_bad_phone_names_the_field():
    with pytest.raises(ValidationError) as exc:
        create_customer(name="X", phone="12")
    assert "phone" in exc.value.message_dict


def test_purchase_totals():
    customer = create_customer(name="Jean", phone="0788123456", credit_limit=Decimal("50000"))
    record_customer_purchase(customer_id=customer.pk, amount=Decimal("12000"))
    customer = record_customer_purchase(
        customer_id=customer.pk, amount=Decimal("3500"), on_credit=Decimal("3500"), event="t:1"
    )
    customer.refresh_from_db()
    assert customer.total_spent == Decimal("15500") and customer.visits == 2
    assert customer.balance == Decimal("3500") and customer.last_purchase_at is not None
