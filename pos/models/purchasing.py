from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from pos.models.stores import default_store_pk
from pos.quantities import STORED


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ORDERED = "ordered", _("Ordered")
    PARTLY_RECEIVED = "partly_received", _("Partly received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class PurchaseOrder(models.Model):
    """Goods ordered from a supplier, delivered to one store: receiving them moves that store's
    stock (pos.services.purchasing)."""

    store = models.ForeignKey(
        "pos.Store",
        verbose_name=_("delivered to"),
        on_delete=models.PROTECT,
        related_name="+",
        default=default_store_pk,
    )
    supplier = models.ForeignKey(
        "pos.Supplier", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PurchaseOrderStatus.choices,
        default=PurchaseOrderStatus.DRAFT,
    )
    reference = models.CharField(_("supplier reference"), max_length=64, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    ordered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-created_at"]

    def __str__(self):
        return f"PO-{self.pk:05d}" if self.pk else "New purchase order"


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("pos.Product", on_delete=models.PROTECT, related_name="+")
    quantity_ordered = models.DecimalField(
        _("ordered"), validators=[MinValueValidator(Decimal("0.001"))], **STORED
    )
    quantity_received = models.DecimalField(_("received"), default=0, editable=False, **STORED)
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="one_line_per_po_product")
        ]

    def __str__(self):
        return f"{self.product} × {self.quantity_ordered}"

    @property
    def quantity_outstanding(self) -> Decimal:
        return max(self.quantity_ordered - self.quantity_received, Decimal(0))
