"""A pending receipt sent by email once it is signed (fiscal.messages): asked for at the till
while the VSDC is down, sent by the worker's job after signing, once, with the SDC block."""

import pytest
from django.core import mail
from django.urls import reverse

from fiscal import sending
from fiscal.models import OutboxItem, ReceiptMessage
from fiscal.tasks import send_receipt_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(client, cashier):
    client.force_login(cashier)
    return client


def test_a_pending_receipt_is_emailed_once_signed_and_only_once(till, goods, sell, vsdc):
    sale = sell((goods, 1))
    vsdc.down = True
    sending.drain()
    receipt = till.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    link = reverse("fiscal:send_later", args=[sale.pk])
    assert "FISCAL PENDING" in receipt and f'href="{link}"' in receipt

    response = till.post(link, {"address": "amina@example.rw"})
    assert response.status_code == 302
    assert send_receipt_messages.enqueue().return_value == {"sent": 0}  # not signed yet
    assert mail.outbox == []

    vsdc.down = False
    OutboxItem.objects.update(next_attempt_at=None)
    sending.drain()
    assert send_receipt_messages.enqueue().return_value == {"sent": 1}
    assert send_receipt_messages.enqueue().return_value == {"sent": 0}  # once
    (email,) = mail.outbox
    signature = OutboxItem.objects.get(sale=sale).signature
    assert email.to == ["amina@example.rw"]
    assert email.subject == f"Receipt {sale.number} (NS)"  # the original: never printed
    assert f"{signature.receipt_number}/{signature.total_receipt_number} NS" in email.body
    assert signature.internal_data[:4] in email.body
    name, content, mimetype = email.attachments[0]
    assert (name, mimetype) == ("receipt-qr.png", "image/png") and content[:4] == b"\x89PNG"
    assert OutboxItem.objects.get(sale=sale).prints == 1  # the email was the original
    page = till.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    assert 'data-label="CS"' in page  # so the till's print is a copy


def test_a_bad_address_is_refused_next_to_the_field(till, goods, sell, vsdc):
    sale = sell((goods, 1))
    response = till.post(reverse("fiscal:send_later", args=[sale.pk]), {"address": "amina@"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not ReceiptMessage.objects.exists()


def test_a_failed_sending_is_kept_and_tried_again(goods, sell, vsdc, cashier, monkeypatch):
    from fiscal import messages

    sale = sell((goods, 1))
    sending.drain()
    item = OutboxItem.objects.get(sale=sale)
    messages.request_receipt_message(item=item, address="amina@example.rw", user=cashier)

    def broken(*args):
        raise OSError("SMTP is down")

    with monkeypatch.context() as patched:
        patched.setitem(messages.CHANNELS, "email", broken)
        assert messages.send_due() == 0
    message = ReceiptMessage.objects.get()
    assert (message.sent_at, message.error) == (None, "SMTP is down")
    assert item.prints == 0 and OutboxItem.objects.get(pk=item.pk).prints == 0
    assert messages.send_due() == 1 and len(mail.outbox) == 1


def test_another_cashiers_sale_cannot_be_sent(client, make_user, goods, sell, vsdc):
    sale = sell((goods, 1))
    client.force_login(make_user(username="other", role="cashier"))
    response = client.post(reverse("fiscal:send_later", args=[sale.pk]), {"address": "a@b.rw"})
    assert response.status_code == 404
    assert not ReceiptMessage.objects.exists()
