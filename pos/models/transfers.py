"""Transfers of stock between two stores of the business (issue 29).

A transfer is drafted (lines of products and quantities, in each product's stock unit), sent
(the source store's stock leaves: a `transfer_out` movement per line; from then on the goods are
"in transit", in no store's stock), then received once at the destination: each line's received
quantity comes in (`transfer_in`), and what did not arrive is shrinkage, written with a reason
as a `shrinkage` movement of the destination right after it (so that the destination's ledger
shows every unit sent and what was lost on the way). A draft can be cancelled; nothing else.

Per line: in transit = sent - received - shrinkage (sent: the quantity once the transfer is
sent, 0 before). For every product, the source's loss equals what is in transit, plus what the
destination received, plus the shrinkage; the stores' stock stays the sum of their movements.
Every change goes through pos.services.transfers.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from pos.quantities import STORED

ZERO = Decimal(0)


class TransferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent (in transit)")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class Transfer(models.Model):
    source = models.ForeignKey(
        "pos.Store", verbose_name=_("from store"), on_delete=models.PROTECT, related_name="+"
    )
    destination = models.ForeignKey(
        "pos.Store", verbose_name=_("to store"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.DRAFT
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    shrinkage_reason = models.CharField(_("shrinkage reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("stock transfer")
        verbose_name_plural = _("stock transfers")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("send_transfer", "Can send a stock transfer from their store"),
            ("receive_transfer", "Can receive a stock transfer into their store"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(source=models.F("destination")),
                name="transfer_between_two_stores",
            )
        ]

    def __str__(self):
        return self.number_of(self.pk) if self.pk else "New transfer"

    @staticmethod
    def number_of(pk: int) -> str:
        return f"TR-{pk:05d}"

    @property
    def number(self) -> str:
        return str(self)


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "pos.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(
        _("quantity sent"),
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_("In the product's stock unit."),
        **STORED,
    )
    quantity_received = models.DecimalField(_("received"), default=0, editable=False, **STORED)
    quantity_shrinkage = models.DecimalField(_("shrinkage"), default=0, editable=False, **STORED)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["transfer_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "product"], name="one_line_per_transfer_product"
            )
        ]

    def __str__(self):
        return f"{self.product} × {self.quantity}"

    @property
    def quantity_sent(self) -> Decimal:
        """What left the source: the quantity once the transfer is sent, else nothing."""
        sent = self.transfer.status in (TransferStatus.SENT, TransferStatus.RECEIVED)
        return self.quantity if sent else ZERO

    @property
    def in_transit(self) -> Decimal:
        return self.quantity_sent - self.quantity_received - self.quantity_shrinkage
