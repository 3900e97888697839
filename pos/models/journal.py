"""The tamper-evident journal: chained entries, chain heads and closings.

Entries and closings are append-only: PostgreSQL refuses UPDATE and DELETE of their rows by
trigger (django-pgtrigger), and on every database the models and their querysets refuse to
update or delete. Only `pos.services.journal` and `pos.services.closings` write them.
"""

import pgtrigger
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 16, "decimal_places": 2}
BACK_OFFICE_CHAIN = "back_office"


class AppendOnlyError(RuntimeError):
    """Raised for any attempt to change or delete a journal entry or a closing."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are never updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are never deleted.")

    _raw_delete = delete


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are never updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are never deleted.")


def _protect(name: str) -> list:
    return [
        pgtrigger.Protect(
            name=name, operation=pgtrigger.Update | pgtrigger.Delete, when=pgtrigger.Before
        )
    ]


class JournalKind(models.TextChoices):
    SALE = "sale", _("Sale")
    VOID = "void", _("Void")
    REFUND = "refund", _("Refund")
    ACCOUNT_PAYMENT = "account_payment", _("Payment on account")
    INVOICE_CANCELLED = "invoice_cancelled", _("Invoice cancelled")
    CASH_IN = "cash_in", _("Cash in")
    CASH_OUT = "cash_out", _("Cash out")
    NO_SALE = "no_sale", _("Drawer opened without a sale")
    PRICE_OVERRIDE = "price_override", _("Price override")
    DISCOUNT_APPROVAL = "discount_approval", _("Discount approval")
    SHIFT_OPENED = "shift_opened", _("Shift opened")
    SHIFT_ENDED = "shift_ended", _("Shift ended (counted)")
    SHIFT_CLOSED = "shift_closed", _("Shift closed")
    REPRINT = "reprint", _("Receipt reprint")
    STOCK_ADJUSTMENT = "stock_adjustment", _("Stock adjustment")
    STOCK_COUNT = "stock_count", _("Stock count")
    GOODS_RECEIPT = "goods_receipt", _("Goods received")
    SELLING_UNIT = "selling_unit", _("Selling unit added, changed or removed")
    ACCOUNT_ADJUSTMENT = "account_adjustment", _("Customer account adjusted")
    TRANSFER_SENT = "transfer_sent", _("Stock transfer sent")
    TRANSFER_RECEIVED = "transfer_received", _("Stock transfer received")


class ChainHead(models.Model):
    """The last entry of one chain, locked by every append to it (the last lock taken)."""

    chain = models.CharField(max_length=40, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    # The hash before last_hash: PostgreSQL's append returns it from the same UPDATE.
    prev_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self):
        return f"{self.chain} #{self.last_seq}"


class JournalEntry(AppendOnlyModel):
    """One event, in its chain: hash = sha256(prev_hash + payload), payload canonical JSON.

    The payload holds the event's time, business day, kind, reference and business fields;
    `kind`, `reference`, `business_day` and `created_at` repeat them as columns for queries, and
    the checker compares the two.
    """

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=24, choices=JournalKind.choices)
    reference = models.CharField(max_length=64)
    business_day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    payload = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["chain", "seq"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="journal_seq_unique_per_chain")
        ]
        indexes = [
            models.Index(fields=["business_day"], name="journal_day_idx"),
            models.Index(fields=["kind", "created_at"], name="journal_kind_created_idx"),
            models.Index(fields=["reference"], name="journal_reference_idx"),
        ]
        triggers = _protect("journal_append_only")

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.kind} {self.reference}"


class ClosingKind(models.TextChoices):
    DAY = "day", _("Daily")
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class Closing(AppendOnlyModel):
    """The totals of a business day, month or year, written once after it ends, never edited.

    `payload` (canonical JSON) holds the totals by tender and VAT rate, the perpetual grand
    total and each chain's last entry in the period; closings form their own chain by `seq`.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    kind = models.CharField(max_length=8, choices=ClosingKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    grand_total = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(default=timezone.now)
    payload = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("closing")
        verbose_name_plural = _("closings")
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_start"], name="one_closing_per_period")
        ]
        triggers = _protect("closing_append_only")

    def __str__(self):
        return f"{self.get_kind_display()} closing {self.period_start}"
