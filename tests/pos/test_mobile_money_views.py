"""The payment screen's JSON endpoints for request-to-pay, and MTN's callback."""

import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pos.models import MobileMoneyRequest
from pos.services.checkout import TenderLine

MSISDN = "250788123456"
CREATE = reverse("pos:momo_request_create")


def detail_url(momo_request_or_id) -> str:
    pk = getattr(momo_request_or_id, "pk", momo_request_or_id)
    return reverse("pos:momo_request_detail", args=[pk])


def callback_url(reference) -> str:
    return reverse("pos:momo_callback", args=[str(reference)])


def forget_last_poll(momo_request) -> None:
    """As if two seconds had passed since MTN was last asked about this request."""
    cache.delete(f"pos:momo:refreshed:{momo_request.reference_id}")


@pytest.fixture
def till(client, cashier, shift, momo_simulator):
    client.force_login(cashier)
    return client


def create(client, **data):
    body = {"amount": "12000", "phone": "0788123456", **data}
    return client.post(CREATE, body, content_type="application/json")


def test_payment_screen_flow_ends_in_a_paid_sale(till, sell, product, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL", pending_polls=1)

    created = create(till)

    assert created.status_code == 201
    body = created.json()
    momo_request = MobileMoneyRequest.objects.get()
    assert body["id"] == momo_request.pk
    assert body["reference_id"] == str(momo_request.reference_id)
    assert body["status"] == "pending"
    assert Decimal(body["amount"]) == Decimal("12000")

    waiting = till.get(detail_url(body["id"])).json()
    assert waiting["status"] == "pending"
    assert "approve" in waiting["message"]

    forget_last_poll(momo_request)
    paid = till.get(detail_url(body["id"])).json()
    assert paid["status"] == "successful"
    assert paid["financial_transaction_id"]
    assert paid["message"] == f"Paid. Mobile Money transaction {paid['financial_transaction_id']}."

    tender = TenderLine("mobile_money", Decimal("12000"), momo_request_id=body["id"])
    sale = sell((product, 1), tenders=[tender])
    assert sale.payments.get().reference == paid["financial_transaction_id"]


def test_form_post_works_too(till):
    response = till.post(CREATE, {"amount": "5000", "phone": "+250 788 123 456"})

    assert response.status_code == 201
    assert MobileMoneyRequest.objects.get().phone == "+250788123456"


def test_polling_every_second_asks_mtn_at_most_once_per_interval(till, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request_id = create(till).json()["id"]

    for _ in range(5):
        assert till.get(detail_url(momo_request_id)).json()["status"] == "pending"

    assert len(momo_simulator.received_for("status")) == 1


def test_same_request_key_twice_asks_mtn_once(till, momo_simulator):
    key = str(uuid.uuid4())

    first = create(till, request_key=key)
    second = create(till, request_key=key)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert len(momo_simulator.received_for("requesttopay")) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-100"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"phone": "12"}, "phone"),
        ({"request_key": "not-a-uuid"}, "request_key"),
    ],
)
def test_bad_input_answers_400_naming_the_field(till, momo_simulator, data, field):
    response = create(till, **data)

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == [field]
    assert error["message"] == error["fields"][field][0]
    assert MobileMoneyRequest.objects.count() == 0
    assert momo_simulator.received == []


def test_every_bad_field_is_named_at_once(till, momo_simulator):
    response = create(till, amount="0", phone="12")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_momo_request"
    assert error["fields"] == {
        "amount": ["Enter an amount greater than zero."],
        "phone": ["Enter a Rwandan mobile number such as 0788123456 or +250788123456."],
    }
    assert MobileMoneyRequest.objects.count() == 0


