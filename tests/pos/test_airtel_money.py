"""Airtel Money beside MTN, end to end against both local simulators: a push-to-pay followed
through the shared state machine (TA kept pending, late success), sold with, polled, called
back; typed references; the Z-report by provider; MTN's rows and behaviour unchanged."""

import importlib
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pos import errors
from pos.models import MobileMoneyRequest, Payment
from pos.services import mobile_money
from pos.services.checkout import TenderLine
from pos.services.shifts import z_report

pytestmark = pytest.mark.django_db
PRICE = Decimal(12000)
AIRTEL_PHONE, AIRTEL_MSISDN = "0731 234 567", "731234567"
MTN_PHONE, MTN_MSISDN = "0788 123 456", "250788123456"


@pytest.fixture
def start(shift, cashier, airtel_simulator):
    def ask(amount=PRICE, phone=AIRTEL_PHONE, provider="airtel", **kwargs):
        return mobile_money.start_request(
            shift=shift, amount=amount, phone=phone, user=cashier, provider=provider, **kwargs
        )

    return ask


def pay_with(momo_request, amount=PRICE, provider=""):
    return [TenderLine("mobile_money", amount, momo_request_id=momo_request.pk, provider=provider)]


def time_out(momo_request):
    long_ago = timezone.now() - timedelta(seconds=121)
    MobileMoneyRequest.objects.filter(pk=momo_request.pk).update(created_at=long_ago)


def test_an_airtel_request_is_followed_to_success_and_pays_the_sale(
    start, sell, product, airtel_simulator, momo_simulator
):
    airtel_simulator.on_payer(AIRTEL_MSISDN, outcome="TS", pending_polls=1)

    momo_request = start()

    assert (momo_request.provider, momo_request.status) == ("airtel", "pending")
    [sent] = airtel_simulator.received_for("requesttopay")
    assert sent.body["transaction"]["id"] == momo_request.reference_id.hex
    assert mobile_money.refresh_request(momo_request).status == "pending"  # TIP
    paid = mobile_money.refresh_request(momo_request)
    assert paid.status == "successful"
    airtel_id = airtel_simulator.payments[momo_request.reference_id.hex].airtel_money_id
    assert paid.financial_transaction_id == airtel_id

    sale = sell((product, 1), tenders=pay_with(paid))

    [payment] = sale.payments.all()
    assert (payment.tender, payment.provider, payment.reference) == (
        "mobile_money",
        "airtel",
        airtel_id,
    )
    assert momo_simulator.received == []  # MTN was never asked


def test_ta_is_kept_pending_until_airtel_decides(start, airtel_simulator):
    airtel_simulator.on_payer(AIRTEL_MSISDN, outcome="TS", pending_polls=2, pending_status="TA")
    momo_request = start()

    assert mobile_money.refresh_request(momo_request).status == "pending"
    assert mobile_money.refresh_request(momo_request).status == "pending"
    assert mobile_money.refresh_request(momo_request).status == "successful"


def test_tf_fails_and_sells_nothing(start, sell, product, airtel_simulator):
    airtel_simulator.on_payer(AIRTEL_MSISDN, outcome="TF", reason="Insufficient funds")
    failed = mobile_money.refresh_request(start())

    assert failed.status == "failed"
    assert mobile_money.cashier_message(failed) == "Mobile Money declined the payment."
    with pytest.raises(errors.InvalidTender, match="not confirmed"):
        sell((product, 1), tenders=pay_with(failed))


def test_a_request_for_airtel_cannot_pay_an_mtn_tender(start, sell, product, airtel_simulator):
    paid = mobile_money.refresh_request(start())

    with pytest.raises(errors.InvalidTender, match="not confirmed"):
        sell((product, 1), tenders=pay_with(paid, provider="mtn"))
    assert sell((product, 1), tenders=pay_with(paid, provider="airtel")).total == PRICE


def test_an_ambiguous_request_timed_out_then_confirmed_is_a_late_success(start, airtel_simulator):
    airtel_simulator.on_payer(AIRTEL_MSISDN, outcome="TA")
    momo_request = start()
    time_out(momo_request)

    gave_up = mobile_money.refresh_request(momo_request)
    assert (gave_up.status, gave_up.reason) == ("failed", mobile_money.TIMED_OUT)

    airtel_simulator.payments[momo_request.reference_id.hex].script.outcome = "TS"
    late = mobile_money.refresh_request(momo_request)

    assert late.status == "successful"
    assert late.reason.startswith(mobile_money.LATE_SUCCESS)
    assert list(mobile_money.needs_refund()) == [late]


def test_polling_asks_each_provider_about_its_own_requests(start, airtel_simulator, momo_simulator):
    airtel_simulator.on_payer(AIRTEL_MSISDN, outcome="TS")
    momo_simulator.on_payer(MTN_MSISDN, outcome="SUCCESSFUL")
    airtel = start()
    mtn = start(phone=MTN_PHONE, provider="mtn")
    MobileMoneyRequest.objects.update(next_poll_at=None)

    outcomes = mobile_money.poll_due()

    assert outcomes == {("pending", "successful"): 2}
    assert len(airtel_simulator.received_for("status")) == 1
    assert len(momo_simulator.received_for("status")) == 1
    assert {r.pk: r.provider for r in MobileMoneyRequest.objects.all()} == {
        airtel.pk: "airtel",
        mtn.pk: "mtn",
    }


