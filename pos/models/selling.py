"""Selling: registers and shifts, sales and their lines, payments, held carts, refunds, invoices.

Money rows are append-only ledgers: a sale's paid amount is the sum of its payments (change is
a negative cash payment), a shift's expected cash is a sum, and voids and refunds are new rows.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pos.models.stores import Store, default_store_pk
from pos.quantities import STORED, show_quantity

MONEY = {"max_digits": 14, "decimal_places": 2}
USER = settings.AUTH_USER_MODEL


class Tender(models.TextChoices):
    CASH = "cash", _("Cash")
    MOBILE_MONEY = "mobile_money", _("Mobile Money")  # MTN or Airtel: Payment.provider
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ACCOUNT = "account", _("On account")
    STORE_CREDIT = "store_credit", _("Store credit")  # the customer's (pos.services.ledger)
    GIFT_CARD = "gift_card", _("Gift card")  # reference: the card's code
    POINTS = "points", _("Loyalty points")  # the customer's, at the shop's value per point

    @classmethod
    def label_of(cls, code: str) -> str:
        """The tender's name as screens and reports show it (an unknown code as it is)."""
        return str(cls(code).label) if code in cls.values else code


class MobileProvider(models.TextChoices):
    """Who carried a Mobile Money payment (pos.mobile_money.providers holds their clients)."""

    MTN = "mtn", _("MTN MoMo")
    AIRTEL = "airtel", _("Airtel Money")


