"""The fiscal device (a VSDC), its code tables, the items registered with it, the outbox of
documents to sign and the signatures received.

- `Device.last_invoice_number` is the gap-free invoice counter (`invcNo`) of one device: taken
  in the sale's (refund's, void's) own transaction by one UPDATE (fiscal.outbox.enqueue), consumed
  only if that transaction commits.
- A device belongs to a store (pos.Store, one active device per store) and signs with that
  store's branch id (`bhfId`: `Store.branch_id` is the one truth, `Device.branch_id` reads it)
  and the TIN it was initialised with (the store's, else the shop's). A till (pos.Register)
  signs through its store's device, or a device of its store it is assigned to (`Till`; one of
  another store is refused). A refund or a void goes to the device that signed the original
  sale (its `orgInvcNo` is that device's).
- Items are registered with every device (`ItemRegistration`: per device and product), through
  the device's own outbox (kind `item`), before any document of that device names them.
- `OutboxItem` rows are sent per device in primary-key order, one request in flight (the
  device's lease, fiscal.sending).
- A `Signature` is written once, when the VSDC answers, and never changed or deleted
  (append-only here and, on PostgreSQL, by trigger).
"""

import pgtrigger
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pos.models.journal import AppendOnlyModel

MONEY = {"max_digits": 16, "decimal_places": 2}


class Device(models.Model):
    """A VSDC device, initialised with RRA (selectInitInfo): one active per store, signing with
    the store's branch id (bhfId), each with its own invoice counter and outbox."""

    store = models.ForeignKey(
        "pos.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="fiscal_devices",
    )
    tin = models.CharField(_("TIN"), max_length=9)
    serial_number = models.CharField(_("device serial number"), max_length=100)  # dvcSrlNo
    device_id = models.CharField(_("device id"), max_length=100, blank=True)  # dvcId
    sdc_id = models.CharField(_("SDC ID"), max_length=20, blank=True)
    mrc = models.CharField(_("MRC"), max_length=20, blank=True)
    # cmcKey, encrypted with FISCAL_SECRET_KEY (fiscal.secrets); never shown.
    cmc_key_encrypted = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    initialised_at = models.DateTimeField(_("initialised at"), null=True, blank=True)
    codes_synced_at = models.DateTimeField(_("code tables synced at"), null=True, blank=True)
    # Our gap-free invoice counter (invcNo), started at the VSDC's lastSaleInvcNo.
    last_invoice_number = models.PositiveBigIntegerField(default=0, editable=False)
    # Proforma quotes have their own counter (started at lastProfrmInvcNo).
    last_proforma_number = models.PositiveBigIntegerField(default=0, editable=False)
    # Training receipts (TS/TR, fiscal.training) have their own too (from lastTrainInvcNo).
    last_training_number = models.PositiveBigIntegerField(default=0, editable=False)
    # The last 7-digit sequence used in an item code (itemCd).
    last_item_sequence = models.PositiveIntegerField(default=0, editable=False)
    # One request in flight: the sender holding the device until `sending_until`.
    sending_until = models.DateTimeField(null=True, blank=True, editable=False)
    sender = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("fiscal device")
        verbose_name_plural = _("fiscal devices")
        constraints = [
            models.UniqueConstraint(
                fields=["store"],
                condition=Q(is_active=True),
                name="one_active_fiscal_device_per_store",
            )
        ]

    def __str__(self):
        name = self.sdc_id or f"{self.tin}/{self.serial_number}"
        return f"{name} ({self.branch_id})"

    @property
    def branch_id(self) -> str:
        """The bhfId this device signs with: its store's (pos.Store.branch_id, the one truth)."""
        return self.store.branch_id

    @property
    def is_initialised(self) -> bool:
        return bool(self.initialised_at and self.sdc_id and self.mrc)


class Till(models.Model):
    """Which device signs a till's sales (a till without a row: its store's device); the
    device must be one of the till's store."""

    register = models.OneToOneField(
        "pos.Register",
        verbose_name=_("till"),
        on_delete=models.CASCADE,
        related_name="fiscal_till",
    )
    device = models.ForeignKey(
        Device, verbose_name=_("fiscal device"), on_delete=models.PROTECT, related_name="tills"
    )

    class Meta:
        verbose_name = _("till on this device")
        verbose_name_plural = _("tills on this device")

    def __str__(self):
        return f"{self.register} -> {self.device}"

    def clean(self):
        super().clean()
        if self.register_id is None or self.device_id is None:
            return
        if self.register.store_id != self.device.store_id:
            raise ValidationError(
                {
                    "register": _(
                        "Till %(till)s is in store %(store)s: it can only sign through a device "
                        "of that store, not one of %(other)s."
                    )
                    % {
                        "till": self.register,
                        "store": self.register.store,
                        "other": self.device.store,
                    }
                }
            )


