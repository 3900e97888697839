from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from pos.quantities import STORED

# Reasons the system itself writes on a movement: stored in English, shown translated.
OPENING_STOCK = gettext_noop("Opening stock")
SYSTEM_REASONS = {OPENING_STOCK}


def reason_label(reason: str) -> str:
    """A movement's reason as a screen shows it; what a person typed stays as typed."""
    return gettext(reason) if reason in SYSTEM_REASONS else reason


class MovementKind(models.TextChoices):
    SALE = "sale", _("Sale")
    REFUND = "refund", _("Refund")
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    COUNT_CORRECTION = "count_correction", _("Count correction")
    DAMAGED = "damaged", _("Damaged")
    EXPIRED = "expired", _("Expired")
    THEFT = "theft", _("Theft")
    TRANSFER = "transfer", _("Transfer")


class StockMovement(models.Model):
    """One change of a product's stock on hand. Append-only: corrections are new movements.

    The sum of a product's movement quantities equals its `stock_on_hand`.
    `reference_type`/`reference_id` point at the document that caused it (e.g. "pos.sale", "42").
    """

    product = models.ForeignKey("pos.Product", on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    quantity = models.DecimalField(
        _("quantity"),
        help_text=_("In the product's stock unit; positive in, negative out."),
        **STORED,
    )
    stock_before = models.DecimalField(_("stock before"), **STORED)
    stock_after = models.DecimalField(_("stock after"), **STORED)
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    reference_type = models.CharField(max_length=64, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    reference_label = models.CharField(_("reference"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-created_at"]),
            models.Index(fields=["reference_type", "reference_id"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity:+} {self.product_id}"


class LowStockAlert(models.Model):
    """Raised once each time a product's stock crosses down to its reorder level."""

    product = models.ForeignKey(
        "pos.Product", on_delete=models.CASCADE, related_name="low_stock_alerts"
    )
    stock_on_hand = models.DecimalField(_("stock at alert"), **STORED)
    reorder_level = models.DecimalField(_("reorder level"), **STORED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    acknowledged = models.BooleanField(_("acknowledged"), default=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("low stock alert")
        verbose_name_plural = _("low stock alerts")
        ordering = ["acknowledged", "-created_at"]

    def __str__(self):
        return f"Low stock: {self.product} ({self.stock_on_hand} ≤ {self.reorder_level})"


class StockCountStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTED = "posted", _("Posted")


class StockCount(models.Model):
    """A stock take: counted quantities for many products, posted as count corrections."""

    name = models.CharField(_("name"), max_length=120, blank=True)
    status = models.CharField(
        max_length=10, choices=StockCountStatus.choices, default=StockCountStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name or f"Stock count #{self.pk}"


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("pos.Product", on_delete=models.PROTECT, related_name="+")
    expected_quantity = models.DecimalField(_("expected"), **STORED)
    counted_quantity = models.DecimalField(
        _("counted"), validators=[MinValueValidator(0)], **STORED
    )

    class Meta:
        verbose_name = _("stock count line")
        verbose_name_plural = _("stock count lines")
        constraints = [
            models.UniqueConstraint(fields=["count", "product"], name="one_line_per_count_product")
        ]

    def __str__(self):
        return f"{self.product_id}: counted {self.counted_quantity}"

    @property
    def difference(self):
        return self.counted_quantity - self.expected_quantity
