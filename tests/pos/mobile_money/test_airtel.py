"""The Airtel Money client against the local Airtel simulator: the token, the payment it pushes,
the enquiry's statuses (TA kept pending) and each failure as a MoMoError."""

import uuid
from decimal import Decimal

import pytest

from pos.mobile_money import (
    AirtelClient,
    InvalidPhoneNumber,
    MoMoAuthError,
    MoMoBadResponse,
    MoMoError,
    MoMoNotConfigured,
    MoMoNotFound,
    MoMoRequestRejected,
    MoMoStatus,
    MoMoTimeout,
)
from pos.mobile_money.airtel import national_msisdn, transaction_id
from pos.mobile_money.providers import configured_providers

PHONE = "+250731234567"
MSISDN = "731234567"


@pytest.fixture
def airtel(airtel_simulator):
    with AirtelClient.from_settings() as client:
        yield client


def pay(client, reference=None, amount=Decimal(12000), phone=PHONE):
    reference = reference or uuid.uuid4()
    client.request_to_pay(
        reference_id=reference, amount=amount, payer_phone=phone, external_id="shift1-req1"
    )
    return reference


def test_a_payment_is_pushed_with_airtels_headers_and_body(airtel, airtel_simulator):
    reference = pay(airtel)

    [token] = airtel_simulator.received_for("token")
    assert token.body == {
        "client_id": airtel_simulator.client_id,
        "client_secret": airtel_simulator.client_secret,
        "grant_type": "client_credentials",
    }
    [sent] = airtel_simulator.received_for("requesttopay")
    assert sent.path == "/merchant/v2/payments/"
    assert (sent.headers["x-country"], sent.headers["x-currency"]) == ("RW", "RWF")
    assert sent.headers["authorization"].startswith("Bearer ")
    assert sent.body["subscriber"] == {"country": "RW", "currency": "RWF", "msisdn": MSISDN}
    assert sent.body["transaction"] == {
        "amount": 12000,  # a JSON number, never a float
        "country": "RW",
        "currency": "RWF",
        "id": reference.hex,
    }


@pytest.mark.parametrize(
    ("outcome", "status", "final"),
    [
        ("TS", MoMoStatus.SUCCESSFUL, True),
        ("TF", MoMoStatus.FAILED, True),
        ("TIP", MoMoStatus.PENDING, False),
        ("TA", MoMoStatus.PENDING, False),  # ambiguous: kept pending and asked again
    ],
)
def test_the_enquiry_maps_each_airtel_status(airtel, airtel_simulator, outcome, status, final):
    airtel_simulator.on_payer(MSISDN, outcome=outcome, reason="Insufficient funds")
    reference = pay(airtel)

    found = airtel.get_status(reference)

    assert found.status == status
    assert found.is_final is final
    [enquiry] = airtel_simulator.received_for("status")
    assert enquiry.path == f"/standard/v1/payments/{reference.hex}"
    if outcome == "TS":
        payment = airtel_simulator.payments[reference.hex]
        assert found.financial_transaction_id == payment.airtel_money_id
        # Airtel does not repeat the amount: its TS confirms what was asked.
        assert found.confirms(amount=Decimal(12000), currency="RWF")
    if outcome == "TF":
        assert found.reason == "TF: Insufficient funds"


def test_an_unknown_transaction_is_not_found(airtel):
    with pytest.raises(MoMoNotFound):
        airtel.get_status(uuid.uuid4())


def test_the_token_is_reused_then_renewed_when_airtel_refuses_it(airtel, airtel_simulator):
    reference = pay(airtel)
    airtel.get_status(reference)
    assert len(airtel_simulator.received_for("token")) == 1

    airtel_simulator.revoke_tokens()
    assert airtel.get_status(reference).status == MoMoStatus.SUCCESSFUL
    assert len(airtel_simulator.received_for("token")) == 2


def test_wrong_credentials_are_a_setup_error(airtel_simulator, settings):
    settings.AIRTEL_CLIENT_SECRET = "wrong"
    with AirtelClient.from_settings() as client, pytest.raises(MoMoAuthError):
        pay(client)


def test_a_refused_payment_and_a_bad_number_are_clear_errors(airtel, airtel_simulator):
    airtel_simulator.queue_reply(
        "requesttopay",
        status=200,
        body=b'{"status": {"success": false, "response_code": "DP00800001007"}}',
    )
    with pytest.raises(MoMoRequestRejected) as refused:
        pay(airtel)
    assert refused.value.details == {"provider_error": "DP00800001007"}
    with pytest.raises(InvalidPhoneNumber):  # Airtel Rwanda charges Rwandan numbers only
        pay(airtel, phone="+256701234567")
    assert len(airtel_simulator.received_for("requesttopay")) == 1


def test_faults_are_momo_errors(airtel, airtel_simulator):
    airtel_simulator.queue_reply("status", status=503)
    with pytest.raises(MoMoError) as down:
        airtel.get_status(uuid.uuid4())
    assert down.value.code == "momo_unavailable"
    airtel_simulator.queue_reply("status", status=200, body=b"not json")
    with pytest.raises(MoMoBadResponse):
        airtel.get_status(uuid.uuid4())
    body = b'{"data": {"transaction": {"id": "x", "status": "TX"}}}'
    airtel_simulator.queue_reply("status", status=200, body=body)
    with pytest.raises(MoMoBadResponse):
        airtel.get_status(uuid.uuid4())
    airtel_simulator.queue_reply("status", delay=2)
    with pytest.raises(MoMoTimeout):
        airtel.get_status(uuid.uuid4())


def test_without_a_client_id_and_secret_airtel_is_off(settings):
    settings.AIRTEL_CLIENT_ID = ""
    assert "airtel" not in configured_providers()
    with pytest.raises(MoMoNotConfigured):
        AirtelClient.from_settings()


def test_numbers_and_ids_in_airtels_form():
    assert national_msisdn("+250 731 234 567", "RW") == "731234567"
    assert transaction_id("3f1c2a8e-52d4-4c1e-9a77-0b9f1f6c2d15") == (
        "3f1c2a8e52d44c1e9a770b9f1f6c2d15"
    )
