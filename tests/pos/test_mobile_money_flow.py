"""Request-to-pay end to end against the local MTN simulator: start a request, follow it, sell
with it; failures, timeouts, unreadable answers, late successes and the reconcile command."""

import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import AuditLog
from pos import errors
from pos.mobile_money import MoMoNotConfigured, MoMoRequestRejected
from pos.models import MobileMoneyRequest, Sale
from pos.services import mobile_money
from pos.services.checkout import TenderLine
from pos.services.shifts import z_report
from tests.support.momo_simulator import PayerScript

PHONE = "0788 123 456"
MSISDN = "250788123456"
PRICE = Decimal("12000")


@pytest.fixture
def start(shift, cashier, momo_simulator):
    def ask(amount=PRICE, phone=PHONE, **kwargs):
        return mobile_money.start_request(
            shift=kwargs.pop("shift", shift),
            amount=amount,
            phone=phone,
            user=kwargs.pop("user", cashier),
            **kwargs,
        )

    return ask


def pay_with(momo_request, amount=PRICE):
    return [TenderLine("mobile_money", amount, momo_request_id=momo_request.pk)]


def time_out(momo_request):
    """As if the request had been sent longer ago than MOMO_PAYMENT_TIMEOUT_SECONDS."""
    long_ago = timezone.now() - timedelta(seconds=121)
    MobileMoneyRequest.objects.filter(pk=momo_request.pk).update(created_at=long_ago)


