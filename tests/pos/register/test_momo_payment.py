"""Request-to-pay from the payment page, without JavaScript: send, wait, check again, sell."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from pos.models import MobileMoneyRequest, Sale, Tender

pytestmark = pytest.mark.django_db
MSISDN = "250788123456"


def test_request_to_pay_waits_then_pays_the_sale(till, scan, pay_page, product, momo_simulator):
    momo_simulator.on_payer(MSISDN, outcome="SUCCESSFUL", pending_polls=1)
    scan(product.barcode)
    _, key = pay_page()
    form = {"idempotency_key": key, "cash": "", "mobile_money": "12000"}

    response = till.post(reverse("register:momo_request"), {**form, "momo_phone": "0788123456"})
    momo_request = MobileMoneyRequest.objects.get()
    assert "Waiting for the customer to approve" in response.content.decode()
    assert response.context["form"]["momo_request_id"].value() == str(momo_request.pk)

    form["momo_request_id"] = str(momo_request.pk)
    for _ in range(3):
        cache.delete(f"pos:momo:refreshed:{momo_request.reference_id}")
        response = till.post(reverse("register:momo_check"), form)
        if "Paid." in response.content.decode():
            break
    assert "Paid. Mobile Money transaction" in response.content.decode()

    response = till.post(reverse("register:complete"), form)
    sale = Sale.objects.get()
    assert response["Location"] == reverse("pos:receipt", args=[sale.pk])
    payment = sale.payments.get()
    assert payment.tender == Tender.MOBILE_MONEY and payment.amount == Decimal("12000")


def test_request_to_pay_with_a_bad_phone_is_refused_next_to_mobile_money(
    till, scan, pay_page, product, momo_simulator
):
    scan(product.barcode)
    _, key = pay_page()
    response = till.post(
        reverse("register:momo_request"),
        {"idempotency_key": key, "mobile_money": "12000", "momo_phone": "12"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["mobile_money"]
    assert not MobileMoneyRequest.objects.exists()


def test_without_the_momo_settings_the_till_offers_the_typed_id_only(
    till, scan, pay_page, product, settings
):
    settings.MOMO_API_KEY = ""
    scan(product.barcode)

    page = pay_page()[0].content.decode()

    assert 'name="momo_reference"' in page  # the transaction id from the customer's phone
    assert reverse("register:momo_request") not in page
    assert "Send request" not in page


def test_a_request_sent_anyway_without_the_settings_is_refused_next_to_mobile_money(
    till, scan, pay_page, product, settings
):
    settings.MOMO_API_KEY = ""
    scan(product.barcode)
    _, key = pay_page()

    response = till.post(
        reverse("register:momo_request"),
        {"idempotency_key": key, "mobile_money": "12000", "momo_phone": "0788123456"},
    )

    assert response.status_code == 422
    assert "not set up" in response.context["form"].errors["mobile_money"][0]
    assert not MobileMoneyRequest.objects.exists()
