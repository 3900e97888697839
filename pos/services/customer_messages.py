"""Messages to customers: a receipt on request, payment reminders, gift-card codes.

Each is queued as a CustomerMessage keyed by its event and channel (`receipt:12/sms`,
`reminder:40:7/sms`, `gift_card:3/sms`): unique, so an event never makes a second message, however
often it is asked for. The text is written when it is queued, in the customer's language (else the
shop's receipt language). A customer who opted out gets no reminder and no gift-card code (the
message is recorded as not sent); a receipt they ask for at the till is sent.

The worker's job (pos.tasks.send_customer_messages) sends what is due: each message is claimed
with a conditional UPDATE (one worker sends it), then sent with no transaction open; the gateway's
answer is recorded (its id and status for the number, or why it refused). A temporary failure is
tried again with back-off, up to MESSAGES_MAX_ATTEMPTS; a refusal no retry fixes fails it at once.
The gateway's delivery reports (its callback) then mark a sent SMS delivered or failed.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from pos import errors, hooks
from pos.messaging.sms import send_sms, sms_enabled
from pos.models import Customer, CustomerMessage, ShopSettings
from pos.phones import normalise_phone
from pos.services.ledger import receipt_points

logger = logging.getLogger("vevurn.messages")
Channel, Kind, Status = CustomerMessage.Channel, CustomerMessage.Kind, CustomerMessage.Status
SUBJECTS = {
    Kind.RECEIPT: lambda c: gettext("%(shop)s: receipt %(number)s") % c,
    Kind.REMINDER: lambda c: gettext("%(shop)s: invoice %(number)s is overdue") % c,
    Kind.GIFT_CARD: lambda c: gettext("%(shop)s: your gift card %(code)s") % c,
}


def queue(
    *, kind: str, key: str, channel: str, address: str, customer: Customer | None, context: dict
) -> CustomerMessage:
    """The message of event `key` on `channel`, written in the customer's language; the one
    already there if this event was queued before. Call it inside the event's transaction or
    alone."""
    existing = CustomerMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing
    shop = ShopSettings.load()
    language = shop.document_language(customer)
    context = {**context, "shop": shop, "customer": customer}
    with translation.override(language):
        subject = SUBJECTS[kind]({"shop": shop.name, **context.get("subject", {})})
        body = render_to_string(f"pos/messages/{kind}.txt", context).strip()
    return queue_written(
        kind=kind,
        key=key,
        channel=channel,
        address=address,
        customer=customer,
        language=language,
        subject=subject,
        body=body,
    )


def queue_written(
    *,
    kind: str,
    key: str,
    channel: str,
    address: str,
    customer: Customer | None,
    language: str,
    subject: str,
    body: str,
) -> CustomerMessage:
    """A message another app wrote (in `language`), keyed by its event like `queue`'s: the one
    already there if this event was queued before. It is sent like every other (claimed,
    retried with back-off, failed for good after MESSAGES_MAX_ATTEMPTS, on the messages list);
    an email carries the attachments `pos.hooks.message_attachments` give for it."""
    if channel == Channel.SMS:  # plain spaces: a no-break space makes the SMS Unicode (70 chars)
        body = body.replace("\xa0", " ").replace("\u202f", " ")
    opted_out = customer is not None and customer.messages_opt_out and kind != Kind.RECEIPT
    try:
        with transaction.atomic():
            return CustomerMessage.objects.create(
                key=key,
                customer=customer,
                kind=kind,
                channel=channel,
                address=address,
                language=language,
                subject=subject[:200],
                body=body,
                status=Status.OPTED_OUT if opted_out else Status.QUEUED,
            )
    except IntegrityError:  # the same event queued at the same moment elsewhere
        return CustomerMessage.objects.get(key=key)


def send_receipt(*, sale, channel: str, address: str = "") -> CustomerMessage:
    """A sale's receipt by SMS or email, on request: to `address`, else the customer's phone or
    email. Once per sale and channel.

    :raises InvalidAddress: no usable phone number or email address.
    """
    customer = sale.customer
    if channel == Channel.SMS:
        raw = address or (customer.phone if customer else "")
        try:
            address = normalise_phone(raw)
        except errors.InvalidPhoneNumber:
            raise errors.InvalidAddress(
                gettext("Enter the customer's phone number (07..., +250...)."), field="address"
            ) from None
        if not sms_enabled():
            raise errors.InvalidAddress(
                gettext("SMS is not set up in this shop; send it by email."), field="channel"
            )
    else:
        address = (address or (customer.email if customer else "")).strip()
        if "@" not in address:
            raise errors.InvalidAddress(
                gettext("Enter the customer's email address."), field="address"
            )
    points = receipt_points(sale) if customer is not None else None
    payments = [p for p in sale.payments.all() if not p.is_change]
    return queue(
        kind=Kind.RECEIPT,
        key=f"receipt:{sale.pk}/{channel}",
        channel=channel,
        address=address,
        customer=customer,
        context={
            "sale": sale,
            "lines": list(sale.lines.all()),
            "payments": payments,
            "points": points,
            "subject": {"number": sale.number},
        },
    )


def send_gift_card_code(card) -> CustomerMessage | None:
    """A card sold or issued to a known customer: its code and value to their phone (by email
    when SMS is off and they have an address). Once per card."""
    customer = card.customer
    if customer is None:
        return None
    channel, address = _channel_for(customer)
    if channel is None:
        return None
    return queue(
        kind=Kind.GIFT_CARD,
        key=f"gift_card:{card.pk}/{channel}",
        channel=channel,
        address=address,
        customer=customer,
        context={"card": card, "subject": {"code": card.code}},
    )


def send_payment_reminder(invoice, *, step: int, days_overdue: int) -> CustomerMessage | None:
    """An overdue invoice's reminder by SMS (the invoice reminders' job mails it too when the
    customer has an email address). Once per invoice and reminder step."""
    customer = invoice.customer
    if not sms_enabled():
        return None
    return queue(
        kind=Kind.REMINDER,
        key=f"reminder:{invoice.pk}:{step}/{Channel.SMS}",
        channel=Channel.SMS,
        address=customer.phone,
        customer=customer,
        context={
            "invoice": invoice,
            "days_overdue": days_overdue,
            "subject": {"number": invoice.number},
        },
    )


def _channel_for(customer) -> tuple[str | None, str]:
    if sms_enabled():
        return Channel.SMS, customer.phone
    if customer.email:
        return Channel.EMAIL, customer.email
    return None, ""


# How long a worker may take over one message (the SMS timeout is seconds) before its claim is
# taken for a worker that stopped mid-send.
CLAIM = timedelta(minutes=10)
INTERRUPTED = (
    "The worker stopped while sending it: it may have gone out. Not sent again (a message goes "
    "at most once); ask the customer."
)


def send_due(now=None) -> dict[str, int]:
    """Send the messages that are due (at most 100 a run); how many were sent, are to be tried
    again, and failed for good."""
    now = now or timezone.now()
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    # Claims that outlived CLAIM: the worker stopped between asking the channel and recording its
    # answer. The message may have gone out, so it is not sent again: failed, for a person.
    outcome["failed"] += CustomerMessage.objects.filter(
        status=Status.SENDING, next_attempt_at__lte=now
    ).update(status=Status.FAILED, error=INTERRUPTED)
    due = CustomerMessage.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
    for message in due.order_by("pk")[:100]:
        claimed = CustomerMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(
            status=Status.SENDING, attempts=message.attempts + 1, next_attempt_at=now + CLAIM
        )
        if not claimed:
            continue  # another worker has it
        message.attempts += 1
        outcome[_send(message, now)] += 1
    return outcome


def _send(message: CustomerMessage, now) -> str:
    try:
        if message.channel == Channel.SMS:
            sent = send_sms(message.address, message.body)
            provider = {"provider_id": sent.message_id, "provider_status": sent.status}
        else:
            email = EmailMessage(message.subject, message.body, to=[message.address])
            for name, content, mimetype in hooks.attachments_for(message):
                email.attach(name, content, mimetype)
            email.send(fail_silently=False)
            provider = {"provider_status": "accepted by the mail server"}
    except Exception as error:  # the channel's failure: recorded, retried if it may pass
        temporary = getattr(error, "temporary", True)
        last = message.attempts >= settings.MESSAGES_MAX_ATTEMPTS
        logger.warning("Message %s not sent (attempt %s): %s", message.key, message.attempts, error)
        CustomerMessage.objects.filter(pk=message.pk).update(
            status=Status.QUEUED if temporary and not last else Status.FAILED,
            next_attempt_at=now + _back_off(message.attempts),
            error=f"{type(error).__name__}: {error}"[:300],
            provider_status=getattr(error, "status", "")[:100],
        )
        return "retry" if temporary and not last else "failed"
    CustomerMessage.objects.filter(pk=message.pk).update(
        status=Status.SENT, sent_at=timezone.now(), error="", **provider
    )
    return "sent"


def _back_off(attempt: int) -> timedelta:
    """30 s after the first failure, doubled each time, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** (attempt - 1), 3600))


# The gateway's delivery report statuses: delivered, or failed for good; the others (Sent,
# Submitted, Buffered) are on the way and only recorded.
DELIVERED_REPORTS = {"Success"}
FAILED_REPORTS = {"Failed", "Rejected"}


def record_delivery_report(*, provider_id: str, status: str, failure_reason: str = "") -> bool:
    """The gateway's delivery report for the message it named `provider_id`; True when a sent
    message was found. A report never takes a delivered message back."""
    if not provider_id:
        return False
    update = {"provider_status": status[:100]}
    if status in DELIVERED_REPORTS:
        update["status"] = Status.DELIVERED
    elif status in FAILED_REPORTS:
        update.update(status=Status.FAILED, error=f"Delivery failed: {failure_reason}"[:300])
    return bool(
        CustomerMessage.objects.filter(
            provider_id=provider_id, channel=Channel.SMS, status=Status.SENT
        ).update(**update)
    )
