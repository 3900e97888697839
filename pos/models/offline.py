"""Offline selling: the browsers that sell on a till without the server, and what they sent.

A till device is one browser on one till (every tab of it shares the device). While online it
reserves blocks of offline receipt numbers; the blocks of a device follow each other, so its
numbers are gap-free and no two devices (or tabs, which take numbers in one IndexedDB
transaction) ever share one. An offline sale is the server's record of a sale the device sent,
keyed by the checkout's idempotency key: stored (with its sale), refused (with the reason, until
a manager resolves it) or dismissed by a manager.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class TillDevice(models.Model):
    register = models.ForeignKey(
        "pos.Register", on_delete=models.PROTECT, related_name="devices", verbose_name=_("till")
    )
    key = models.UUIDField(unique=True)  # the browser keeps it in IndexedDB
    code = models.PositiveIntegerField(_("device number"))  # R1-T<code>-000001
    label = models.CharField(_("label"), max_length=120, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_reserved = models.PositiveIntegerField(default=0, editable=False)
    # What the device said at its last heartbeat.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    clock_offset_ms = models.BigIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    oldest_pending_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("till device")
        verbose_name_plural = _("till devices")
        constraints = [
            models.UniqueConstraint(fields=["register", "code"], name="till_device_code_unique")
        ]

    def __str__(self):
        return f"{self.register.code}-T{self.code}"

    def receipt_number(self, n: int) -> str:
        return f"{self.register.code}-T{self.code}-{n:06d}"


class OfflineSale(models.Model):
    class Status(models.TextChoices):
        STORED = "stored", _("stored")
        REFUSED = "refused", _("refused")
        DISMISSED = "dismissed", _("dismissed")

    key = models.UUIDField(unique=True)  # the sale's idempotency key, made by the device
    device = models.ForeignKey(TillDevice, on_delete=models.PROTECT, related_name="sales")
    number = models.CharField(_("offline receipt number"), max_length=24)
    sold_at = models.DateTimeField(_("sold at"))
    received_at = models.DateTimeField(default=timezone.now)
    synced_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)
    sale = models.OneToOneField(
        "pos.Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="offline"
    )
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("offline sale")
        verbose_name_plural = _("offline sales")
        ordering = ["number"]
        indexes = [models.Index(fields=["status", "device"], name="offline_sale_status_idx")]

    def __str__(self):
        return self.number

    @property
    def rung_in_training(self) -> bool:
        """Whether the till said it rang this sale up in training (never a sale)."""
        return is_training_payload(self.payload)


def is_training_payload(payload) -> bool:
    """Whether an offline sale's payload says it was rung up in training (`"training": true`);
    a payload without the flag (an older till's) is a real sale."""
    if not isinstance(payload, dict):
        return False
    flag = payload.get("training")
    return flag is True or str(flag).lower() in ("1", "true")