def test_one_cart_may_ask_airtel_after_mtn(start, momo_simulator, airtel_simulator):
    key = uuid.uuid4()
    mtn = start(phone=MTN_PHONE, provider="mtn", request_key=key)
    airtel = start(request_key=key)

    assert mtn.pk != airtel.pk and not airtel.already_requested
    assert start(request_key=key).pk == airtel.pk  # and asking Airtel again is the same one


def test_the_z_report_shows_mobile_money_by_provider(start, sell, product, shift):
    sell((product, 1), tenders=[TenderLine("mobile_money", PRICE, reference="MTN1")])
    sell(
        (product, 1),
        tenders=[TenderLine("mobile_money", PRICE, reference="MP1", provider="airtel")],
    )
    sell((product, 1), tenders=pay_with(mobile_money.refresh_request(start())))
    start(amount=Decimal(5000))  # still pending

    report = z_report(shift)

    def rows(typed, requested, pending):
        zero = {"count": 0, "total": "0"}
        return {
            "typed_reference": typed,
            "request_to_pay": requested,
            "pending": pending,
            "failed": zero,
            "late_success": zero,
        }

    zero = {"count": 0, "total": "0"}
    assert report["mobile_money_by_provider"] == {
        "mtn": rows({"count": 1, "total": "12000"}, zero, zero),
        "airtel": rows(
            {"count": 1, "total": "12000"},
            {"count": 1, "total": "12000"},
            {"count": 1, "total": "5000"},
        ),
    }
    assert report["mobile_money"]["typed_reference"] == {"count": 2, "total": "24000"}
    assert report["by_tender"]["mobile_money"]["net"] == "36000"


def test_a_typed_reference_without_a_provider_is_mtns_and_an_unknown_one_is_refused(sell, product):
    sale = sell((product, 1), tenders=[TenderLine("mobile_money", PRICE, reference="123")])
    assert sale.payments.get().provider == "mtn"
    with pytest.raises(errors.InvalidTender) as refused:
        sell(
            (product, 1),
            tenders=[TenderLine("mobile_money", PRICE, reference="1", provider="tigo")],
        )
    assert list(refused.value.fields) == ["tenders.0.provider"]


def test_airtels_callback_is_only_a_hint(client, cashier, shift, airtel_simulator):
    client.force_login(cashier)
    airtel_simulator.on_payer(AIRTEL_MSISDN, outcome="TS")
    created = client.post(
        reverse("pos:momo_request_create"),
        {"amount": "12000", "phone": AIRTEL_PHONE, "provider": "airtel"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["provider"] == "airtel"
    momo_request = MobileMoneyRequest.objects.get()
    body = airtel_simulator.callback_body(momo_request.reference_id.hex)
    # Whatever the body claims, the status comes from Airtel's enquiry.
    body = body.replace(b'"status_code": "TS"', b'"status_code": "TF"')

    airtel = Client(enforce_csrf_checks=True)
    answer = airtel.post(reverse("pos:airtel_callback"), body, content_type="application/json")

    assert answer.status_code == 204
    assert len(airtel_simulator.received_for("status")) == 1
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"
    nonsense = airtel.post(reverse("pos:airtel_callback"), b"[]", content_type="application/json")
    assert nonsense.status_code == 204


def test_an_unknown_provider_is_refused_naming_the_field(client, cashier, shift, airtel_simulator):
    client.force_login(cashier)
    answer = client.post(
        reverse("pos:momo_request_create"),
        {"amount": "12000", "phone": AIRTEL_PHONE, "provider": "tigo"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "provider" in answer.json()["error"]["fields"]
    assert not MobileMoneyRequest.objects.exists()


def test_the_migration_makes_every_earlier_mobile_money_payment_mtns(sell, product):
    migration = importlib.import_module("pos.migrations.0029_mobile_money_providers")
    sell((product, 1), tenders=[TenderLine("mobile_money", PRICE, reference="9")])
    sell((product, 1), tenders=[TenderLine("cash", PRICE)])
    Payment.objects.update(provider="")  # as written before the provider existed

    migration.mobile_money_was_mtn(apps, None)

    assert sorted(Payment.objects.values_list("tender", "provider")) == [
        ("cash", ""),
        ("mobile_money", "mtn"),
    ]
    assert MobileMoneyRequest._meta.get_field("provider").default == "mtn"


def test_mtns_statement_is_reconciled_with_mtns_payments_only(sell, product, shift):
    from pos.services.momo_reconciliation import reconcile_shift

    sell((product, 1), tenders=[TenderLine("mobile_money", PRICE, reference="MTN1")])
    sell(
        (product, 1),
        tenders=[TenderLine("mobile_money", PRICE, reference="MP1", provider="airtel")],
    )

    found = reconcile_shift(shift)

    assert [(m.kind, m.payment.reference) for m in found.matches] == [("pos_only", "MTN1")]
