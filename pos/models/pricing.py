"""Price lists and scale label templates: how a shelf price and a scanned label are read.

Retail is the default: a product's retail price (or its selling unit's price). A price list
(wholesale, staff) belongs to the customers given it; its rules, and rules of no list (for every
customer: "10 or more at 1,300"), set a price for a product (in one of its selling units, or its
stock unit) from a quantity on, between optional dates. The lowest price that applies wins
(pos.services.price_lists); discount limits and minimum prices apply on top of it at checkout.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pos.quantities import STORED

MONEY = {"max_digits": 14, "decimal_places": 2, "validators": [MinValueValidator(0)]}
EAN13_BODY = 12  # the digits before the check digit


class PriceList(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PriceRule(models.Model):
    """A price for a product from a quantity on (in the unit it applies to), on a list (or for
    everyone), between optional dates."""

    price_list = models.ForeignKey(
        PriceList,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("price list"),
        help_text=_("Blank: every customer (a quantity break on the retail price)."),
    )
    product = models.ForeignKey("pos.Product", on_delete=models.CASCADE, related_name="price_rules")
    selling_unit = models.ForeignKey(
        "pos.SellingUnit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="price_rules",
        help_text=_("Blank: the product's stock unit."),
    )
    min_quantity = models.DecimalField(
        _("from quantity"),
        default=1,
        validators=[MinValueValidator(Decimal("0.001"))],
        **STORED,
    )
    price = models.DecimalField(_("price"), **MONEY)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["product", "price_list", "min_quantity"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_quantity__gt=0) & Q(price__gte=0),
                name="price_rule_quantity_and_price",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(starts_on__lte=models.F("ends_on")),
                name="price_rule_dates_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.price_list or _('Retail')}: {self.product_id} from {self.min_quantity}"

    def clean(self):
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            raise ValidationError({"ends_on": _("The end is before the start.")})
        if (
            self.selling_unit_id
            and self.product_id
            and self.selling_unit.product_id != self.product_id
        ):
            raise ValidationError({"selling_unit": _("That unit is another product's.")})


class ScaleLabelTemplate(models.Model):
    """An in-store EAN-13 layout printed by a scale: prefix (20-29), item code, embedded value.

    prefix + item digits + value digits = 12 digits, then the EAN-13 check digit. The value is
    a weight (in the product's unit, `value_decimals` places: 3 for grams of a kg) or a price
    (`value_decimals` places of the currency)."""

    class Value(models.TextChoices):
        WEIGHT = "weight", _("Weight")
        PRICE = "price", _("Price")

    name = models.CharField(_("name"), max_length=80, unique=True)
    prefix = models.CharField(
        _("prefix"), max_length=2, unique=True, help_text=_("Two digits, 20 to 29.")
    )
    item_digits = models.PositiveSmallIntegerField(
        _("item code digits"), validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    value_digits = models.PositiveSmallIntegerField(
        _("value digits"), validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    value_kind = models.CharField(_("value"), max_length=8, choices=Value.choices)
    value_decimals = models.PositiveSmallIntegerField(
        _("value decimals"), default=3, validators=[MaxValueValidator(3)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["prefix"]
        constraints = [
            models.CheckConstraint(
                condition=Q(prefix__regex=r"^2[0-9]$"), name="scale_label_prefix_20_29"
            ),
        ]

    def __str__(self):
        return f"{self.prefix}: {self.name}"

    def clean(self):
        errors = {}
        if not (self.prefix or "").isdigit() or len(self.prefix) != 2 or self.prefix[0] != "2":
            errors["prefix"] = _("In-store codes start with 20 to 29.")
        digits = len(self.prefix or "") + (self.item_digits or 0) + (self.value_digits or 0)
        if digits != EAN13_BODY:
            errors["value_digits"] = _(
                "Prefix, item code and value must add up to 12 digits (before the check "
                "digit); these add up to %(n)s."
            ) % {"n": digits}
        if errors:
            raise ValidationError(errors)
