"""Training mode's rows (fiscal.training): which tills are in training, and the training
receipts rung up on them (sales and refunds), with their lines and tenders.

They live in tables of their own, apart from pos.Sale, Payment and StockMovement, so that no
report, balance, drawer or stock figure can count them by forgetting a filter: see
fiscal/training.py for why. Imported by fiscal.models (the app's models module).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}


class TrainingTill(models.Model):
    """A till (pos.Register) in training mode: while this row exists, the till's sales are
    training receipts (TS/TR); a manager deletes it through fiscal.training.stop_training."""

    register = models.OneToOneField(
        "pos.Register",
        verbose_name=_("till"),
        on_delete=models.CASCADE,
        related_name="training_mode",
    )
    started_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", editable=False
    )
    started_at = models.DateTimeField(_("in training since"), default=timezone.now)

    class Meta:
        verbose_name = _("till in training")
        verbose_name_plural = _("tills in training")
        permissions = [("switch_training", "Can put a till in training mode and take it out")]

    def __str__(self):
        return str(self.register)


class TrainingReceipt(models.Model):
    """A training sale (receipt type S, printed TS) or a training refund of one (R, TR):
    priced as a sale is, never a sale; signed by the VSDC with the training counter."""

    class Type(models.TextChoices):
        SALE = "S", _("Training sale")
        REFUND = "R", _("Training refund")

    receipt_type = models.CharField(max_length=1, choices=Type.choices, default=Type.SALE)
    register = models.ForeignKey(
        "pos.Register", verbose_name=_("till"), on_delete=models.PROTECT, related_name="+"
    )
    # The shift the till had open: a reference only, nothing of the shift counts it.
    shift = models.ForeignKey(
        "pos.Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cashier = models.ForeignKey(
        "accounts.User", verbose_name=_("Cashier"), on_delete=models.PROTECT, related_name="+"
    )
    original = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("training sale refunded"),
    )
    # A training sale's checkout key: a second click on "Complete" shows the same receipt.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, default=None)
    customer_name = models.CharField(_("customer"), max_length=60, blank=True)
    buyer_tin = models.CharField(_("buyer's TIN"), max_length=9, blank=True)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount_total = models.DecimalField(_("discounts"), **MONEY, default=0)
    tax_total = models.DecimalField(_("VAT"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    change_given = models.DecimalField(_("change"), **MONEY, default=0)
    refund_reason_code = models.CharField(max_length=2, blank=True)  # rfdRsnCd
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    replayed = False  # set on a receipt answered again for the same checkout key

    class Meta:
        verbose_name = _("training receipt")
        verbose_name_plural = _("training receipts")
        ordering = ["-pk"]

    def __str__(self):
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("fiscal:training_receipt", args=[self.pk])

    @property
    def number(self) -> str:
        return f"TRN-{self.pk:06d}"

    @property
    def is_refund(self) -> bool:
        return self.receipt_type == self.Type.REFUND


class TrainingLine(models.Model):
    receipt = models.ForeignKey(TrainingReceipt, on_delete=models.CASCADE, related_name="lines")
    # No database constraint: inserting a line then takes no lock on the product row, so a
    # training sale never queues behind (or in front of) a checkout's product locks; products
    # are never deleted (PROTECT still holds in the ORM), and the name is kept on the line.
    product = models.ForeignKey(
        "pos.Product", verbose_name=_("product"), on_delete=models.PROTECT, db_constraint=False
    )
    product_name = models.CharField(_("product"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)  # stock units
    unit_name = models.CharField(max_length=60, blank=True)  # "Carton (24)"; blank: the stock unit
    unit_quantity = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY)  # per unit sold, as charged
    line_discount = models.DecimalField(**MONEY, default=0)
    order_discount = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY)
    tax = models.DecimalField(_("VAT"), **MONEY)
    # A sale's line: how much of it training refunds gave back (in the unit sold).
    refunded = models.DecimalField(max_digits=12, decimal_places=3, default=0, editable=False)
    # A refund line: the training sale's line it gives back.
    original_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunded_by"
    )

    class Meta:
        verbose_name = _("training line")
        verbose_name_plural = _("training lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.quantity} x {self.product_name}"

    @property
    def sold_quantity(self):
        """How many were rung up, in the unit sold (cartons), else in the stock unit."""
        return self.unit_quantity if self.unit_quantity is not None else self.quantity


class TrainingTender(models.Model):
    """What the trainee took (or gave back) in each tender; nothing is paid or debited."""

    receipt = models.ForeignKey(TrainingReceipt, on_delete=models.CASCADE, related_name="tenders")
    tender = models.CharField(_("tender"), max_length=20)
    amount = models.DecimalField(_("amount"), **MONEY)
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("training tender")
        verbose_name_plural = _("training tenders")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.tender} {self.amount}"

    @property
    def tender_label(self) -> str:
        from pos.models import Tender

        return Tender.label_of(self.tender)