class Register(models.Model):
    """A till, in one store. Its counter row numbers its receipts (R1-000123) without gaps."""

    # Required: a till created without one goes to the first active store (a one-store shop's
    # only store); the admin asks for it.
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="registers",
        default=default_store_pk,
    )
    name = models.CharField(_("name"), max_length=60, unique=True)
    code = models.CharField(
        _("code"), max_length=8, unique=True, help_text=_("Receipt number prefix, e.g. R1.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_receipt_number = models.PositiveIntegerField(default=0, editable=False)
    receipt_printer = models.ForeignKey(
        "pos.ReceiptPrinter",
        verbose_name=_("receipt printer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registers",
        help_text=_(
            "Receipts, refund slips and shift reports print here; without one, the browser prints."
        ),
    )
    # The customer display's pairing (pos.services.registers.pair_display): the SHA-256 of the
    # secret in the display's link; empty: no paired display.
    display_key = models.CharField(max_length=64, blank=True, editable=False, db_index=True)

    class Meta:
        verbose_name = _("register")
        verbose_name_plural = _("registers")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Shift(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        # The cashier has counted (blind) and left; a manager reviews the count and closes.
        ENDED = "ended", _("Ended, awaiting review")
        CLOSED = "closed", _("Closed")

    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="shifts")
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="shifts")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    opening_float = models.DecimalField(_("opening float"), **MONEY)
    # The float counted note by note ({"5000": 2, "500": 4}); empty when typed as a total.
    opening_count = models.JSONField(default=dict, blank=True, editable=False)
    # Written once when the cashier ends the shift (pos.services.shifts.end_shift): their blind
    # count ({"counted": {tender: amount}, "denominations": {...}}) and what was expected then
    # ({tender: amount}); a recount by the reviewing manager and a second person goes to
    # `recount`. Over/short is computed from these once, at close, and stored.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_count = models.JSONField(default=dict, blank=True, editable=False)
    expected = models.JSONField(default=dict, blank=True, editable=False)
    recount = models.JSONField(default=dict, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Written once at close: the Z-report, with expected, counted and over/short per tender.
    z_report = models.JSONField(default=dict, blank=True, editable=False)
    over_short = models.DecimalField(_("cash over/short"), **MONEY, null=True, blank=True)
    closing_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["register"], condition=Q(status="open"), name="one_open_shift_per_register"
            ),
            models.UniqueConstraint(
                fields=["cashier"], condition=Q(status="open"), name="one_open_shift_per_cashier"
            ),
        ]

    def __str__(self):
        opened = timezone.localtime(self.opened_at)
        return f"{self.register} · {self.cashier} · {opened:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def awaits_review(self) -> bool:
        return self.status == self.Status.ENDED

    def is_worked_by(self, user) -> bool:
        """The cashier who opened the shift, or one who signed in on its till with their PIN."""
        return self.cashier_id == user.pk or self.joined.filter(cashier_id=user.pk).exists()


class ShiftCashier(models.Model):
    """A cashier who signed in with their PIN on another cashier's open shift (a shared till):
    they sell on it, under their own name."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="joined")
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cashier on a shared shift")
        verbose_name_plural = _("cashiers on shared shifts")
        constraints = [
            models.UniqueConstraint(fields=["shift", "cashier"], name="one_join_per_shift_cashier")
        ]

    def __str__(self):
        return f"{self.shift} · {self.cashier}"


class CashMovement(models.Model):
    """Cash put into (paid in) or taken out of (paid out, negative) the drawer, with a reason."""

    class Kind(models.TextChoices):
        PAID_IN = "paid_in", _("Cash in")
        PAID_OUT = "paid_out", _("Pay-out")
        # Cash taken from the drawer to the safe or the bank during the shift (not spent).
        DROP = "drop", _("Cash drop")

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="cash_movements")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cash movement")
        verbose_name_plural = _("cash movements")
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}: {self.reason}"


class Sale(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        VOIDED = "voided", _("Voided")

    number = models.CharField(_("receipt number"), max_length=24, unique=True)
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="sales")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="sales")
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="sales")
    customer = models.ForeignKey(
        "pos.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    idempotency_key = models.UUIDField(unique=True)
    request_fingerprint = models.CharField(max_length=64)
    subtotal = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    change_given = models.DecimalField(**MONEY, default=0)
    # Cash due rounded to the shop's step: what the customer paid beyond (or short of) the
    # total, shown as its own receipt line. Paid = total + cash_rounding.
    cash_rounding = models.DecimalField(**MONEY, default=0, db_default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The shop-local date of created_at, written once at checkout: reports group and filter
    # sales by it without converting every row's time to the shop's time zone.
    business_day = models.DateField(default=timezone.localdate)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=200, blank=True)
    # A business buyer's TIN and RRA purchase code, typed at the till: sent with the fiscal
    # receipt (custTin, prcOrdCd) and printed on it.
    buyer_tin = models.CharField(_("buyer's TIN"), max_length=9, blank=True, default="")
    purchase_code = models.CharField(_("purchase code"), max_length=20, blank=True, default="")
    receipt_prints = models.PositiveIntegerField(default=0, editable=False)

    # True on the sale checkout() returns for a retried idempotency key (nothing was written).
    replayed = False

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("sell", "Can sell at the till and open and close their own shift"),
            ("approve_discount", "Can give or approve discounts beyond the cashier limit"),
            ("void_sale", "Can void a sale in the same open shift"),
            ("refund_sale", "Can refund a sale"),
            ("refund_without_receipt", "Can refund without a receipt"),
            ("close_any_shift", "Can close another cashier's shift"),
            ("view_reports", "Can view reports and the manager dashboard"),
            ("open_cash_drawer", "Can open the cash drawer without a sale"),
        ]
        indexes = [
            # Reports: completed (or voided) sales of a period.
            models.Index(fields=["status", "created_at"], name="sale_status_created_idx"),
            models.Index(fields=["business_day", "status"], name="sale_day_status_idx"),
        ]

    def __str__(self):
        return self.number


class SaleLine(models.Model):
    """A sold product with its price, discount, VAT and cost snapshot; never edited."""

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey("pos.Product", on_delete=models.PROTECT, related_name="sale_lines")
    product_name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    # In the product's stock unit (0.750 kg, 48 pieces).
    quantity = models.DecimalField(**STORED)
    # Sold as: `unit_quantity` of `unit_name` holding `unit_factor` stock units each (2 ×
    # Carton of 24); unit_quantity null: sold in the stock unit (the quantity). Prices on the
    # line (shelf_price, unit_price) are per unit sold.
    unit_name = models.CharField(max_length=40, blank=True, default="", db_default="")
    unit_factor = models.DecimalField(default=1, db_default=1, **STORED)
    unit_quantity = models.DecimalField(null=True, blank=True, **STORED)
    # Which price applied when not the shelf price: "Wholesale, from 10".
    price_source = models.CharField(max_length=80, blank=True, default="", db_default="")
    shelf_price = models.DecimalField(**MONEY)
    unit_price = models.DecimalField(**MONEY)
    line_discount = models.DecimalField(**MONEY, default=0)
    order_discount = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    unit_cost = models.DecimalField(**MONEY)
    # Sold offline with less in stock than it took: the stock went below zero (issue 26).
    oversold = models.BooleanField(_("oversold offline"), default=False, db_default=False)

    class Meta:
        verbose_name = _("sale line")
        verbose_name_plural = _("sale lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sale_line_quantity_positive")
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"

    @property
    def discount(self):
        return self.line_discount + self.order_discount

    @property
    def sold_quantity(self):
        """How many of the unit it was sold in (2 cartons; 0.750 kg)."""
        return self.quantity if self.unit_quantity is None else self.unit_quantity

    @property
    def sold_as(self) -> str:
        """`2 x Carton (24)`, `0.75 kg`, `3`: as the receipt says it."""
        if self.unit_quantity is not None:
            factor = show_quantity(self.unit_factor)
            return f"{show_quantity(self.unit_quantity)} x {self.unit_name} ({factor})"
        text = show_quantity(self.quantity)
        return f"{text} {self.unit_name}" if self.unit_name else text


class ProductDaySales(models.Model):
    """The lines of every sale rung on one shop-local day for one product, summed.

    Voided sales stay in (a void only changes the sale's status); reports take them out, and
    refunds, from their own rows, which are few. Written only by checkout, in the sale's
    transaction and under the product's row lock, so it always equals the sum of those lines.
    """

    day = models.DateField()
    product = models.ForeignKey("pos.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(default=0, **STORED)
    total = models.DecimalField(**MONEY, default=0)
    tax = models.DecimalField(**MONEY, default=0)
    discounts = models.DecimalField(**MONEY, default=0)
    cost = models.DecimalField(**MONEY, default=0)  # unit cost snapshot × quantity

    class Meta:
        verbose_name = _("daily product sales")
        verbose_name_plural = _("daily product sales")
        constraints = [
            models.UniqueConstraint(fields=["day", "product"], name="one_row_per_product_day")
        ]

    def __str__(self):
        return f"{self.day} · {self.product_id}: {self.quantity}"


class Payment(models.Model):
    """Money in (positive) or out (negative) in one tender. A sale's paid = SUM(its payments)."""

    sale = models.ForeignKey(
        Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    refund = models.ForeignKey(
        "pos.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    invoice = models.ForeignKey(
        "pos.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    tender = models.CharField(max_length=16, choices=Tender.choices)
    amount = models.DecimalField(**MONEY)
    is_change = models.BooleanField(default=False)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # Mobile Money only: whose network carried it (blank for every other tender).
    provider = models.CharField(
        _("Mobile Money provider"), max_length=8, choices=MobileProvider.choices, blank=True
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["id"]
        # Reports: the payments of a period (a sale's own payments carry the sale's time).
        indexes = [models.Index(fields=["created_at"], name="payment_created_idx")]

    def __str__(self):
        return f"{self.tender_label} {self.amount}"

    @property
    def tender_label(self) -> str:
        """The tender as receipts and statements name it: Mobile Money by its network."""
        if self.tender == Tender.MOBILE_MONEY and self.provider in MobileProvider.values:
            return str(MobileProvider(self.provider).label)
        return str(self.get_tender_display())


class HeldSale(models.Model):
    """A parked cart, resumed later on the same register. Holding moves no stock."""

    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="held_sales")
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "pos.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cart = models.JSONField()
    note = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("held sale")
        verbose_name_plural = _("held sales")
        ordering = ["-created_at"]

    def __str__(self):
        return self.note or f"Held sale #{self.pk}"


class Refund(models.Model):
    number = models.CharField(max_length=24, unique=True)
    sale = models.ForeignKey(
        Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="refunds")
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200)
    tender = models.CharField(max_length=16, choices=Tender.choices, default=Tender.CASH)
    total = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="refund_created_idx")]

    def __str__(self):
        return self.number


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="lines")
    sale_line = models.ForeignKey(
        SaleLine, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_lines"
    )
    product = models.ForeignKey("pos.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**STORED)  # in the product's stock unit
    unit_price = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    # The VAT rate of the returned goods: the sale line's, or the shop's for a no-receipt return.
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    restock = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="refund_line_quantity_positive"
            )
        ]
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")

    def __str__(self):
        return f"{self.quantity} × {self.product_id}"

    @property
    def returned_in_unit(self):
        """How many of the unit it was sold in came back (1 carton; 0.25 kg)."""
        line = self.sale_line
        if line is None or line.unit_quantity is None:
            return self.quantity
        return self.quantity / line.unit_factor

    @property
    def returned_as(self) -> str:
        """`1 x Carton (24)`, `0.25 kg`, `3`: as the receipt said it was sold."""
        line = self.sale_line
        if line is not None and line.unit_quantity is not None:
            factor = show_quantity(line.unit_factor)
            return f"{show_quantity(self.returned_in_unit)} x {line.unit_name} ({factor})"
        text = show_quantity(self.quantity)
        unit = line.unit_name if line is not None else ""
        return f"{text} {unit}" if unit else text


