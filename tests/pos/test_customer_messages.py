"""Messages to customers through the SMS gateway simulator (Africa's Talking's API on 127.0.0.1)
and email: in the customer's language, once per event, opt-out honoured, sent by the worker with
retries, the gateway's answer recorded."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from pos.models import Customer, CustomerMessage
from pos.services import customer_messages
from pos.services.checkout import TenderLine
from pos.services.gift_cards import sell_gift_card
from pos.services.invoice_reminders import send_due_reminders
from pos.tasks import send_customer_messages
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def aline(db):
    return Customer.objects.create(
        name="Aline", phone="+250788000321", language="rw", credit_limit=D(100000)
    )


def test_a_receipt_by_sms_reaches_the_gateway_in_kinyarwanda_for_a_customer_who_chose_it(
    client, sell, product, aline, cashier, sms_gateway
):
    sale = sell((product, 1), customer=aline)
    client.login(username=cashier.username, password=PASSWORD)
    url = reverse("pos:send_receipt", args=[sale.pk])
    for _ in range(2):  # asked twice: one message
        response = client.post(url, {"channel": "sms", "address": ""}, follow=True)
    assert "The receipt goes by SMS to +250788000321." in response.content.decode()

    assert send_customer_messages.enqueue().return_value == {"sent": 1, "retry": 0, "failed": 0}
    (call,) = sms_gateway.received
    assert call.path == "/version1/messaging"
    assert call.headers["apiKey"] == sms_gateway.api_key
    assert (call.form["username"], call.form["to"], call.form["from"]) == (
        sms_gateway.username, "+250788000321", "VEVURN",
    )  # fmt: skip
    text = call.form["message"]
    assert f"Inyemezabwishyu {sale.number}" in text
    assert "Igiteranyo: 12 000 RWF" in text and "Murakoze!" in text
    message = CustomerMessage.objects.get()
    assert (message.key, message.status, message.language) == (
        f"receipt:{sale.pk}/sms", "sent", "rw",
    )  # fmt: skip
    assert message.provider_id.startswith("ATXid_") and message.provider_status == "Success"
    assert send_customer_messages.enqueue().return_value == {"sent": 0, "retry": 0, "failed": 0}
    assert len(sms_gateway.received) == 1  # never twice


def test_a_gateway_fault_is_tried_again_with_back_off_and_a_refusal_is_recorded(
    sell, product, aline, sms_gateway
):
    sms_gateway.fail_next(503)
    message = customer_messages.send_receipt(sale=sell((product, 1), customer=aline), channel="sms")
    assert customer_messages.send_due() == {"sent": 0, "retry": 1, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 1)
    assert "503" in message.error
    assert customer_messages.send_due() == {"sent": 0, "retry": 0, "failed": 0}  # backing off
    later = timezone.now() + datetime.timedelta(minutes=1)
    assert customer_messages.send_due(now=later) == {"sent": 1, "retry": 0, "failed": 0}

    walk_in = sell((product, 1))
    sms_gateway.on_number("+250722999999", 406, "UserInBlacklist")
    refused = customer_messages.send_receipt(sale=walk_in, channel="sms", address="0722 999 999")
    assert customer_messages.send_due() == {"sent": 0, "retry": 0, "failed": 1}
    refused.refresh_from_db()
    assert (refused.status, refused.provider_status) == ("failed", "UserInBlacklist")


def test_a_worker_stopped_mid_send_never_sends_twice_and_the_message_is_failed_for_a_person(
    sell, product, aline, sms_gateway, monkeypatch
):
    real_send_sms = customer_messages.send_sms

    def send_then_die(*args):
        real_send_sms(*args)  # the gateway has it...
        raise SystemExit  # ...and the worker is killed before recording the answer

    monkeypatch.setattr(customer_messages, "send_sms", send_then_die)
    message = customer_messages.send_receipt(sale=sell((product, 1), customer=aline), channel="sms")
    with pytest.raises(SystemExit):
        customer_messages.send_due()
    monkeypatch.setattr(customer_messages, "send_sms", real_send_sms)

    soon = timezone.now() + datetime.timedelta(minutes=5)
    assert customer_messages.send_due(now=soon) == {"sent": 0, "retry": 0, "failed": 0}
    message.refresh_from_db()
    assert message.status == "sending"  # within its claim: perhaps still being sent
    later = timezone.now() + datetime.timedelta(minutes=11)
    assert customer_messages.send_due(now=later) == {"sent": 0, "retry": 0, "failed": 1}
    message.refresh_from_db()
    assert message.status == "failed" and "may have gone out" in message.error
    assert customer_messages.send_due(now=later) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(sms_gateway.received) == 1


def test_a_gift_card_code_goes_to_its_customer_unless_they_opted_out(
    shift, cashier, aline, sms_gateway
):
    card = sell_gift_card(shift=shift, user=cashier, amount=D(20000), customer=aline)
    aline.messages_opt_out = True
    aline.save(update_fields=["messages_opt_out"])
    quiet = sell_gift_card(shift=shift, user=cashier, amount=D(5000), customer=aline)
    customer_messages.send_due()
    (text,) = sms_gateway.sent_to("+250788000321")
    assert card.code in text and "20 000 RWF" in text and "ikarita yawe y'impano" in text
    assert CustomerMessage.objects.get(key=f"gift_card:{quiet.pk}/sms").status == "opted_out"


def test_an_overdue_invoice_is_reminded_by_sms_once_per_step(
    sell, product, aline, sms_gateway, settings
):
    settings.INVOICE_REMINDER_DAYS = [1, 7]
    sale = sell((product, 1), customer=aline, tenders=[TenderLine("account", D(12000))])
    due = sale.invoice.due_date
    send_due_reminders(today=due + datetime.timedelta(days=2))
    send_due_reminders(today=due + datetime.timedelta(days=3))  # the same step: nothing more
    customer_messages.send_due()
    (text,) = sms_gateway.sent_to("+250788000321")
    assert sale.invoice.number in text and "12 000 RWF" in text
    send_due_reminders(today=due + datetime.timedelta(days=8))
    customer_messages.send_due()
    assert len(sms_gateway.sent_to("+250788000321")) == 2


def test_a_receipt_by_email_in_french_and_a_bad_address_refused(
    client, sell, product, cashier, settings
):
    claire = Customer.objects.create(name="Claire", phone="+250788000654", language="fr")
    sale = sell((product, 1), customer=claire)
    client.login(username=cashier.username, password=PASSWORD)
    url = reverse("pos:send_receipt", args=[sale.pk])
    refused = client.post(url, {"channel": "email", "address": "nope"}, follow=True)
    assert "Enter the customer&#x27;s email address." in refused.content.decode()
    no_sms = client.post(url, {"channel": "sms"}, follow=True)  # SMS off in this shop
    assert "SMS is not set up in this shop; send it by email." in no_sms.content.decode()
    client.post(url, {"channel": "email", "address": "claire@example.rw"})
    assert send_customer_messages.enqueue().return_value["sent"] == 1
    (sent,) = mail.outbox
    assert sent.to == ["claire@example.rw"]
    assert f"Reçu {sale.number}" in sent.body and "Merci" in sent.body


def test_the_gateways_delivery_report_marks_a_sent_sms_delivered_with_its_token_only(
    client, sell, product, aline, sms_gateway, settings
):
    settings.SMS_DELIVERY_REPORT_TOKEN = "s3cret-token"
    message = customer_messages.send_receipt(sale=sell((product, 1), customer=aline), channel="sms")
    customer_messages.send_due()
    message.refresh_from_db()
    report = {"id": message.provider_id, "status": "Success", "phoneNumber": message.address}
    url = reverse("pos:sms_delivery_report")
    assert client.post(f"{url}?token=guess", report).status_code == 204
    message.refresh_from_db()
    assert message.status == "sent"  # a report without the token changes nothing
    assert client.post(f"{url}?token=s3cret-token", report).status_code == 204
    message.refresh_from_db()
    assert (message.status, message.provider_status) == ("delivered", "Success")
    failed = {**report, "status": "Failed", "failureReason": "AbsentSubscriber"}
    client.post(f"{url}?token=s3cret-token", failed)
    message.refresh_from_db()
    assert message.status == "delivered"  # never taken back