class Code(models.Model):
    """One entry of RRA's code tables (selectCodes): class (cdCls) and code (cd)."""

    class_code = models.CharField(_("code class"), max_length=5)
    class_name = models.CharField(_("class name"), max_length=200, blank=True)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    value = models.CharField(_("value"), max_length=100, blank=True)  # e.g. a tax rate
    is_used = models.BooleanField(_("used"), default=True)

    class Meta:
        verbose_name = _("fiscal code")
        verbose_name_plural = _("fiscal codes")
        ordering = ["class_code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["class_code", "code"], name="one_fiscal_code")
        ]

    def __str__(self):
        return f"{self.class_code}/{self.code} {self.name}"


class ItemClass(models.Model):
    """RRA's item classification (selectItemsClass)."""

    code = models.CharField(_("item class code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.PositiveSmallIntegerField(default=1)
    tax_type = models.CharField(_("tax type"), max_length=5, blank=True)

    class Meta:
        verbose_name = _("item class")
        verbose_name_plural = _("item classes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Item(models.Model):
    """A product as registered with the VSDC (saveItems): its unique item code and codes."""

    product = models.OneToOneField(
        "pos.Product", on_delete=models.PROTECT, related_name="fiscal_item"
    )
    item_code = models.CharField(_("item code"), max_length=20, unique=True)  # itemCd
    item_class_code = models.CharField(_("item class code"), max_length=10)
    item_type = models.CharField(_("product type"), max_length=1, default="2")  # finished
    origin_country = models.CharField(_("origin country"), max_length=2, default="RW")
    packaging_unit = models.CharField(_("packaging unit"), max_length=5, default="NT")
    quantity_unit = models.CharField(_("quantity unit"), max_length=5, default="U")
    tax_type = models.CharField(_("tax type"), max_length=1, default="B")
    # When its codes were last changed here: every device registers it again after.
    changed_at = models.DateTimeField(_("codes changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("fiscal item")
        verbose_name_plural = _("fiscal items")

    def __str__(self):
        return self.item_code


class ItemRegistration(models.Model):
    """An item as one device (one branch) has it (saveItems): what was sent last, when, and
    the last refusal. A device's documents name an item only once it is registered there."""

    device = models.ForeignKey(
        Device, verbose_name=_("fiscal device"), on_delete=models.PROTECT, related_name="items"
    )
    item = models.ForeignKey(
        Item, verbose_name=_("fiscal item"), on_delete=models.PROTECT, related_name="registrations"
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    # What was sent last time: a change of name, price or codes sends it again.
    fingerprint = models.CharField(max_length=64, blank=True)
    error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("item registration")
        verbose_name_plural = _("item registrations")
        constraints = [
            models.UniqueConstraint(fields=["device", "item"], name="one_registration_per_device")
        ]

    def __str__(self):
        return f"{self.item} @ {self.device}"


class OutboxItem(models.Model):
    """One document to send to the VSDC, in the device's FIFO order (by pk)."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        REFUND = "refund", _("Refund")
        VOID = "void", _("Void")  # an R receipt for a voided sale (rfdRsnCd: cancelled sale)
        PROFORMA = "proforma", _("Proforma")  # salesTyCd P: a quote, signed, never a sale
        TRAINING = "training", _("Training")  # salesTyCd T: a till in training, never a sale
        STOCK = "stock", _("Stock movement")  # saveStockItems
        STOCK_MASTER = "stock_master", _("Stock level")  # saveStockMaster: one product's level
        ITEM = "item", _("Item registration")  # saveItems: a product with this device

    # The kinds that are receipts of sales (saveSales, signed, counted in X/Z); a proforma and
    # a training receipt are signed too (SIGNED_KINDS) but count nowhere; the others are stock
    # reports. Proformas and training receipts are numbered by counters of their own.
    RECEIPT_KINDS = (Kind.SALE, Kind.REFUND, Kind.VOID)
    SIGNED_KINDS = (*RECEIPT_KINDS, Kind.PROFORMA, Kind.TRAINING)

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # not sent yet, or to send again (back-off)
        SIGNED = "signed", _("Signed")  # done: the answer is stored
        NEEDS_ATTENTION = "attention", _("Needs attention")  # refused (8xx/9xx): fix, resend

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    invoice_number = models.PositiveBigIntegerField(null=True, blank=True)  # invcNo
    sale = models.ForeignKey(
        "pos.Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="fiscal_items"
    )
    refund = models.ForeignKey(
        "pos.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="fiscal_items"
    )
    proforma = models.OneToOneField(
        "fiscal.Proforma", null=True, blank=True, on_delete=models.PROTECT, related_name="item"
    )
    training = models.OneToOneField(
        "fiscal.TrainingReceipt",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="item",
    )
    # An item registered with this device (kind "item").
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="outbox"
    )
    # Stock movements reported (the ids of pos.StockMovement rows) and their RRA type code.
    movement_ids = models.JSONField(default=list, blank=True)
    stock_type_code = models.CharField(max_length=2, blank=True)  # sarTyCd
    refund_reason_code = models.CharField(max_length=2, blank=True)  # rfdRsnCd
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    # The request body, built once before the first send and sent unchanged ever after.
    payload = models.JSONField(null=True, blank=True, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    result_code = models.CharField(max_length=3, blank=True)
    error = models.CharField(max_length=500, blank=True)
    resent_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Prints from the stored signature: the first is the original (NS/NR), every later one a
    # copy (CS/CR); the VSDC is never called for them.
    prints = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("fiscal outbox item")
        verbose_name_plural = _("fiscal outbox")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "invoice_number"],
                condition=Q(invoice_number__isnull=False) & ~Q(kind__in=["proforma", "training"]),
                name="one_invoice_number_per_device",
            ),
            models.UniqueConstraint(
                fields=["device", "invoice_number"],
                condition=Q(kind="training"),
                name="one_training_number_per_device",
            ),
            models.UniqueConstraint(
                fields=["device", "invoice_number"],
                condition=Q(kind="proforma"),
                name="one_proforma_number_per_device",
            ),
            models.UniqueConstraint(
                fields=["sale"],
                condition=Q(kind="sale"),
                name="one_fiscal_item_per_sale",
            ),
            models.UniqueConstraint(
                fields=["refund"],
                condition=Q(refund__isnull=False),
                name="one_fiscal_item_per_refund",
            ),
            models.UniqueConstraint(
                fields=["sale"], condition=Q(kind="void"), name="one_fiscal_void_per_sale"
            ),
        ]
        indexes = [models.Index(fields=["device", "status", "id"], name="fiscal_outbox_queue_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.invoice_number or self.pk}"


class Signature(AppendOnlyModel):
    """The VSDC's answer for one signed document: written once, never changed."""

    item = models.OneToOneField(OutboxItem, on_delete=models.PROTECT, related_name="signature")
    receipt_type = models.CharField(max_length=1)  # S or R
    receipt_number = models.PositiveBigIntegerField()  # rcptNo: this type's counter
    total_receipt_number = models.PositiveBigIntegerField()  # totRcptNo: all types
    internal_data = models.CharField(max_length=64)  # intrlData
    receipt_signature = models.CharField(max_length=64)  # rcptSign
    sdc_date = models.DateTimeField()  # vsdcRcptPbctDate
    sdc_id = models.CharField(max_length=20)
    mrc = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)
    raw = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("fiscal signature")
        verbose_name_plural = _("fiscal signatures")
        triggers = [
            pgtrigger.Protect(
                name="fiscal_signature_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.Before,
            )
        ]

    def __str__(self):
        return f"{self.receipt_number}/{self.total_receipt_number}"


class ReceiptMessage(models.Model):
    """A receipt to send by message once it is signed (fiscal.messages): asked for while it
    was pending, sent by the worker after signing, once."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    item = models.ForeignKey(OutboxItem, on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    address = models.CharField(_("address"), max_length=254)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("receipt message")
        verbose_name_plural = _("receipt messages")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.get_channel_display()} {self.address}"


class Proforma(models.Model):
    """A proforma quote (salesTyCd P, printed PS): priced from the shelf, signed by the VSDC
    with the device's proforma counter; it moves no stock and no money and is no sale."""

    customer_name = models.CharField(_("customer"), max_length=60, blank=True)
    buyer_tin = models.CharField(_("buyer's TIN"), max_length=9, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("proforma")
        verbose_name_plural = _("proformas")
        ordering = ["-pk"]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"PF-{self.pk:06d}"


class ProformaLine(models.Model):
    proforma = models.ForeignKey(Proforma, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("pos.Product", verbose_name=_("product"), on_delete=models.PROTECT)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), editable=False, **MONEY)

    class Meta:
        verbose_name = _("proforma line")
        verbose_name_plural = _("proforma lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.quantity} x {self.product}"


# Training mode's tables (fiscal.training), in a module of their own.
from fiscal.training_models import (  # noqa: E402
    TrainingLine,
    TrainingReceipt,
    TrainingTender,
    TrainingTill,
)

__all__ = [
    "Code",
    "Device",
    "Item",
    "ItemClass",
    "ItemRegistration",
    "OutboxItem",
    "Proforma",
    "ProformaLine",
    "ReceiptMessage",
    "Signature",
    "Till",
    "TrainingLine",
    "TrainingReceipt",
    "TrainingTender",
    "TrainingTill",
]
