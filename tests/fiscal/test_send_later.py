"""A fiscal receipt sent by message once it is signed (fiscal.messages): asked for at the till
(often while the VSDC is down), handed to the customer messages (pos.services.customer_messages)
once signed, keyed by the fiscal item: sent once, a failure retried with back-off then marked
failed with its reason, on the manager's list of customer messages."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fiscal import messages, sending
from fiscal.models import OutboxItem, ReceiptMessage
from fiscal.tasks import send_receipt_messages
from pos.models import CustomerMessage
from pos.services import customer_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(client, cashier):
    client.force_login(cashier)
    return client


def _send_due(now=None):
    return customer_messages.send_due(now=now)


def test_a_pending_receipt_is_emailed_once_signed_and_only_once(till, goods, sell, vsdc):
    sale = sell((goods, 1))
    vsdc.down = True
    sending.drain()
    receipt = till.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    link = reverse("fiscal:send_later", args=[sale.pk])
    assert "FISCAL PENDING" in receipt and f'href="{link}"' in receipt

    response = till.post(link, {"address": "amina@example.rw"})
    assert response.status_code == 302
    assert send_receipt_messages.enqueue().return_value == {"handed_over": 0}  # not signed yet
    assert not CustomerMessage.objects.exists()
    assert "waiting for the signature" in till.get(link).content.decode()

    vsdc.down = False
    OutboxItem.objects.update(next_attempt_at=None)
    sending.drain()
    assert send_receipt_messages.enqueue().return_value == {"handed_over": 1}
    assert send_receipt_messages.enqueue().return_value == {"handed_over": 0}  # once
    item = OutboxItem.objects.get(sale=sale)
    queued = CustomerMessage.objects.get()
    assert (queued.key, queued.kind, queued.status) == (
        f"fiscal:{item.pk}/email",
        "receipt",
        "queued",
    )
    assert _send_due()["sent"] == 1
    assert _send_due()["sent"] == 0
    (email,) = mail.outbox
    signature = item.signature
    assert email.to == ["amina@example.rw"]
    assert email.subject == f"Receipt {sale.number} (NS)"  # the original: never printed
    assert f"{signature.receipt_number}/{signature.total_receipt_number} NS" in email.body
    assert signature.internal_data[:4] in email.body
    name, content, mimetype = email.attachments[0]
    assert (name, mimetype) == ("receipt-qr.png", "image/png") and content[:4] == b"\x89PNG"
    assert OutboxItem.objects.get(sale=sale).prints == 1  # the email was the original
    page = till.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    assert 'data-label="CS"' in page  # so the till's print is a copy
    assert "· Sent" in till.get(link).content.decode()


def test_a_signed_receipt_is_queued_at_once_and_a_second_ask_on_the_channel_is_refused(
    till, goods, sell, vsdc
):
    sale = sell((goods, 1))
    sending.drain()
    link = reverse("fiscal:send_later", args=[sale.pk])
    till.post(link, {"address": "amina@example.rw"})
    assert CustomerMessage.objects.get().address == "amina@example.rw"
    again = till.post(link, {"address": "eric@example.rw"})
    assert again.status_code == 400
    assert "It already goes by Email to amina@example.rw." in again.content.decode()
    assert ReceiptMessage.objects.count() == 1 and CustomerMessage.objects.count() == 1


def test_a_bad_address_is_refused_next_to_the_field(till, goods, sell, vsdc):
    sale = sell((goods, 1))
    response = till.post(reverse("fiscal:send_later", args=[sale.pk]), {"address": "amina@"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not ReceiptMessage.objects.exists()


def test_a_failing_mailer_is_retried_with_back_off_then_failed_for_the_manager(
    goods, sell, vsdc, cashier, manager, client, monkeypatch, settings
):
    settings.MESSAGES_MAX_ATTEMPTS = 3
    sale = sell((goods, 1))
    sending.drain()
    item = OutboxItem.objects.get(sale=sale)
    messages.request_receipt_message(item=item, address="amina@example.rw", user=cashier)
    attempts = []

    def broken(self, fail_silently=False):
        attempts.append(timezone.now())
        raise OSError("SMTP is down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    now = timezone.now()
    assert _send_due(now) == {"sent": 0, "retry": 1, "failed": 0}
    message = CustomerMessage.objects.get()
    assert message.status == "queued" and message.error == "OSError: SMTP is down"
    assert message.next_attempt_at == now + timedelta(seconds=30)
    assert _send_due(now + timedelta(seconds=29)) == {"sent": 0, "retry": 0, "failed": 0}
    assert _send_due(now + timedelta(seconds=30))["retry"] == 1
    message.refresh_from_db()
    assert message.next_attempt_at == now + timedelta(seconds=30 + 60)  # doubled
    assert _send_due(now + timedelta(seconds=90))["failed"] == 1
    assert _send_due(now + timedelta(days=1)) == {"sent": 0, "retry": 0, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts, len(attempts)) == ("failed", 3, 3)
    assert send_receipt_messages.enqueue().return_value == {"handed_over": 0}  # not again
    assert mail.outbox == []
    client.force_login(manager)
    listed = client.get(
        reverse("admin:pos_customermessage_changelist") + "?status__exact=failed"
    ).content.decode()
    assert f"fiscal:{item.pk}/email" in listed and "amina@example.rw" in listed
    page = client.get(reverse("fiscal:send_later", args=[sale.pk])).content.decode()
    assert "Failed: OSError: SMTP is down" in page


def test_a_worker_that_dies_mid_send_never_sends_it_twice(goods, sell, vsdc, cashier):
    sale = sell((goods, 1))
    sending.drain()
    item = OutboxItem.objects.get(sale=sale)
    messages.request_receipt_message(item=item, address="amina@example.rw", user=cashier)
    # Claimed ("sending") by a worker that stopped before recording the answer.
    CustomerMessage.objects.update(status="sending", next_attempt_at=timezone.now())
    assert _send_due()["failed"] == 1
    assert messages.hand_over_due() == 0 and _send_due()["sent"] == 0
    assert mail.outbox == [] and CustomerMessage.objects.get().status == "failed"


def test_another_cashiers_sale_cannot_be_sent(client, make_user, goods, sell, vsdc):
    sale = sell((goods, 1))
    client.force_login(make_user(username="other", role="cashier"))
    response = client.post(reverse("fiscal:send_later", args=[sale.pk]), {"address": "a@b.rw"})
    assert response.status_code == 404
    assert not ReceiptMessage.objects.exists()


def test_a_pending_receipt_goes_by_sms_through_the_shops_gateway(
    goods, sell, vsdc, cashier, sms_gateway
):
    """By SMS (issue 28's gateway), as text alone."""
    from fiscal.messages import InvalidAddress, request_receipt_message

    sale = sell((goods, 1))
    vsdc.down = True
    sending.drain()
    item = OutboxItem.objects.get(sale=sale)
    with pytest.raises(InvalidAddress):
        request_receipt_message(item=item, address="12", user=cashier, channel="sms")
    request_receipt_message(item=item, address="0788 555 123", user=cashier, channel="sms")
    vsdc.down = False
    OutboxItem.objects.update(next_attempt_at=None)
    sending.drain()
    assert send_receipt_messages.enqueue().return_value == {"handed_over": 1}
    assert _send_due()["sent"] == 1
    (text,) = sms_gateway.sent_to("+250788555123")
    signature = OutboxItem.objects.get(sale=sale).signature
    assert f"{signature.receipt_number}/{signature.total_receipt_number} NS" in text
    assert "attached" not in text
