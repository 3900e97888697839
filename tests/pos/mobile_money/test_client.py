"""The MoMo client against the local simulator: the documented requests, and each way MTN can
answer (success, failure, timeout, malformed reply, server error, refused credentials)."""

import base64
import threading
import time
import uuid
from decimal import Decimal

import pytest

from pos.mobile_money import (
    MoMoAuthError,
    MoMoBadResponse,
    MoMoClient,
    MoMoError,
    MoMoNotFound,
    MoMoRequestRejected,
    MoMoStatus,
    MoMoTimeout,
)
from pos.mobile_money import http as token_module

PHONE = "+250788123456"
MSISDN = "250788123456"


@pytest.fixture
def momo(momo_simulator):
    with MoMoClient.from_settings() as client:
        yield client


def ask(momo, reference=None, amount=Decimal("5000"), phone=PHONE):
    reference = reference or uuid.uuid4()
    momo.request_to_pay(
        reference_id=reference,
        amount=amount,
        payer_phone=phone,
        external_id="R1-000123",
        payer_message="Vevurn shop, receipt R1-000123",
        payee_note="Till 1",
    )
    return reference


# --- Access token ---------------------------------------------------------------------------


def test_token_is_obtained_with_basic_auth_and_reused(momo, momo_simulator):
    ask(momo)
    ask(momo)
    with MoMoClient.from_settings() as other_client:  # a new client of the same process
        ask(other_client)

    token_calls = momo_simulator.received_for("token")
    assert len(token_calls) == 1
    credentials = f"{momo_simulator.api_user}:{momo_simulator.api_key}".encode()
    assert token_calls[0].headers["authorization"] == (
        "Basic " + base64.b64encode(credentials).decode()
    )
    assert token_calls[0].headers["ocp-apim-subscription-key"] == momo_simulator.subscription_key
    assert len(momo_simulator.payments) == 3


def test_threads_sharing_a_client_fetch_one_token(momo, momo_simulator):
    errors = []

    def pay():
        try:
            ask(momo)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(momo_simulator.received_for("token")) == 1
    assert len(momo_simulator.payments) == 8


def test_waiting_for_another_thread_s_token_fetch_is_bounded(momo_simulator, settings):
    settings.MOMO_CONNECT_TIMEOUT_SECONDS = 0.1
    token_module._tokens_lock.acquire()  # another thread is stuck fetching a token
    try:
        with MoMoClient.from_settings() as momo, pytest.raises(MoMoTimeout):
            ask(momo)
    finally:
        token_module._tokens_lock.release()

    assert momo_simulator.received == []


def test_token_is_renewed_shortly_before_it_expires(momo, momo_simulator, monkeypatch):
    ask(momo)
    later = time.monotonic() + momo_simulator.token_lifetime - 30  # within the last minute
    monkeypatch.setattr(token_module.time, "monotonic", lambda: later)

    ask(momo)

    assert len(momo_simulator.received_for("token")) == 2


def test_a_token_refused_early_is_replaced_once(momo, momo_simulator):
    ask(momo)
    momo_simulator.revoke_tokens()

    ask(momo)

    assert len(momo_simulator.received_for("token")) == 2
    assert len(momo_simulator.payments) == 2


# --- Request to pay ---------------------------------------------------------------------------


def test_request_to_pay_sends_the_documented_headers_and_body(momo, momo_simulator):
    reference = uuid.uuid4()

    result = momo.request_to_pay(
        reference_id=reference,
        amount=Decimal("5000"),
        payer_phone=PHONE,
        external_id="R1-000123",
        payer_message="Vevurn shop",
        payee_note="Till 1",
    )

    assert result.reference_id == str(reference)
    assert result.already_requested is False
    (call,) = momo_simulator.received_for("requesttopay")
    assert call.path == "/collection/v1_0/requesttopay"
    assert call.headers["x-reference-id"] == str(reference)
    assert call.headers["x-target-environment"] == "sandbox"
    assert call.headers["ocp-apim-subscription-key"] == momo_simulator.subscription_key
    assert call.headers["authorization"].startswith("Bearer ")
    assert "x-callback-url" not in call.headers
    assert call.body == {
        "amount": "5000",
        "currency": "RWF",
        "externalId": "R1-000123",
        "payer": {"partyIdType": "MSISDN", "partyId": MSISDN},
        "payerMessage": "Vevurn shop",
        "payeeNote": "Till 1",
    }


