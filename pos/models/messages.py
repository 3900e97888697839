"""Messages to customers (SMS, email): each keyed by the event it tells of, sent once."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CustomerMessage(models.Model):
    """A message to a customer: a receipt on request, a payment reminder, a gift card's code.

    `key` names the event and the channel ("receipt:12/sms"): unique, so the same event never
    makes a second message. Written by pos.services.customer_messages, sent by the worker,
    which records the gateway's answer (`provider_status`) and the delivery status.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        REMINDER = "reminder", _("Payment reminder")
        GIFT_CARD = "gift_card", _("Gift card code")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        OPTED_OUT = "opted_out", _("Not sent: the customer opted out")

    key = models.CharField(_("event"), max_length=120, unique=True)
    customer = models.ForeignKey(
        "pos.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    provider_id = models.CharField(_("gateway's id"), max_length=100, blank=True)
    provider_status = models.CharField(_("gateway's status"), max_length=100, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer message")
        verbose_name_plural = _("customer messages")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="message_due")]

    def __str__(self):
        return self.key
