from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from pos.models.stores import default_store_pk
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
    # A stock transfer between stores (pos.models.transfers): out of the source when sent,
    # into the destination when received, and what did not arrive.
    TRANSFER_OUT = "transfer_out", _("Transfer sent")
    TRANSFER_IN = "transfer_in", _("Transfer received")
    SHRINKAGE = "shrinkage", _("Shrinkage in transit")


class StockLevel(models.Model):
    """How much of one product one store holds: the truth of stock (issue 29).

    `on_hand` changes only through pos.services.stock.apply_movements, on this row locked with
    its product (pos.services.locks.stock), and equals the sum of the store's movements of the
    product (pos.integrity.stock_drift checks it). A product has a level in every store (made
    with the product or the store; the first movement makes one that is missing).

    `reorder_level` is this store's own; None: the product's (`Product.reorder_level`, which
    every store starts with), so a one-store shop sets it on the product as before.
    """

    store = models.ForeignKey(
        "pos.Store", verbose_name=_("store"), on_delete=models.PROTECT, related_name="stock_levels"
    )
    # A product with stock has movements, which protect it; one without goes with its levels.
    product = models.ForeignKey(
        "pos.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="stock_levels",
    )
    on_hand = models.DecimalField(_("stock on hand"), default=0, editable=False, **STORED)
    reorder_level = models.DecimalField(
        _("reorder level"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("This store's own; empty: the product's reorder level."),
        **STORED,
    )

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["store_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="one_stock_level_per_store")
        ]

    def __str__(self):
        return f"{self.product_id} @ {self.store_id}: {self.on_hand}"

    def effective_reorder_level(self, product=None):
        """This store's reorder level, else the product's."""
        if self.reorder_level is not None:
            return self.reorder_level
        return (product or self.product).reorder_level


class StockMovement(models.Model):
    """One change of a product's stock in one store. Append-only: corrections are new movements.

    The sum of a store's movement quantities of a product equals its `StockLevel.on_hand`, and
    `stock_before`/`stock_after` are that store's. `reference_type`/`reference_id` point at the
    document that caused it (e.g. "pos.sale", "42"). A transfer between stores is a movement out
    of the source when sent and one into the destination when received (pos.models.transfers).
    """

    store = models.ForeignKey(
        "pos.Store", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+"
    )
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
            models.Index(fields=["store", "product", "-created_at"]),
            models.Index(fields=["reference_type", "reference_id"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity:+} {self.product_id}"


class LowStockAlert(models.Model):
    """Raised once each time a store's stock of a product crosses down to its reorder level."""

    store = models.ForeignKey(
        "pos.Store", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+"
    )
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
    """A stock take in one store: counted quantities for many products, posted as count
    corrections of that store's stock."""

    store = models.ForeignKey(
        "pos.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="+",
        default=default_store_pk,
    )
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
