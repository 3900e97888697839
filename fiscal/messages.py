"""A fiscal receipt (or proforma) sent by message once it is signed ("send it later").

The till asks for it, often while the receipt waits for the VSDC (`request_receipt_message`);
once the document is signed it is handed to the shop's customer messages
(pos.services.customer_messages, issue 28), which send it: claimed by one worker, a failure
retried with back-off up to MESSAGES_MAX_ATTEMPTS then marked failed with its reason, on the
manager's list of customer messages (admin: *Customer messages*). The message is keyed by the
fiscal item and the channel (`fiscal:<item>/<channel>`): one fiscal document goes once per
channel, however often it is asked for or the job runs.

What goes: the document's fiscal part as text, written in the customer's language (else the
shop's receipt language) when it is handed over; an email also carries the QR code as a PNG
(`attachments`, through pos.hooks.message_attachments). Handing it over counts as one print
(the first is the original, later ones copies), like a printed receipt.
"""

import io
import logging

import segno
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.errors import DomainError
from fiscal.models import OutboxItem, ReceiptMessage, Signature
from fiscal.receipts import block_context, count_print, qr_content
from pos import scoping
from pos.errors import InvalidPhoneNumber
from pos.models import CustomerMessage, ShopSettings
from pos.phones import normalise_phone
from pos.services import customer_messages

logger = logging.getLogger("vevurn.fiscal")
KEY_PREFIX = "fiscal:"


class InvalidAddress(DomainError):
    code = "invalid_address"


def message_key(item: OutboxItem, channel: str) -> str:
    """The customer message's event key: one per fiscal item and channel."""
    return f"{KEY_PREFIX}{item.pk}/{channel}"


def message_keys(user) -> list:
    """Staff per store (pos.scoping.MESSAGE_KEYS): the keys of the messages of the documents
    signed by the devices of `user`'s stores."""
    items = scoping.for_user(OutboxItem.objects.all(), user)
    return [
        items.annotate(key=scoping.key_text(KEY_PREFIX, F("pk"), f"/{channel}")).values("key")
        for channel in ReceiptMessage.Channel.values
    ]


def _address(address: str, channel: str) -> str:
    """:raises InvalidAddress: not a phone number (SMS) or an email address."""
    address = (address or "").strip()
    if channel == ReceiptMessage.Channel.SMS:
        try:
            return normalise_phone(address)
        except InvalidPhoneNumber:
            raise InvalidAddress(
                gettext("Enter the customer's phone number (07..., +250...)."), field="address"
            ) from None
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidAddress(gettext("Enter a valid email address."), field="address") from None
    return address


def request_receipt_message(
    *, item: OutboxItem, address: str, user, channel: str = ReceiptMessage.Channel.EMAIL
) -> ReceiptMessage:
    """Send `item`'s receipt to `address` once it is signed (handed over now, if it is).

    :raises InvalidAddress: not an email address (a phone number for SMS), or it already goes
        by this channel (a fiscal document goes once per channel).
    """
    address = _address(address, channel)
    already = item.messages.filter(channel=channel).first()
    if already is not None:
        raise InvalidAddress(
            gettext("It already goes by %(channel)s to %(address)s.")
            % {"channel": already.get_channel_display(), "address": already.address},
            field="address",
        )
    asked = ReceiptMessage.objects.create(
        item=item, channel=channel, address=address, requested_by=user
    )
    if OutboxItem.objects.filter(pk=item.pk, status=OutboxItem.Status.SIGNED).exists():
        _hand_over(asked)
    return asked


def _document(item: OutboxItem):
    if item.kind == OutboxItem.Kind.PROFORMA:
        return item.proforma
    return item.refund if item.kind == OutboxItem.Kind.REFUND else item.sale


def _customer(item: OutboxItem):
    if item.kind == OutboxItem.Kind.PROFORMA:
        return None
    sale = item.refund.sale if item.kind == OutboxItem.Kind.REFUND else item.sale
    return sale.customer if sale is not None else None


def qr_png(content: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(content, error="m", micro=False).save(buffer, kind="png", scale=4)
    return buffer.getvalue()


@transaction.atomic
def _hand_over(message: ReceiptMessage) -> CustomerMessage | None:
    """Write the signed document's message and queue it (pos.services.customer_messages), once:
    the request is claimed first (another worker's run skips it); None when it was."""
    now = timezone.now()
    if not ReceiptMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=now, error=""
    ):
        return None
    item = OutboxItem.objects.select_related(
        "sale__customer", "refund__sale__customer", "proforma", "signature"
    ).get(pk=message.item_id)
    key = message_key(item, message.channel)
    existing = CustomerMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing  # asked again on this channel: it goes once
    shop = ShopSettings.load()
    customer = _customer(item)
    language = shop.document_language(customer)
    document = _document(item)
    copy = count_print(item) > 0  # handed over: one print, like a printed receipt
    with translation.override(language):
        block = block_context(item, item.signature, copy=copy, width="80")
        title = (
            gettext("Proforma %(number)s (%(label)s)")
            if item.kind == OutboxItem.Kind.PROFORMA
            else gettext("Receipt %(number)s (%(label)s)")
        )
        context = {
            "document": document,
            "block": block,
            "shop": shop,
            "is_proforma": item.kind == OutboxItem.Kind.PROFORMA,
            "email": message.channel == ReceiptMessage.Channel.EMAIL,
        }
        body = render_to_string("fiscal/receipt_message.txt", context).strip()
        subject = title % {"number": document.number, "label": block["label"]}
    return customer_messages.queue_written(
        kind=CustomerMessage.Kind.RECEIPT,
        key=key,
        channel=message.channel,
        address=message.address,
        customer=customer,
        language=language,
        subject=subject,
        body=body,
    )


def hand_over_due() -> int:
    """Hand every request whose document is now signed to the customer messages; returns how
    many were handed over."""
    waiting = ReceiptMessage.objects.filter(
        sent_at__isnull=True, item__status=OutboxItem.Status.SIGNED
    )
    handed = 0
    for message in waiting.order_by("pk")[:100]:
        if _hand_over(message) is not None:
            handed += 1
    return handed


def attachments(message: CustomerMessage) -> list[tuple[str, bytes, str]]:
    """An emailed fiscal message's QR code, as a PNG (pos.hooks.message_attachments)."""
    if not message.key.startswith(KEY_PREFIX):
        return []
    item_id = message.key.removeprefix(KEY_PREFIX).split("/")[0]
    signature = Signature.objects.filter(item_id=item_id).first()
    if signature is None:
        return []
    return [("receipt-qr.png", qr_png(qr_content(signature)), "image/png")]


def requests_of(item: OutboxItem) -> list[tuple[ReceiptMessage, CustomerMessage | None]]:
    """What was asked for `item`, each with its customer message once handed over (its status:
    waiting, sent, failed and why)."""
    asked = list(item.messages.order_by("pk"))
    sent = CustomerMessage.objects.in_bulk(
        [message_key(item, message.channel) for message in asked], field_name="key"
    )
    return [(message, sent.get(message_key(item, message.channel))) for message in asked]
