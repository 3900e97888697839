"""The worker follows Mobile Money requests with no one looking (pos.tasks.poll_mobile_money):
the back-off, late successes after the till moved on, and no lock held while MTN is asked."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditLog
from jobs.models import JobRecord
from pos import errors
from pos.mobile_money import MoMoClient
from pos.models import MobileMoneyRequest
from pos.services import mobile_money
from pos.services.checkout import TenderLine
from pos.tasks import poll_mobile_money
from tests.support.momo_simulator import PayerScript

PHONE = "0788 123 456"
MSISDN = "250788123456"
PRICE = Decimal("12000")


@pytest.fixture
def start(shift, cashier, momo_simulator):
    def ask(amount=PRICE, **kwargs):
        return mobile_money.start_request(
            shift=shift, amount=amount, phone=PHONE, user=cashier, **kwargs
        )

    return ask


def due_now(momo_request):
    MobileMoneyRequest.objects.filter(pk=momo_request.pk).update(next_poll_at=timezone.now())


def aged(momo_request, **age):
    """As if the request had been sent `age` ago, and due for a poll."""
    MobileMoneyRequest.objects.filter(pk=momo_request.pk).update(
        created_at=timezone.now() - timedelta(**age), next_poll_at=timezone.now()
    )


def status_reads(simulator) -> int:
    return len(simulator.received_for("status"))


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (timedelta(0), timedelta(seconds=5)),
        (timedelta(seconds=119), timedelta(seconds=5)),
        (timedelta(minutes=2), timedelta(minutes=1)),
        (timedelta(minutes=29, seconds=59), timedelta(minutes=1)),
        (timedelta(minutes=30), timedelta(hours=1)),
        (timedelta(hours=23, minutes=59), timedelta(hours=1)),
        (timedelta(hours=24), None),
    ],
)
def test_back_off_is_5_s_for_2_min_then_a_minute_to_30_min_then_hourly_to_a_day(age, interval):
    now = timezone.now()
    request = MobileMoneyRequest(created_at=now - age)
    assert mobile_money.next_poll(request, now) == interval


def test_the_periodic_job_settles_a_pending_request_with_no_one_looking(start, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL", pending_polls=1)
    momo_request = start()
    assert momo_request.next_poll_at > timezone.now()  # first poll in 5 s

    poll_mobile_money.enqueue()  # not due yet: MTN is not asked
    assert status_reads(momo_simulator) == 0

    due_now(momo_request)
    poll_mobile_money.enqueue()  # tests run jobs at once (ImmediateBackend)
    momo_request.refresh_from_db()
    assert momo_request.status == "pending"
    assert momo_request.next_poll_at == pytest.approx(
        timezone.now() + timedelta(seconds=5), abs=timedelta(seconds=2)
    )

    due_now(momo_request)
    poll_mobile_money.enqueue()
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert status_reads(momo_simulator) == 2
    record = JobRecord.objects.get(job="pos.tasks.poll_mobile_money")
    assert record.last_status == "successful"
    assert record.last_success_at is not None

    due_now(momo_request)
    poll_mobile_money.enqueue()  # final: never asked about again
    assert status_reads(momo_simulator) == 2


def test_a_timed_out_request_is_asked_hourly_for_a_day_and_a_late_success_is_flagged(
    start, momo_simulator, django_capture_on_commit_callbacks
):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request = start()
    aged(momo_request, minutes=3)
    poll_mobile_money.enqueue()
    momo_request.refresh_from_db()
    assert (momo_request.status, momo_request.reason) == ("failed", mobile_money.TIMED_OUT)
    assert momo_request.next_poll_at - timezone.now() > timedelta(seconds=50)

    momo_simulator.payments[str(momo_request.reference_id)].script = PayerScript("SUCCESSFUL")
    aged(momo_request, hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        poll_mobile_money.enqueue()
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert momo_request.reason.startswith(mobile_money.LATE_SUCCESS)
    assert list(mobile_money.needs_refund()) == [momo_request]
    assert AuditLog.objects.filter(action="momo.late_success").count() == 1


def test_a_request_older_than_a_day_is_no_longer_asked_about(start, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request = start()
    aged(momo_request, minutes=3)
    poll_mobile_money.enqueue()  # timed out
    reads = status_reads(momo_simulator)
    aged(momo_request, hours=25)
    poll_mobile_money.enqueue()
    assert status_reads(momo_simulator) == reads


def test_success_after_the_cashier_switched_to_cash_is_flagged_and_never_pays_a_sale(
    start, sell, product, shift, momo_simulator, django_capture_on_commit_callbacks
):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    key = uuid.uuid4()
    momo_request = start(request_key=key)
    # The customer's phone is slow; the cashier takes cash for the same cart.
    sell((product, 1), tenders=[TenderLine("cash", PRICE)], key=key)
    momo_request.refresh_from_db()
    assert momo_request.status == "pending"
    assert list(mobile_money.needs_refund()) == []  # nothing taken yet

    # Then the customer approves on the phone.
    momo_simulator.payments[str(momo_request.reference_id)].script = PayerScript("SUCCESSFUL")
    due_now(momo_request)
    with django_capture_on_commit_callbacks(execute=True):
        poll_mobile_money.enqueue()
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert momo_request.reason.startswith(mobile_money.LATE_SUCCESS)
    assert list(mobile_money.needs_refund(shift)) == [momo_request]
    assert AuditLog.objects.filter(action="momo.late_success").count() == 1

    with pytest.raises(errors.InvalidTender):
        sell(
            (product, 1),
            tenders=[TenderLine("mobile_money", PRICE, momo_request_id=momo_request.pk)],
        )
    momo_request.refresh_from_db()
    assert momo_request.payment_id is None


def test_money_already_taken_when_the_cashier_switched_to_cash_is_listed_for_refund(
    start, sell, product, shift, momo_simulator
):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL")
    key = uuid.uuid4()
    momo_request = mobile_money.refresh_request(start(request_key=key))
    assert momo_request.status == "successful"

    sell((product, 1), tenders=[TenderLine("cash", PRICE)], key=key)

    assert list(mobile_money.needs_refund(shift)) == [momo_request]


def test_the_sale_that_uses_its_request_does_not_abandon_it(start, sell, product, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL")
    key = uuid.uuid4()
    momo_request = mobile_money.refresh_request(start(request_key=key))
    sell(
        (product, 1),
        tenders=[TenderLine("mobile_money", PRICE, momo_request_id=momo_request.pk)],
        key=key,
    )
    momo_request.refresh_from_db()
    assert momo_request.payment_id is not None
    assert list(mobile_money.needs_refund()) == []


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_mtn_is_asked(start, momo_simulator, monkeypatch):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL", pending_polls=1)
    momo_request = start()
    seen = []
    real_get_status = MoMoClient.get_status

    def get_status(self, reference_id):
        seen.append(connection.in_atomic_block)
        return real_get_status(self, reference_id)

    monkeypatch.setattr(MoMoClient, "get_status", get_status)
    for _ in range(2):
        due_now(momo_request)
        poll_mobile_money.enqueue()
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    assert seen == [False, False]


@pytest.mark.parametrize("action", ["register:clear", "register:hold"])
def test_clearing_or_holding_the_cart_abandons_its_request(
    client,
    cashier,
    shift,
    product,
    start,
    momo_simulator,
    action,
    django_capture_on_commit_callbacks,
):
    from django.urls import reverse

    client.force_login(cashier)
    client.post(reverse("register:add_product", args=[product.pk]))
    client.get(reverse("register:payment"))
    key = client.session["register_cart"]["checkout_key"]
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request = start(request_key=key)

    client.post(reverse(action))

    momo_request.refresh_from_db()
    assert momo_request.abandoned_at is not None
    momo_simulator.payments[str(momo_request.reference_id)].script = PayerScript("SUCCESSFUL")
    due_now(momo_request)
    with django_capture_on_commit_callbacks(execute=True):
        poll_mobile_money.enqueue()
    assert list(mobile_money.needs_refund(shift)) == [MobileMoneyRequest.objects.get()]
    assert MobileMoneyRequest.objects.get().reason.startswith(mobile_money.LATE_SUCCESS)