def test_the_callback_url_is_sent_when_configured(momo_simulator, settings):
    settings.MOMO_CALLBACK_URL = "https://pos.example.rw/api/momo/callback/"
    with MoMoClient.from_settings() as momo:
        ask(momo)

    (call,) = momo_simulator.received_for("requesttopay")
    assert call.headers["x-callback-url"] == "https://pos.example.rw/api/momo/callback/"


def test_a_retry_with_the_same_reference_never_asks_twice(momo, momo_simulator):
    reference = uuid.uuid4()
    first = momo.request_to_pay(
        reference_id=reference, amount=Decimal("5000"), payer_phone=PHONE, external_id="R1-1"
    )

    again = momo.request_to_pay(
        reference_id=str(reference), amount=Decimal("5000"), payer_phone=PHONE, external_id="R1-1"
    )

    assert first.already_requested is False
    assert again.already_requested is True
    assert len(momo_simulator.received_for("requesttopay")) == 2
    assert list(momo_simulator.payments) == [str(reference)]


def test_a_request_mtn_refuses_is_a_clear_error(momo, momo_simulator):
    momo_simulator.queue_reply(
        "requesttopay", status=400, body=b'{"code": "INVALID_CURRENCY", "message": "no"}'
    )

    with pytest.raises(MoMoRequestRejected) as caught:
        ask(momo)

    assert caught.value.details == {"mtn_error": "INVALID_CURRENCY"}
    assert "check the phone number" in caught.value.message


def test_a_non_integral_franc_amount_is_refused_before_calling_mtn(momo, momo_simulator):
    with pytest.raises(ValueError, match="more decimal places than RWF"):
        ask(momo, amount=Decimal("5000.4"))
    with pytest.raises(TypeError):
        ask(momo, amount=5000.0)

    assert momo_simulator.received == []


def test_a_reference_id_must_be_a_uuid(momo, momo_simulator):
    with pytest.raises(ValueError, match="UUID"):
        ask(momo, reference="R1-000123")
    assert momo_simulator.received == []


# --- Status ----------------------------------------------------------------------------------


def test_polling_reaches_successful_with_the_transaction_id(momo, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL", pending_polls=2)
    reference = ask(momo)

    first, second, third = (momo.get_status(reference) for _ in range(3))

    assert [first.status, second.status] == [MoMoStatus.PENDING, MoMoStatus.PENDING]
    assert not first.is_final
    assert third.status == MoMoStatus.SUCCESSFUL
    assert third.is_final and third.is_successful
    payment = momo_simulator.payments[str(reference)]
    assert third.financial_transaction_id == payment.financial_transaction_id
    assert third.amount == Decimal("5000")
    assert third.currency == "RWF"
    assert third.external_id == "R1-000123"
    assert third.reason is None
    assert third.confirms(amount=Decimal("5000"), currency="RWF")
    assert not third.confirms(amount=Decimal("50000"), currency="RWF")
    assert not first.confirms(amount=Decimal("5000"), currency="RWF")
    (call, *_) = momo_simulator.received_for("status")
    assert call.path == f"/collection/v1_0/requesttopay/{reference}"
    assert call.headers["x-target-environment"] == "sandbox"


@pytest.mark.parametrize(
    ("reason", "expected_code", "cashier_message"),
    [
        ("PAYER_NOT_FOUND", "PAYER_NOT_FOUND", "This number has no Mobile Money account."),
        (
            {"code": "NOT_ENOUGH_FUNDS", "message": "Insufficient balance"},
            "NOT_ENOUGH_FUNDS",
            "The customer's Mobile Money balance is too low.",
        ),
    ],
)
def test_a_failed_payment_gives_its_reason(
    momo, momo_simulator, reason, expected_code, cashier_message
):
    momo_simulator.on_payer(MSISDN, outcome="FAILED", reason=reason)
    reference = ask(momo)

    status = momo.get_status(reference)

    assert status.status == MoMoStatus.FAILED
    assert status.is_final and not status.is_successful
    assert status.reason == expected_code
    assert status.failure_message == cashier_message
    assert status.financial_transaction_id is None


def test_a_payment_that_stays_pending_stays_pending(momo, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    reference = ask(momo)

    statuses = {momo.get_status(reference).status for _ in range(5)}

    assert statuses == {MoMoStatus.PENDING}


def test_an_unknown_reference_is_not_found(momo):
    with pytest.raises(MoMoNotFound) as caught:
        momo.get_status(uuid.uuid4())
    assert caught.value.status == 404


# --- Faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["token", "requesttopay", "status"])
def test_no_answer_within_the_read_timeout_is_a_timeout(momo, momo_simulator, endpoint):
    reference = ask(momo) if endpoint == "status" else uuid.uuid4()
    if endpoint == "token":
        momo_simulator.revoke_tokens()
        token_module.clear_token_cache()
    server_delay = 10.0  # far beyond MOMO_TIMEOUT_SECONDS (0.5 s in the fixture)
    momo_simulator.queue_reply(endpoint, status=200, body=b"{}", delay=server_delay)

    started = time.monotonic()
    with pytest.raises(MoMoTimeout) as caught:
        if endpoint == "status":
            momo.get_status(reference)
        else:
            ask(momo, reference=reference)

    assert time.monotonic() - started < server_delay  # gave up before MTN answered
    assert caught.value.status == 504
    assert caught.value.message == (
        "Mobile Money did not answer in time; try again or take another tender."
    )


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("status", b"<html>Bad gateway</html>"),
        ("status", b'{"amount": "5000", "currency": "RWF"}'),  # no status
        ("status", b'{"status": "MAYBE"}'),
        ("status", b'["SUCCESSFUL"]'),
        ("status", b'{"status": "SUCCESSFUL", "amount": "lots"}'),
        ("token", b"not json"),
        ("token", b'{"token_type": "access_token", "expires_in": 3600}'),
        ("token", b'{"access_token": "abc", "expires_in": "soon"}'),
    ],
)
def test_a_malformed_reply_is_a_bad_response(momo, momo_simulator, endpoint, body):
    reference = ask(momo)
    if endpoint == "token":
        token_module.clear_token_cache()
    momo_simulator.queue_reply(endpoint, status=200, body=body)

    with pytest.raises(MoMoBadResponse) as caught:
        momo.get_status(reference)

    assert caught.value.code == "momo_bad_response"


