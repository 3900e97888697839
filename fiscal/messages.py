"""A pending receipt sent by message once it is signed ("send it later").

The till asks for it while the receipt waits for the VSDC (`request_receipt_message`); once the
receipt is signed the worker's job (`fiscal.tasks.send_receipt_messages`, every few seconds)
sends it: the receipt with its fiscal block as text, and the QR code as a PNG. A failed sending
is kept with its error and tried again by the next run. Each sending counts as one print (the first
is the original, later ones copies), like a printed receipt.

Channels: email through Django's mail (EMAIL_BACKEND). The seam for SMS (issue 28's messaging)
is `CHANNELS`: a channel is a function (address, subject, text, attachments) -> None that
raises on failure; add one there and to `ReceiptMessage.Channel`. SMS goes through the shop's
SMS gateway (pos.messaging.sms, MESSAGES_SMS_BACKEND) to a phone number.
"""

import io
import logging

import segno
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import DomainError
from fiscal.models import OutboxItem, ReceiptMessage
from fiscal.receipts import block_context, count_print
from pos.errors import InvalidPhoneNumber
from pos.messaging.sms import send_sms
from pos.models import ShopSettings
from pos.phones import normalise_phone

logger = logging.getLogger("vevurn.fiscal")


class InvalidAddress(DomainError):
    code = "invalid_address"


def send_email(address: str, subject: str, text: str, attachments) -> None:
    message = EmailMessage(subject=subject, body=text, to=[address])
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    message.send(fail_silently=False)


def send_text_message(address: str, subject: str, text: str, attachments) -> None:
    """By SMS through the shop's gateway (pos.messaging.sms): the text alone, no attachments
    (the SDC block's text carries the receipt's signature)."""
    send_sms(address, text)


CHANNELS = {
    ReceiptMessage.Channel.EMAIL: send_email,
    ReceiptMessage.Channel.SMS: send_text_message,
}


def request_receipt_message(
    *, item: OutboxItem, address: str, user, channel: str = ReceiptMessage.Channel.EMAIL
) -> ReceiptMessage:
    """Send `item`'s receipt to `address` once it is signed (now, if it is).

    :raises InvalidAddress: not an email address.
    """
    address = (address or "").strip()
    if channel == ReceiptMessage.Channel.SMS:
        try:
            address = normalise_phone(address)
        except InvalidPhoneNumber:
            raise InvalidAddress(
                gettext("Enter the customer's phone number (07..., +250...)."), field="address"
            ) from None
        return ReceiptMessage.objects.create(
            item=item, channel=channel, address=address, requested_by=user
        )
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidAddress(gettext("Enter a valid email address."), field="address") from None
    return ReceiptMessage.objects.create(
        item=item, channel=channel, address=address, requested_by=user
    )


def _document(item: OutboxItem):
    if item.kind == OutboxItem.Kind.PROFORMA:
        return item.proforma
    return item.refund if item.kind == OutboxItem.Kind.REFUND else item.sale


def _qr_png(content: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(content, error="m", micro=False).save(buffer, kind="png", scale=4)
    return buffer.getvalue()


def send_due() -> int:
    """Send every message waiting for a signed receipt; returns how many were sent. A message
    is claimed before sending (one worker sends it) and released on failure."""
    waiting = ReceiptMessage.objects.filter(
        sent_at__isnull=True, item__status=OutboxItem.Status.SIGNED
    ).select_related("item__sale", "item__refund", "item__proforma", "item__signature")
    sent = 0
    for message in waiting.order_by("pk")[:100]:
        item = message.item
        now = timezone.now()
        if not ReceiptMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            sent_at=now
        ):
            continue  # another worker has it
        document = _document(item)
        block = block_context(item, item.signature, copy=item.prints > 0, width="80")
        context = {"document": document, "block": block, "shop": ShopSettings.load()}
        title = (
            gettext("Proforma %(number)s (%(label)s)")
            if item.kind == OutboxItem.Kind.PROFORMA
            else gettext("Receipt %(number)s (%(label)s)")
        )
        subject = title % {
            "number": document.number,
            "label": block["label"],
        }
        attachments = [("receipt-qr.png", _qr_png(block["qr_content"]), "image/png")]
        try:
            CHANNELS[message.channel](
                message.address,
                subject,
                render_to_string("fiscal/receipt_message.txt", context),
                attachments,
            )
        except Exception as error:  # the channel's failure: kept, and tried again later
            logger.warning("Receipt message %s not sent: %s", message.pk, error)
            ReceiptMessage.objects.filter(pk=message.pk).update(
                sent_at=None, error=str(error)[:500]
            )
            continue
        ReceiptMessage.objects.filter(pk=message.pk).update(error="")
        count_print(item)  # sent: one print, like a printed receipt
        sent += 1
    return sent