class InvoiceQuerySet(models.QuerySet):
    """The one definition of an open and of an overdue invoice, for every query."""

    def open(self):
        """Still owed: sent, or partly paid."""
        return self.filter(status__in=Invoice.OPEN_STATUSES)

    def overdue(self, today=None):
        """Open and past its due date (shop-local `today`)."""
        return self.open().filter(due_date__lt=today or timezone.localdate())


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        PARTLY_PAID = "partly_paid", _("Partly paid")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.SENT, Status.PARTLY_PAID)

    number = models.CharField(max_length=24, unique=True)
    customer = models.ForeignKey("pos.Customer", on_delete=models.PROTECT, related_name="invoices")
    sale = models.OneToOneField(
        Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField()
    total = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(**MONEY, default=0)
    # Returns of the invoiced sale while it was still owed: credited, never paid out.
    credited = models.DecimalField(**MONEY, default=0)
    # Stored: draft, sent, partly_paid, paid, cancelled. Overdue follows from the due date.
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_at"]

    def __str__(self):
        return self.number

    @property
    def balance_due(self):
        return self.total - self.amount_paid - self.credited

    @property
    def effective_status(self) -> str:
        if self.status in self.OPEN_STATUSES and self.due_date < timezone.localdate():
            return self.Status.OVERDUE
        return self.status


class InvoiceReminder(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="reminders")
    step = models.PositiveSmallIntegerField()
    # Recorded first, mailed after (pos/services/invoice_reminders.py): null until sent.
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # a run is mailing it
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "step"], name="one_reminder_per_step")
        ]

    def __str__(self):
        return f"{self.invoice} reminder {self.step}"


