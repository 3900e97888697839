from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, JSONField, Q, Value
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from pos.barcodes import validate_barcode
from pos.quantities import MAX_PLACES, STORED, format_quantity, show_quantity

MONEY = {"max_digits": 14, "decimal_places": 2, "validators": [MinValueValidator(0)]}


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True)
    contact_name = models.CharField(_("contact"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    tin = models.CharField(_("TIN"), max_length=32, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProductStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    DISCONTINUED = "discontinued", _("Discontinued")


class StockUnit(models.TextChoices):
    PIECE = "piece", _("piece")
    KG = "kg", _("kg")
    G = "g", _("g")
    L = "l", _("l")
    M = "m", _("m")


class Product(models.Model):
    """A thing the shop sells.

    Stock is per store (`StockLevel`, issue 29). `stock_on_hand` stays, as something else: the
    business's total over its stores, the sum of the product's levels, written by
    pos.services.stock.apply_movements only, in the same transaction and under the same lock
    (the product's row, which every stock change and every sale locks anyway). Consolidated
    screens (the inventory report, the API's product list, the admin's) read it without
    summing; nothing decides with it (the till, checkout and its checks use the till's store's
    level). pos.integrity checks it against the levels and the ledger.
    `reorder_level` is the level every store starts with (a store may set its own).
    """

    name = models.CharField(_("name"), max_length=200, db_index=True)
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    barcode = models.CharField(
        _("barcode"),
        max_length=32,
        blank=True,
        null=True,
        unique=True,
        validators=[validate_barcode],
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("supplier"),
    )
    # A variant (red, 128 GB) is a product of its own (SKU, barcode, price, stock) under the
    # product it varies; `attributes` names what sets it apart: {"colour": "red"}.
    variant_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="variants",
        verbose_name=_("variant of"),
    )
    attributes = models.JSONField(
        _("attributes"), default=dict, db_default=Value({}, JSONField()), blank=True
    )
    # The item code a scale prints on its labels (pos.models.ScaleLabelTemplate), if any.
    scale_code = models.PositiveIntegerField(
        _("scale item code"), null=True, blank=True, unique=True
    )
    brand = models.CharField(_("brand"), max_length=80, blank=True)
    model = models.CharField(_("model"), max_length=80, blank=True)
    colour = models.CharField(_("colour"), max_length=40, blank=True)
    cost_price = models.DecimalField(_("cost price"), default=0, **MONEY)
    retail_price = models.DecimalField(_("retail price"), **MONEY)
    wholesale_price = models.DecimalField(_("wholesale price"), null=True, blank=True, **MONEY)
    minimum_price = models.DecimalField(
        _("minimum price"),
        **MONEY,
        help_text=_("The floor for any discount or price override."),
    )
    # Database defaults too (here and on the other columns added with them): rows written by
    # code that predates them (the previous release during an upgrade, bulk SQL) get them.
    unit = models.CharField(
        _("stock unit"),
        max_length=8,
        choices=StockUnit.choices,
        default=StockUnit.PIECE,
        db_default=StockUnit.PIECE,
    )
    quantity_places = models.PositiveSmallIntegerField(
        _("decimal places"),
        default=0,
        db_default=0,
        validators=[MaxValueValidator(MAX_PLACES)],
        help_text=_("0 for pieces; up to 3 for goods sold by weight or length (0.750 kg)."),
    )
    stock_on_hand = models.DecimalField(
        _("stock on hand (all stores)"), default=0, editable=False, **STORED
    )
    reorder_level = models.DecimalField(
        _("reorder level"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Every store's, unless the store sets its own."),
        **STORED,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ProductStatus.choices, default=ProductStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        indexes = [
            # Name search walks the active products in name order and stops at the first
            # matches (pos.selectors.product_search): from the index alone while the table's
            # pages are all-visible, and testing "name contains" on the UPPER(name) kept in it
            # rather than computing UPPER for every entry passed (11 ms instead of 22 for
            # 86,000 entries).
            models.Index(
                F("name"),
                F("id"),
                Upper("name"),
                condition=Q(status=ProductStatus.ACTIVE),
                name="pos_product_active_name",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_price__lte=F("retail_price")),
                name="product_minimum_le_retail",
                violation_error_message=_("The minimum price cannot exceed the retail price."),
            ),
            models.CheckConstraint(
                condition=Q(cost_price__gte=0)
                & Q(retail_price__gte=0)
                & Q(minimum_price__gte=0)
                & (Q(wholesale_price__isnull=True) | Q(wholesale_price__gte=0)),
                name="product_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity_places__lte=MAX_PLACES),
                name="product_quantity_places_at_most_3",
            ),
        ]
        permissions = [
            ("adjust_stock", "Can adjust stock with a reason"),
            ("receive_stock", "Can receive purchase orders"),
            ("count_stock", "Can post stock counts"),
            ("import_products", "Can import and export products as CSV"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.barcode == "":
            self.barcode = None
        if self.barcode and SellingUnit.objects.filter(barcode=self.barcode).exists():
            raise ValidationError({"barcode": _("A selling unit already has this barcode.")})
        if self.variant_of_id is not None:
            if self.variant_of_id == self.pk or self.variant_of.variant_of_id is not None:
                raise ValidationError(
                    {"variant_of": _("A variant belongs to a product that is not a variant.")}
                )
        if not isinstance(self.attributes, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int) for k, v in self.attributes.items()
        ):
            raise ValidationError(
                {"attributes": _('Attributes are names and values, e.g. {"colour": "red"}.')}
            )
        if (
            self.minimum_price is not None
            and self.retail_price is not None
            and self.minimum_price > self.retail_price
        ):
            raise ValidationError(
                {"minimum_price": _("The minimum price cannot exceed the retail price.")}
            )
        places = self.quantity_places
        if places is not None and places <= MAX_PLACES:
            quantum = Decimal(1).scaleb(-places)
            for name in ("stock_on_hand", "reorder_level"):
                value = getattr(self, name)
                if value is not None and Decimal(value) != Decimal(value).quantize(quantum):
                    raise ValidationError(
                        {
                            "quantity_places": _(
                                "The %(field)s %(value)s needs more decimal places."
                            )
                            % {"field": self._meta.get_field(name).verbose_name, "value": value}
                        }
                    )

    @property
    def variant_label(self) -> str:
        """`red, 128 GB`: the values of the variant's attributes."""
        return ", ".join(str(v) for v in (self.attributes or {}).values())

    def format_quantity(self, quantity, *, localized: bool = True) -> str:
        """`0.750 kg`, `3`: a quantity of this product with its unit's places (pieces bare), in
        the active language's format (`0,750 kg` in French) unless not `localized` (a stored
        note)."""
        show = show_quantity if localized else format_quantity
        text = show(quantity, self.quantity_places)
        return text if self.unit == StockUnit.PIECE else f"{text} {self.get_unit_display()}"

    @property
    def cost_exceeds_retail(self) -> bool:
        return (self.cost_price or 0) > (self.retail_price or 0)


# What a manager edits on a product, in the admin, the CSV import/export and the API (stock on
# hand changes only through the stock ledger).
PRODUCT_EDITABLE_FIELDS = [
    "name",
    "sku",
    "barcode",
    "category",
    "supplier",
    "brand",
    "model",
    "colour",
    "cost_price",
    "retail_price",
    "wholesale_price",
    "minimum_price",
    "unit",
    "quantity_places",
    "reorder_level",
    "status",
    "variant_of",
    "attributes",
    "scale_code",
]


class SellingUnit(models.Model):
    """Another unit a product is sold in (a carton of 24, a 5 kg bag): its own barcode and
    price, `factor` stock units each. Without a price it sells at factor × the retail price."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="selling_units", verbose_name=_("product")
    )
    name = models.CharField(_("name"), max_length=40, help_text=_("e.g. Carton"))
    factor = models.DecimalField(
        _("factor"),
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_("How many stock units one of it holds, e.g. 24."),
        **STORED,
    )
    barcode = models.CharField(
        _("barcode"),
        max_length=32,
        blank=True,
        null=True,
        unique=True,
        validators=[validate_barcode],
    )
    price = models.DecimalField(
        _("price"),
        null=True,
        blank=True,
        help_text=_("Blank: the factor times the product's retail price."),
        **MONEY,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["product", "factor"]
        constraints = [
            models.CheckConstraint(condition=Q(factor__gt=0), name="selling_unit_factor_positive"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="selling_unit_price_not_negative",
            ),
            models.UniqueConstraint(fields=["product", "name"], name="one_selling_unit_name"),
        ]

    def __str__(self):
        return f"{self.name} ({show_quantity(self.factor, self.product.quantity_places)})"

    @property
    def label(self) -> str:
        """`Carton (24)`: the name and how many stock units it holds (`Sack (0,5)` in French)."""
        return f"{self.name} ({show_quantity(self.factor)})"

    def shelf_price(self, retail_price: Decimal) -> Decimal:
        """Its own price, or factor × the product's retail price (rounded once, half-up)."""
        from pos.money import to_currency

        return self.price if self.price is not None else to_currency(self.factor * retail_price)

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.barcode == "":
            self.barcode = None
        if self.barcode and Product.objects.filter(barcode=self.barcode).exists():
            raise ValidationError({"barcode": _("A product already has this barcode.")})
        if self.factor is not None and self.product_id is not None:
            places = self.product.quantity_places
            if self.factor != self.factor.quantize(Decimal(1).scaleb(-places)):
                raise ValidationError(
                    {"factor": _("The factor needs more decimal places than the product's unit.")}
                )
