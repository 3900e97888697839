"""Airtel Money on the payment page, without JavaScript: choose the network, send, check, sell;
and the customer display's prompt names it."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from pos.models import MobileMoneyRequest, Sale

pytestmark = pytest.mark.django_db


def test_the_cashier_chooses_airtel_and_the_sale_is_paid_through_it(
    till, scan, pay_page, product, shift, airtel_simulator, momo_simulator
):
    airtel_simulator.on_payer("731234567", outcome="TS", pending_polls=1)
    scan(product.barcode)
    page, key = pay_page()
    html = page.content.decode()
    assert 'value="mtn" data-momo-provider checked' in html
    assert "Airtel Money" in html
    form = {"idempotency_key": key, "mobile_money": "12000", "momo_provider": "airtel"}

    response = till.post(reverse("register:momo_request"), {**form, "momo_phone": "0731234567"})

    momo_request = MobileMoneyRequest.objects.get()
    assert momo_request.provider == "airtel"
    assert "Waiting for the customer to approve" in response.content.decode()
    assert 'value="airtel" data-momo-provider checked' in response.content.decode()
    shown = till.get(reverse("register:display_state")).json()
    assert shown["momo"]["provider"] == "Airtel Money"
    assert shown["momo"]["provider_code"] == "airtel"

    form["momo_request_id"] = str(momo_request.pk)
    for _ in range(3):
        cache.delete(f"pos:momo:refreshed:{momo_request.reference_id}")
        response = till.post(reverse("register:momo_check"), form)
        if "Paid." in response.content.decode():
            break
    till.post(reverse("register:complete"), form)

    payment = Sale.objects.get().payments.get()
    assert (payment.provider, payment.amount) == ("airtel", Decimal(12000))
    assert momo_simulator.received == []


def test_a_typed_airtel_reference_is_airtels(till, scan, pay_page, product):
    scan(product.barcode)
    _, key = pay_page()
    till.post(
        reverse("register:complete"),
        {
            "idempotency_key": key,
            "mobile_money": "12000",
            "momo_reference": "MP241204.1010.A12345",
            "momo_provider": "airtel",
        },
    )
    payment = Sale.objects.get().payments.get()
    assert (payment.provider, payment.reference) == ("airtel", "MP241204.1010.A12345")
