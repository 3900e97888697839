"""Rows of the MTN Mobile Money merchant statements a manager imported, to reconcile the till's
Mobile Money with what MTN holds (pos.services.momo_reconciliation)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}


class MobileMoneyStatementLine(models.Model):
    """One transaction of a statement; importing the same row again changes nothing."""

    transaction_id = models.CharField(_("MTN transaction id"), max_length=64, unique=True)
    external_id = models.CharField(
        _("external transaction id"), max_length=64, blank=True, db_index=True
    )
    occurred_at = models.DateTimeField(_("date"), db_index=True)
    status = models.CharField(_("status"), max_length=16)
    type = models.CharField(_("type"), max_length=24, blank=True)
    payer = models.CharField(_("from"), max_length=32, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("Mobile Money statement line")
        verbose_name_plural = _("Mobile Money statement lines")
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.transaction_id} {self.amount}"