class MobileMoneyRequest(models.Model):
    """A request-to-pay sent to a Mobile Money provider (MTN or Airtel), stored with its
    reference id before the provider is called."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCESSFUL = "successful", _("Successful")
        FAILED = "failed", _("Failed")

    reference_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(
        _("provider"), max_length=8, choices=MobileProvider.choices, default=MobileProvider.MTN
    )
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="momo_requests")
    amount = models.DecimalField(**MONEY)
    phone = models.CharField(max_length=16)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    financial_transaction_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="momo_request"
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # When the worker next asks MTN (pos.services.mobile_money.poll_due); null: at once.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # The till's checkout key of the cart it was asked for (the request key), if any.
    request_key = models.UUIDField(null=True, blank=True, db_index=True)
    # When the cashier cleared or held the cart: a success after this is money with no sale,
    # flagged for a manager, never used by a sale (as when its cart was paid another way).
    abandoned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Mobile Money request")
        verbose_name_plural = _("Mobile Money requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_poll_at"],
                condition=models.Q(status="pending") | models.Q(status="failed"),
                name="momo_poll_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.get_provider_display()} {self.amount} {self.get_status_display()}"


class Sequence(models.Model):
    """A gap-free document counter (invoices, refunds), locked while a number is taken."""

    name = models.CharField(max_length=32, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")

    def __str__(self):
        return f"{self.name}: {self.last_number}"
