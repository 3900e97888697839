"""What the client sends: amounts as strings with the currency's places, MSISDN numbers; and
whether request-to-pay is configured at all."""

from decimal import Decimal

import pytest

from core.errors import DomainError
from pos.mobile_money import (
    InvalidPhoneNumber,
    MoMoClient,
    MoMoError,
    MoMoNotConfigured,
    format_amount,
    mask_msisdn,
    momo_configured,
    normalize_msisdn,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("5000"), "RWF", "5000"),
        (Decimal("5000.00"), "RWF", "5000"),
        (Decimal("5E+3"), "RWF", "5000"),
        (5000, "RWF", "5000"),
        (Decimal("12.5"), "EUR", "12.50"),
        (Decimal("0.01"), "EUR", "0.01"),
    ],
)
def test_amounts_are_strings_with_the_currency_places(amount, currency, expected):
    assert format_amount(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (Decimal("5000.4"), "RWF"),  # the POS rounds francs before asking; the client never does
        (Decimal("12.345"), "EUR"),
        (Decimal("0"), "RWF"),
        (Decimal("-100"), "RWF"),
        (Decimal("NaN"), "RWF"),
        (Decimal("5000"), "XYZ"),
    ],
)
def test_amounts_the_client_refuses(amount, currency):
    with pytest.raises(ValueError):
        format_amount(amount, currency)


@pytest.mark.parametrize("amount", [5000.0, "5000", True])
def test_floats_and_strings_are_not_amounts(amount):
    with pytest.raises(TypeError):
        format_amount(amount, "RWF")


@pytest.mark.parametrize(
    "phone",
    ["+250788123456", "250788123456", "+250 788 123 456", "00250788123456", "250-788-123456"],
)
def test_phone_numbers_become_msisdn_without_plus(phone):
    assert normalize_msisdn(phone) == "250788123456"


@pytest.mark.parametrize(
    "phone", ["0788123456", "", "+250 78x 123 456", "+12", "+2507881234567890"]
)
def test_bad_phone_numbers_are_refused_with_the_field(phone):
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_msisdn(phone)
    assert list(caught.value.fields) == ["payer_phone"]
    assert caught.value.message == "Enter the customer's Mobile Money number, e.g. +250788123456."


def test_masked_phone_keeps_country_code_and_last_digits():
    assert mask_msisdn("250788123456") == "250******456"


def test_momo_errors_are_domain_errors():
    assert issubclass(MoMoError, DomainError)
    assert issubclass(InvalidPhoneNumber, DomainError)


def test_without_credentials_only_manual_entry_is_offered(settings):
    settings.MOMO_SUBSCRIPTION_KEY = "key"
    settings.MOMO_API_USER = "user"
    settings.MOMO_API_KEY = ""

    assert momo_configured() is False
    with pytest.raises(MoMoNotConfigured) as caught:
        MoMoClient.from_settings()
    assert "type the transaction reference" in caught.value.message


def test_with_credentials_request_to_pay_is_offered(settings):
    settings.MOMO_SUBSCRIPTION_KEY = "key"
    settings.MOMO_API_USER = "user"
    settings.MOMO_API_KEY = "secret"

    assert momo_configured() is True


def test_the_sandbox_is_the_default_base_url():
    from vevurn import settings as project_settings

    assert project_settings.MOMO_BASE_URL == "https://sandbox.momodeveloper.mtn.com"
    assert project_settings.MOMO_TARGET_ENVIRONMENT == "sandbox"
    assert project_settings.MOMO_PAYMENT_TIMEOUT_SECONDS == 120