def test_an_unexpected_status_code_is_a_bad_response(momo, momo_simulator):
    momo_simulator.queue_reply("requesttopay", status=200, body=b"")

    with pytest.raises(MoMoBadResponse):
        ask(momo)


@pytest.mark.parametrize("endpoint", ["token", "requesttopay", "status"])
def test_a_server_error_is_mobile_money_unavailable(momo, momo_simulator, endpoint):
    reference = ask(momo) if endpoint == "status" else uuid.uuid4()
    if endpoint == "token":
        token_module.clear_token_cache()
    momo_simulator.queue_reply(endpoint, status=500, body=b'{"message": "internal error"}')

    with pytest.raises(MoMoError) as caught:
        if endpoint == "status":
            momo.get_status(reference)
        else:
            ask(momo, reference=reference)

    assert type(caught.value) is MoMoError
    assert caught.value.code == "momo_unavailable"
    assert caught.value.status == 502
    assert caught.value.message == (
        "Mobile Money is not answering; try again or take another tender."
    )


def test_a_closed_port_is_mobile_money_unavailable(momo, momo_simulator):
    momo_simulator.stop()

    with pytest.raises(MoMoError) as caught:
        ask(momo)

    assert caught.value.code == "momo_unavailable"


@pytest.mark.parametrize("setting", ["MOMO_API_KEY", "MOMO_SUBSCRIPTION_KEY", "MOMO_API_USER"])
def test_wrong_credentials_are_an_auth_error(momo_simulator, settings, setting):
    setattr(settings, setting, "wrong")

    with MoMoClient.from_settings() as momo, pytest.raises(MoMoAuthError) as caught:
        ask(momo)

    assert caught.value.status == 503
    assert "ask a manager" in caught.value.message
    assert momo_simulator.payments == {}


def test_a_token_refused_twice_is_an_auth_error(momo, momo_simulator):
    ask(momo)
    momo_simulator.queue_reply("status", status=401, body=b'{"code": "UNAUTHORIZED"}')
    momo_simulator.queue_reply("status", status=401, body=b'{"code": "UNAUTHORIZED"}')

    with pytest.raises(MoMoAuthError):
        momo.get_status(uuid.uuid4())


# --- Logs ------------------------------------------------------------------------------------


def test_logs_mask_the_phone_and_never_show_secrets(momo, momo_simulator, caplog):
    caplog.set_level("DEBUG", logger="vevurn.momo")
    momo_simulator.on_payer(MSISDN, outcome="FAILED", reason="NOT_ENOUGH_FUNDS")

    reference = ask(momo)
    momo.get_status(reference)

    log = caplog.text
    assert str(reference) in log
    assert "250******456" in log
    assert MSISDN not in log
    assert momo_simulator.api_key not in log
    assert momo_simulator.subscription_key not in log
    (token,) = momo_simulator.tokens
    assert token not in log
    assert "vevurn.momo" in {record.name for record in caplog.records}
