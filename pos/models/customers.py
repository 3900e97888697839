from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
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
    # What the shop owes the customer, as store credit and as loyalty points. Like `balance`,
    # each is the sum of the customer's ledger entries of its kind (pos.services.ledger).
    store_credit = models.DecimalField(
        _("store credit"), max_digits=14, decimal_places=2, default=0, editable=False
    )
    points = models.DecimalField(
        _("loyalty points"), max_digits=14, decimal_places=2, default=0, editable=False
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


class LedgerKind(models.TextChoices):
    """What a customer ledger entry moves; each kind sums to one cached balance."""

    DEBT = "debt", _("Owed on account")  # Customer.balance
    STORE_CREDIT = "store_credit", _("Store credit")  # Customer.store_credit
    GIFT_CARD = "gift_card", _("Gift card")  # GiftCard.balance
    POINTS = "points", _("Loyalty points")  # Customer.points


class GiftCard(models.Model):
    """A gift card: a code the bearer pays with. Its balance is what the shop owes on it (a
    liability), the sum of its ledger entries; sold, redeemed and expired through
    pos.services.ledger only."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gift_cards",
        verbose_name=_("customer"),
    )
    balance = models.DecimalField(
        _("balance"), max_digits=14, decimal_places=2, default=0, editable=False
    )
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("gift card")
        verbose_name_plural = _("gift cards")
        ordering = ["-created_at"]

    def __str__(self):
        return self.code


class LedgerEntry(models.Model):
    """One movement on a customer's (or a gift card's) account, keyed by the event that made it.

    `key` names that event and the entry's part in it ("sale:12/debt", "payment:40/debt"):
    unique, so posting the same event twice (a retried request, a re-synced offline sale)
    writes nothing the second time. Append-only: a correction is a new entry.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=LedgerKind.choices)
    key = models.CharField(_("event"), max_length=120, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("customer"),
    )
    gift_card = models.ForeignKey(
        GiftCard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("gift card"),
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    sale = models.ForeignKey(
        "pos.Sale",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("sale"),
    )
    # Why a manager issued or adjusted it (pos.services.ledger.adjust); empty for the others.
    note = models.CharField(_("reason"), max_length=200, blank=True, db_default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("customer ledger entry")
        verbose_name_plural = _("customer ledger entries")
        ordering = ["pk"]
        permissions = [
            (
                "adjust_balance",
                _("Can issue gift cards and adjust store credit, points and cards, with a reason"),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="gift_card", gift_card__isnull=False)
                    | (~models.Q(kind="gift_card") & models.Q(customer__isnull=False))
                ),
                name="ledger_entry_has_its_account",
            ),
        ]
        indexes = [models.Index(fields=["customer", "kind"], name="ledger_customer_kind")]

    def __str__(self):
        return self.key
