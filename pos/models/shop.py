import copy
from contextvars import ContextVar
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.signals import request_finished, request_started
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pos import denominations
from vevurn.languages import language_choices

# Bump the version when the model gains fields, so no stale pickled row outlives a deploy.
CACHE_KEY = "pos:shop-settings:v3"

# Within a request, the settings read from the cache once: a receipt page formats ~15 amounts
# (each asks for the currency), a till's pay request reads them ~6 times; each read was a Redis
# round trip and an unpickling. None outside a request (a job, a command): every load() reads
# the cache, so a change made elsewhere is seen at once. Per thread (gthread workers) by being
# a context variable.
_request_memo: ContextVar[dict | None] = ContextVar("shop_settings_memo", default=None)


def _start_request_memo(**kwargs) -> None:
    _request_memo.set({})


def _end_request_memo(**kwargs) -> None:
    _request_memo.set(None)


request_started.connect(_start_request_memo, dispatch_uid="pos.shop_settings.memo.start")
request_finished.connect(_end_request_memo, dispatch_uid="pos.shop_settings.memo.end")


def validate_denominations(value: str) -> None:
    try:
        denominations.parse_list(value)
    except denominations.CountError as error:
        raise ValidationError(
            _("%(entry)s: list amounts above zero, each once, separated by commas."),
            params={"entry": error.denomination or value},
        ) from None


class ShopSettings(models.Model):
    """The shop's one settings record (pk=1). Read it with `ShopSettings.load()`."""

    name = models.CharField(_("shop name"), max_length=120, default="My shop")
    tin = models.CharField(_("TIN"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    currency_code = models.CharField(_("currency code"), max_length=3, default="RWF")
    currency_decimal_places = models.PositiveSmallIntegerField(
        _("currency decimal places"), default=0, validators=[MaxValueValidator(2)]
    )
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("18.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    prices_include_vat = models.BooleanField(_("shelf prices include VAT"), default=True)
    receipt_header = models.TextField(_("receipt header"), blank=True)
    receipt_footer = models.TextField(_("receipt footer"), blank=True)
    # When the logo (pos.models.ShopLogo) was last set; None: the shop has no logo.
    logo_updated_at = models.DateTimeField(
        _("logo changed at"), null=True, blank=True, editable=False
    )
    receipt_language = models.CharField(
        _("receipt language"),
        max_length=8,
        choices=language_choices,
        default="en",
        help_text=_(
            "Receipts, refund slips, invoices and reminders are printed in this language, "
            "unless the customer has one of their own."
        ),
    )
    allow_negative_stock = models.BooleanField(_("allow negative stock"), default=False)
    cashier_max_discount_percent = models.DecimalField(
        _("largest cashier discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Larger line or order discounts need a manager."),
    )
    till_lock_minutes = models.PositiveSmallIntegerField(
        _("lock the till after (minutes idle)"),
        default=5,
        validators=[MaxValueValidator(240)],
        help_text=_(
            "A till nobody touches for this long locks; a cashier unlocks it with their PIN. "
            "0: never."
        ),
    )
    cash_rounding = models.DecimalField(
        _("round cash to"),
        max_digits=8,
        decimal_places=2,
        default=0,
        db_default=0,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Cash due is rounded to this step (e.g. 5 or 10); 0 rounds nothing. Mobile Money "
            "and card pay the exact total."
        ),
    )
    cash_denominations = models.CharField(
        _("cash denominations"),
        max_length=200,
        default=denominations.RWF,
        db_default=denominations.RWF,
        validators=[validate_denominations],
        help_text=_(
            "The notes and coins counted at opening and closing, separated by commas, e.g. "
            "5000,2000,1000,500,100,50,20,10,5,1."
        ),
    )
    review_shift_close = models.BooleanField(
        _("a manager reviews each shift's close"),
        default=True,
        db_default=True,
        help_text=_(
            "A cashier ends their shift with a blind count; a manager then reviews the count, "
            "the expected cash and the over/short, and closes it (or recounts with a second "
            "person). Off: the cashier's count closes the shift at once."
        ),
    )
    loyalty_points_per_1000 = models.DecimalField(
        _("loyalty points per 1,000 paid"),
        max_digits=8,
        decimal_places=2,
        default=0,
        db_default=0,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Points a known customer earns for every 1,000 paid (not on what is put on account); "
            "0: no loyalty points."
        ),
    )
    points_value = models.DecimalField(
        _("value of a loyalty point"),
        max_digits=8,
        decimal_places=2,
        default=0,
        db_default=0,
        validators=[MinValueValidator(0)],
        help_text=_("What one point pays at the till; 0: points do not pay."),
    )
    points_valid_days = models.PositiveIntegerField(
        _("loyalty points valid for (days)"),
        default=0,
        db_default=0,
        help_text=_(
            "Points not spent this many days after they were earned expire (the oldest are spent "
            "first); 0: points never expire."
        ),
    )
    gift_card_valid_days = models.PositiveIntegerField(
        _("gift cards valid for (days)"),
        default=0,
        db_default=0,
        help_text=_("A gift card sold today expires after this many days; 0: cards never expire."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shop settings")
        verbose_name_plural = _("shop settings")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(CACHE_KEY)
        memo = _request_memo.get()
        if memo is not None:
            memo.clear()

    def delete(self, *args, **kwargs):
        raise RuntimeError("The shop settings record cannot be deleted.")

    def denomination_list(self) -> list[Decimal]:
        """The shop's notes and coins, largest first (the default list if the setting is bad)."""
        try:
            return denominations.parse_list(self.cash_denominations)
        except denominations.CountError:
            return denominations.parse_list(denominations.RWF)

    def document_language(self, customer=None) -> str:
        """The language of a receipt, slip or invoice: the customer's, else the shop's."""
        return getattr(customer, "language", "") or self.receipt_language

    @classmethod
    def load(cls) -> "ShopSettings":
        """The settings; within a request read once (then each caller gets its own copy, so
        that one changing its instance, as a form does, changes no other's)."""
        memo = _request_memo.get()
        if memo is not None and "settings" in memo:
            return memo["settings"]._copy()
        found = cache.get(CACHE_KEY)
        if found is None:
            found, _created = cls.objects.get_or_create(pk=1)
            cache.set(CACHE_KEY, found, 300)
        if memo is not None:
            memo["settings"] = found._copy()
        return found

    @classmethod
    def load_with(cls, keys: list[str]) -> dict:
        """Within a request, read the settings into its memo (what `load()` reads then) with the
        cache's values under `keys`, in one cache round trip: the API's checkout reads the
        till's mode with them (pos.hooks.till_mode_keys). The values found, by key (a missing
        one left out)."""
        memo = _request_memo.get()
        if memo is None or "settings" in memo:
            return cache.get_many(keys) if keys else {}
        found = cache.get_many([CACHE_KEY, *keys])
        settings = found.pop(CACHE_KEY, None)
        if settings is None:
            cls.load()  # not cached: from the database, then cached, as load() does
        else:
            memo["settings"] = settings._copy()
        return found

    def _copy(self) -> "ShopSettings":
        """A copy as pickling makes one (Model.__reduce__: its own _state, the Django version
        that __setstate__ otherwise warns about), without pickling."""
        return copy.copy(self)


class ShopLogo(models.Model):
    """The shop's logo (pk=1) as a PNG at most LOGO_WIDTH dots wide (pos.services.shop_logo):
    on the idle customer display, atop receipts, and printed on ESC/POS receipts.

    Kept apart from ShopSettings, which is cached whole and read by every sale.
    """

    png = models.BinaryField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("shop logo")

    def __str__(self):
        return str(self._meta.verbose_name)
