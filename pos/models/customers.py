from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from pos.errors import InvalidPhoneNumber
from pos.phones import normalise_phone
from vevurn.languages import language_choices


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=150, db_index=True)
    phone = models.CharField(
        _("phone"), max_length=20, unique=True, help_text=_("Stored as +2507XXXXXXXX.")
    )
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    company = models.CharField(_("company"), max_length=150, blank=True)
    tin = models.CharField(_("TIN"), max_length=32, blank=True)
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    price_list = models.ForeignKey(
        "pos.PriceList",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("price list"),
        help_text=_("Blank: retail prices."),
    )
    notes = models.TextField(_("notes"), blank=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=language_choices,
        blank=True,
        help_text=_("Receipts and invoices in this language; empty: the shop's receipt language."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Derived totals, maintained by pos.services.customers.record_customer_purchase.
    total_spent = models.DecimalField(
        _("total spent"), max_digits=14, decimal_places=2, default=0, editable=False
    )
    visits = models.PositiveIntegerField(_("visits"), default=0, editable=False)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, editable=False)
    # What the customer owes on credit sales (positive = owes the shop).
    balance = models.DecimalField(
        _("balance"), max_digits=14, decimal_places=2, default=0, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.phone})"

    def clean(self):
        if self.phone:
            try:
                self.phone = normalise_phone(self.phone)
            except InvalidPhoneNumber as exc:
                raise ValidationError({"phone": exc.message}) from exc