def test_malformed_json_answers_400(till):
    response = till.post(CREATE, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert MobileMoneyRequest.objects.count() == 0


def test_no_open_shift_answers_400(client, make_user, momo_simulator):
    client.force_login(make_user("other", "cashier"))

    response = create(client)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_open_shift"
    assert "shift" in response.json()["error"]["fields"]
    assert MobileMoneyRequest.objects.count() == 0


def test_refused_by_mtn_answers_with_the_reason(till, momo_simulator):
    momo_simulator.queue_reply("requesttopay", status=400, body=b'{"code": "INVALID_PAYER"}')

    response = create(till)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "momo_request_rejected"
    assert MobileMoneyRequest.objects.get().status == "failed"


def test_only_the_shifts_cashier_or_a_manager_sees_a_request(
    till, make_user, manager, momo_simulator
):
    momo_request_id = create(till).json()["id"]
    other = Client()
    other.force_login(make_user("other", "cashier"))

    assert other.get(detail_url(momo_request_id)).status_code == 404
    assert other.get(detail_url(999999)).status_code == 404
    other.force_login(manager)
    assert other.get(detail_url(momo_request_id)).json()["id"] == momo_request_id


def test_endpoints_need_login_permission_and_csrf(
    django_user_model, cashier, shift, momo_simulator
):
    anonymous = Client()
    assert anonymous.post(CREATE, {"amount": "5000", "phone": "0788123456"}).status_code == 401
    assert anonymous.get(detail_url(1)).status_code == 401

    no_sell = Client()
    no_sell.force_login(django_user_model.objects.create_user("viewer", password="x"))
    assert no_sell.post(CREATE, {"amount": "5000", "phone": "0788123456"}).status_code == 403

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cashier)
    assert strict.post(CREATE, {"amount": "5000", "phone": "0788123456"}).status_code == 403
    assert MobileMoneyRequest.objects.count() == 0


# --- MTN's callback -------------------------------------------------------------------------


def test_callback_is_trusted_only_after_asking_mtn(till, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL")
    momo_request = MobileMoneyRequest.objects.get(pk=create(till).json()["id"])
    mtn = Client(enforce_csrf_checks=True)  # no session, no CSRF token

    # Whatever the body claims, the status comes from MTN.
    response = mtn.post(
        callback_url(momo_request.reference_id),
        {"status": "FAILED"},
        content_type="application/json",
    )

    assert response.status_code == 204
    assert len(momo_simulator.received_for("status")) == 1
    momo_request.refresh_from_db()
    assert momo_request.status == "successful"


def test_repeated_callbacks_ask_mtn_once_per_interval(till, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="PENDING")
    momo_request = MobileMoneyRequest.objects.get(pk=create(till).json()["id"])

    for _ in range(5):
        assert Client().post(callback_url(momo_request.reference_id)).status_code == 204

    assert len(momo_simulator.received_for("status")) == 1


def test_callback_for_unknown_or_invalid_reference_says_nothing(db, momo_simulator):
    mtn = Client()

    assert mtn.post(callback_url(uuid.uuid4())).status_code == 204
    assert mtn.post("/pos/momo/callback/not-a-uuid/").status_code == 204
    assert mtn.get(callback_url(uuid.uuid4())).status_code == 405
    assert momo_simulator.received == []


def test_callback_never_answers_500_when_mtn_fails(till, momo_simulator):
    momo_request = MobileMoneyRequest.objects.get(pk=create(till).json()["id"])
    momo_simulator.queue_reply("status", status=500)

    response = Client().post(callback_url(momo_request.reference_id))

    assert response.status_code == 204
    momo_request.refresh_from_db()
    assert momo_request.status == "pending"


# --- Issue 19: Mobile Money not configured is a refusal (4xx), never a server error -----------


def test_a_request_without_the_momo_settings_is_a_422_naming_the_setup(
    client, cashier, shift, caplog
):
    client.force_login(cashier)  # no momo_simulator: the MOMO_* settings are empty

    response = create(client)

    assert response.status_code == 422  # counted as a client error by the metrics, not a 5xx
    assert response.json()["error"]["code"] == "momo_not_configured"
    assert not MobileMoneyRequest.objects.exists()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_callbacks_after_the_settings_were_removed_log_no_error(
    till, momo_simulator, settings, caplog
):
    momo_request = MobileMoneyRequest.objects.get(pk=create(till).json()["id"])
    settings.MOMO_API_KEY = ""
    caplog.clear()

    for _ in range(3):
        forget_last_poll(momo_request)
        assert Client().post(callback_url(momo_request.reference_id)).status_code == 204

    momo_request.refresh_from_db()
    assert momo_request.status == "pending"
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert [r.levelname for r in caplog.records if "not configured" in r.getMessage()] == [
        "WARNING"
    ] * 3