def reconcile(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("reconcile_momo", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


# --- The sale completes when the payment succeeds -------------------------------------------


def test_sale_completes_when_the_customer_approves(start, sell, product, shift, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL", pending_polls=1)

    momo_request = start()

    assert momo_request.status == "pending"
    assert momo_request.phone == "+250788123456"
    [sent] = momo_simulator.received_for("requesttopay")
    assert sent.headers["x-reference-id"] == str(momo_request.reference_id)
    assert sent.body["amount"] == "12000"
    assert sent.body["payer"]["partyId"] == MSISDN
    assert sent.body["externalId"] == f"shift{shift.pk}-req{momo_request.pk}"
    assert "x-callback-url" not in sent.headers  # no MOMO_CALLBACK_URL: the till polls

    assert mobile_money.refresh_request(momo_request).status == "pending"
    paid = mobile_money.refresh_request(momo_request)
    transaction_id = momo_simulator.payments[str(momo_request.reference_id)]
    assert paid.status == "successful"
    assert paid.financial_transaction_id == transaction_id.financial_transaction_id
    assert mobile_money.cashier_message(paid).startswith("Paid.")

    sale = sell((product, 1), tenders=pay_with(paid))

    [payment] = sale.payments.all()
    assert payment.tender == "mobile_money"
    assert payment.amount == PRICE
    assert payment.reference == paid.financial_transaction_id
    paid.refresh_from_db()
    assert paid.payment == payment
    # A request pays for one sale only.
    with pytest.raises(errors.InvalidTender):
        sell((product, 1), tenders=pay_with(paid))


def test_callback_url_names_our_endpoint_with_the_reference(start, momo_simulator, settings):
    settings.MOMO_CALLBACK_URL = "https://pos.myshop.rw/pos/momo/callback/"

    momo_request = start()

    [sent] = momo_simulator.received_for("requesttopay")
    assert sent.headers["x-callback-url"] == (
        f"https://pos.myshop.rw/pos/momo/callback/{momo_request.reference_id}/"
    )


def test_declined_payment_sells_nothing(start, sell, product, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="FAILED", reason="NOT_ENOUGH_FUNDS")
    momo_request = start()

    failed = mobile_money.refresh_request(momo_request)

    assert failed.status == "failed"
    assert failed.reason == "The customer's Mobile Money balance is too low."
    assert mobile_money.cashier_message(failed) == failed.reason
    with pytest.raises(errors.InvalidTender, match="not confirmed"):
        sell((product, 1), tenders=pay_with(failed))
    assert Sale.objects.count() == 0
    product.refresh_from_db()
    assert product.stock_on_hand == 10


def test_payment_never_approved_times_out_and_sells_nothing(start, sell, product, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request = start()
    assert mobile_money.refresh_request(momo_request).status == "pending"

    time_out(momo_request)
    failed = mobile_money.refresh_request(momo_request)

    assert failed.status == "failed"
    assert failed.reason == mobile_money.TIMED_OUT
    with pytest.raises(errors.InvalidTender):
        sell((product, 1), tenders=pay_with(failed))
    assert Sale.objects.count() == 0


def test_success_for_another_amount_is_never_accepted(start, sell, product, momo_simulator):
    momo_request = start()
    reply = {"status": "SUCCESSFUL", "amount": "1000", "currency": "RWF"}
    reply["financialTransactionId"] = "98765"
    momo_simulator.queue_reply("status", status=200, body=json.dumps(reply).encode())

    failed = mobile_money.refresh_request(momo_request)

    assert failed.status == "failed"
    assert failed.reason.startswith(mobile_money.WRONG_AMOUNT)
    with pytest.raises(errors.InvalidTender):
        sell((product, 1), tenders=pay_with(failed))
    assert list(mobile_money.needs_refund()) == [failed]


def test_final_requests_are_not_asked_again_and_do_not_change(start, momo_simulator):
    momo_request = mobile_money.refresh_request(start())
    assert momo_request.status == "successful"
    polls = len(momo_simulator.received_for("status"))

    again = mobile_money.refresh_request(momo_request)

    assert again.status == "successful"
    assert len(momo_simulator.received_for("status")) == polls
    # A stray late answer cannot turn a final request into another final state.
    mobile_money._record_final(momo_request.pk, "failed", reason="late FAILED")
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert momo_request.reason == ""


# --- Never asking twice ---------------------------------------------------------------------


def test_same_request_key_returns_the_first_request_without_asking_again(start, momo_simulator):
    key = uuid.uuid4()

    first = start(request_key=key)
    second = start(request_key=str(key))

    assert second.pk == first.pk
    assert (first.already_requested, second.already_requested) == (False, True)
    assert len(momo_simulator.received_for("requesttopay")) == 1
    assert MobileMoneyRequest.objects.count() == 1
    # Another key is another payment.
    assert start(request_key=uuid.uuid4()).pk != first.pk
    assert len(momo_simulator.received_for("requesttopay")) == 2


def test_same_request_key_for_another_amount_is_refused(start, momo_simulator):
    key = uuid.uuid4()
    start(request_key=key)

    with pytest.raises(errors.MoMoRequestKeyConflict) as refused:
        start(amount=Decimal("5000"), request_key=key)

    assert refused.value.status == 409
    assert "request_key" in refused.value.fields
    assert MobileMoneyRequest.objects.count() == 1
    assert len(momo_simulator.received_for("requesttopay")) == 1


def test_no_answer_from_mtn_leaves_the_request_pending_then_resends_the_same_reference(
    start, momo_simulator
):
    # MTN does not answer in time (read timeout 0.5 s) and never registered the request.
    momo_simulator.queue_reply("requesttopay", status=202, delay=1.0)

    momo_request = start()

    assert momo_request.status == "pending"
    # The first poll learns that MTN never got it, and sends it again with the same reference.
    assert mobile_money.refresh_request(momo_request).status == "pending"
    sent = momo_simulator.received_for("requesttopay")
    assert [r.headers["x-reference-id"] for r in sent] == [str(momo_request.reference_id)] * 2
    assert mobile_money.refresh_request(momo_request).status == "successful"


def test_mtn_that_never_got_the_request_fails_it_after_the_timeout(start, momo_simulator):
    momo_simulator.queue_reply("requesttopay", status=202, delay=1.0)
    momo_request = start()
    time_out(momo_request)

    failed = mobile_money.refresh_request(momo_request)

    assert failed.status == "failed"
    assert failed.reason == mobile_money.NEVER_RECEIVED
    assert len(momo_simulator.received_for("requesttopay")) == 1


def test_refused_request_is_failed_with_a_reason_the_cashier_reads(start, momo_simulator):
    momo_simulator.queue_reply("requesttopay", status=400, body=b'{"code": "INVALID_PAYER"}')

    with pytest.raises(MoMoRequestRejected) as refused:
        start()

    momo_request = MobileMoneyRequest.objects.get()
    assert momo_request.status == "failed"
    assert momo_request.reason == refused.value.message
    assert "phone number" in momo_request.reason


@pytest.mark.django_db(transaction=True)
def test_request_is_committed_before_mtn_is_asked(shift, cashier, momo_simulator):
    seen_by_mtn = []
    handle = momo_simulator.handle

    def handle_and_look(endpoint, method, path, headers, raw_body):
        if endpoint == "requesttopay":
            # Another connection (the simulator's thread) must already see the stored row.
            reference = headers["x-reference-id"]
            seen_by_mtn.append(MobileMoneyRequest.objects.filter(reference_id=reference).exists())
            connection.close()
        return handle(endpoint, method, path, headers, raw_body)

    momo_simulator.handle = handle_and_look

    momo_request = mobile_money.start_request(shift=shift, amount=PRICE, phone=PHONE, user=cashier)

    assert seen_by_mtn == [True]
    assert threading.current_thread() is threading.main_thread()
    assert momo_request.status == "pending"


# --- Unreadable answers and stragglers -------------------------------------------------------


def test_unreadable_status_keeps_the_request_pending_and_reconcile_settles_it(
    start, momo_simulator, caplog
):
    momo_request = start()
    momo_simulator.queue_reply("status", status=200, body=b"<html>gateway</html>")

    still = mobile_money.refresh_request(momo_request)

    assert still.status == "pending"
    assert any("momo_bad_response" in r.getMessage() for r in caplog.records)

    code, out = reconcile()

    assert code == 0
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert "now successful" in out
    assert "No Mobile Money payment needs a refund." in out


def test_reconcile_times_out_old_requests_and_respects_the_limit(start, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    first, second = start(), start()
    time_out(first)
    time_out(second)

    code, out = reconcile("--limit", "1")

    assert code == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("failed", "pending")
    assert first.reason == mobile_money.TIMED_OUT
    reconcile()
    second.refresh_from_db()
    assert second.status == "failed"


def test_late_success_is_recorded_listed_for_refund_and_makes_reconcile_fail(
    start, shift, sell, product, momo_simulator, django_capture_on_commit_callbacks
):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request = start()
    time_out(momo_request)
    assert mobile_money.refresh_request(momo_request).status == "failed"
    # The customer approves on the phone after the till gave up.
    momo_simulator.payments[str(momo_request.reference_id)].script = PayerScript("SUCCESSFUL")

    with django_capture_on_commit_callbacks(execute=True):
        code, out = reconcile()

    assert code == 1
    assert AuditLog.objects.filter(action="momo.late_success").count() == 1
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert momo_request.reason.startswith(mobile_money.LATE_SUCCESS)
    assert momo_request.financial_transaction_id
    assert "NEEDS A MANUAL REFUND" in out
    assert momo_request.financial_transaction_id in out
    [listed] = z_report(shift)["mobile_money_to_refund"]
    assert listed["id"] == momo_request.pk
    assert Decimal(listed["amount"]) == PRICE

    # If the customer is still at the till, the money can pay for the sale after all.
    sell((product, 1), tenders=pay_with(momo_request))
    assert reconcile()[0] == 0
    assert z_report(shift)["mobile_money_to_refund"] == []


def test_timed_out_request_settles_on_mtns_final_word_and_is_not_asked_again(start, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request = start()
    time_out(momo_request)
    assert mobile_money.refresh_request(momo_request).reason == mobile_money.TIMED_OUT
    momo_simulator.payments[str(momo_request.reference_id)].script = PayerScript(
        "FAILED", reason="APPROVAL_REJECTED"
    )

    assert reconcile()[0] == 0
    momo_request.refresh_from_db()
    assert momo_request.status == "failed"
    assert momo_request.reason == "The customer declined the payment on the phone."
    polls = len(momo_simulator.received_for("status"))
    reconcile()
    assert len(momo_simulator.received_for("status")) == polls


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_request_key_from_parallel_connections_asks_mtn_once(shift, cashier, momo_simulator):
    key = uuid.uuid4()
    barrier = threading.Barrier(8)
    ids, failures = [], []

    def ask():
        try:
            barrier.wait()
            momo_request = mobile_money.start_request(
                shift=shift, amount=PRICE, phone=PHONE, user=cashier, request_key=key
            )
            ids.append(momo_request.pk)
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(set(ids)) == 1 and len(ids) == 8
    assert MobileMoneyRequest.objects.count() == 1
    assert len(momo_simulator.received_for("requesttopay")) == 1


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "phone", "field"),
    [
        ("0", PHONE, "amount"),
        ("-500", PHONE, "amount"),
        ("abc", PHONE, "amount"),
        ("12000.50", PHONE, "amount"),
        ("", PHONE, "amount"),
        (PRICE, "12345", "phone"),
        (PRICE, "+256772123456", "phone"),
        (PRICE, "", "phone"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(start, momo_simulator, amount, phone, field):
    with pytest.raises(errors.DomainError) as refused:
        start(amount=amount, phone=phone)

    assert refused.value.status == 400
    assert list(refused.value.fields) == [field]
    assert MobileMoneyRequest.objects.count() == 0
    assert momo_simulator.received == []


def test_float_amount_is_refused(start, momo_simulator):
    with pytest.raises(errors.InvalidAmount):
        start(amount=12000.0)
    assert MobileMoneyRequest.objects.count() == 0


def test_no_open_shift_or_someone_elses_shift_is_refused(start, shift, make_user, momo_simulator):
    other = make_user("other", "cashier")

    with pytest.raises(errors.NoOpenShift):
        start(shift=None, user=other)
    with pytest.raises(errors.NoOpenShift):
        start(user=other)  # the fixture's shift belongs to another cashier
    shift.status = "closed"
    shift.save()
    with pytest.raises(errors.NoOpenShift) as refused:
        start()

    assert refused.value.fields == {"shift": [refused.value.message]}
    assert MobileMoneyRequest.objects.count() == 0
    assert momo_simulator.received == []


def test_not_configured_is_refused_before_anything_is_written(start, settings):
    settings.MOMO_API_KEY = ""

    with pytest.raises(MoMoNotConfigured):
        start()

    assert MobileMoneyRequest.objects.count() == 0
