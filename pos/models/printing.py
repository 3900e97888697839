"""Receipt printers on the shop's network (ESC/POS over raw TCP), each assigned to tills."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReceiptPrinter(models.Model):
    class Width(models.TextChoices):
        MM58 = "58", _("58 mm")
        MM80 = "80", _("80 mm")

    class CodePage(models.TextChoices):
        # The code pages python-escpos selects (ESC t n) on a generic ESC/POS printer; French
        # and Kinyarwanda need accented Latin letters.
        CP850 = "CP850", _("CP850 (Western Europe)")
        CP858 = "CP858", _("CP858 (Western Europe, with €)")
        CP1252 = "CP1252", _("CP1252 (Windows Latin)")
        CP437 = "CP437", _("CP437 (USA)")

    name = models.CharField(_("name"), max_length=60, unique=True)
    host = models.CharField(
        _("address"), max_length=253, help_text=_("The printer's IP address or host name.")
    )
    port = models.PositiveIntegerField(
        _("port"), default=9100, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    width = models.CharField(_("paper width"), max_length=2, choices=Width, default=Width.MM80)
    code_page = models.CharField(
        _("code page"), max_length=8, choices=CodePage, default=CodePage.CP850
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout (seconds)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    kicks_drawer = models.BooleanField(
        _("cash drawer on this printer"),
        default=True,
        help_text=_("The drawer plugged into the printer opens after a cash sale or refund."),
    )
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("receipt printer")
        verbose_name_plural = _("receipt printers")
        ordering = ["name"]

    def __str__(self):
        return self.name
