"""Selling in the back office: registers are edited; sales, shifts, payments and refunds are
ledgers, read-only here (voids, refunds and closes go through the selling services)."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from pos.admin.base import ReadOnlyAdmin, ReadOnlyInline, ShopAdmin
from pos.models import (
    CashMovement,
    HeldSale,
    Invoice,
    InvoiceReminder,
    MobileMoneyRequest,
    MobileMoneyStatementLine,
    Payment,
    ProductDaySales,
    Refund,
    RefundLine,
    Register,
    Sale,
    SaleLine,
    Sequence,
    Shift,
    ShiftCashier,
)
from pos.services.registers import (
    create_register,
    pair_display,
    unpair_display,
    update_register,
)


@admin.register(Register)
class RegisterAdmin(ShopAdmin):
    list_display = [
        "code",
        "name",
        "store",
        "is_active",
        "receipt_printer",
        "display_paired",
        "last_receipt_number",
    ]
    list_filter = ["is_active", "store"]
    list_select_related = ["store", "receipt_printer"]
    search_fields = ["code", "name"]
    readonly_fields = ["last_receipt_number"]
    actions = ["pair_customer_display", "unpair_customer_display"]

    @admin.display(boolean=True, description=gettext_lazy("customer display paired"))
    def display_paired(self, obj):
        return bool(obj.display_key)

    @admin.action(
        description=gettext_lazy("Pair a customer display (a new link; the old one stops)"),
        permissions=["change"],
    )
    def pair_customer_display(self, request, queryset):
        """The link is shown once: open it on the tablet facing the customer."""
        for register in queryset:
            token = pair_display(register=register, user=request.user)
            link = request.build_absolute_uri(reverse("register:paired_display", args=[token]))
            self.message_user(
                request,
                gettext("Customer display link for %(register)s (shown once): %(link)s")
                % {"register": register, "link": link},
                messages.SUCCESS,
            )

    @admin.action(
        description=gettext_lazy("Unpair the customer display (its link stops working)"),
        permissions=["change"],
    )
    def unpair_customer_display(self, request, queryset):
        for register in queryset:
            unpair_display(register=register, user=request.user)
        self.message_user(request, gettext("The customer display links stop working now."))

    def get_readonly_fields(self, request, obj=None):
        # The code prefixes every receipt number already printed: fixed once the register exists.
        return ["code", "last_receipt_number"] if obj else ["last_receipt_number"]

    def save_model(self, request, obj, form, change):
        """Through the register services: a rename writes the name only, on the locked row, so
        a sale made while the form was open keeps its receipt number (checkout owns the
        counter)."""
        if change:
            edited = {name: getattr(obj, name) for name in form.changed_data if name in form.fields}
            saved = update_register(register=obj, user=request.user, **edited)
            obj.last_receipt_number = saved.last_receipt_number
        else:
            create_register(register=obj, user=request.user)


class SaleLineInline(ReadOnlyInline):
    model = SaleLine
    fields = [
        "product_name",
        "sku",
        "quantity",
        "unit_price",
        "line_discount",
        "order_discount",
        "total",
        "tax",
    ]
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fk_name = "sale"
    fields = ["tender", "amount", "is_change", "reference", "created_at"]
    readonly_fields = fields


@admin.register(Sale)
class SaleAdmin(ReadOnlyAdmin):
    list_display = ["number", "created_at", "cashier", "customer", "total", "status"]
    list_filter = ["status", "register", "created_at"]
    search_fields = ["number", "customer__name", "customer__phone", "cashier__username"]
    date_hierarchy = "created_at"
    list_select_related = ["cashier", "customer"]
    inlines = [SaleLineInline, PaymentInline]
    exclude = ["request_fingerprint"]


class CashMovementInline(ReadOnlyInline):
    model = CashMovement
    fields = ["created_at", "kind", "amount", "reason", "created_by"]
    readonly_fields = fields


class ShiftCashierInline(ReadOnlyInline):
    """Cashiers who signed in on this shift's till with their PIN and sold on it."""

    model = ShiftCashier
    fields = ["cashier", "joined_at"]
    readonly_fields = fields


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    list_display = [
        "register",
        "cashier",
        "status",
        "opened_at",
        "closed_at",
        "opening_float",
        "over_short",
    ]
    list_filter = ["status", "register"]
    search_fields = ["cashier__username", "register__name"]
    date_hierarchy = "opened_at"
    list_select_related = ["register", "cashier"]
    inlines = [ShiftCashierInline, CashMovementInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "tender",
        "amount",
        "is_change",
        "reference",
        "sale",
        "refund",
        "invoice",
    ]
    list_filter = ["tender", "is_change"]
    search_fields = ["reference", "sale__number", "invoice__number"]
    date_hierarchy = "created_at"
    list_select_related = ["sale", "refund", "invoice"]


@admin.register(CashMovement)
class CashMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "shift", "kind", "amount", "reason", "created_by"]
    list_filter = ["kind"]
    list_select_related = ["shift__register", "shift__cashier", "created_by"]


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = ["product", "quantity", "unit_price", "total", "tax", "restock"]
    readonly_fields = fields


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["number", "created_at", "sale", "total", "tender", "created_by", "reason"]
    search_fields = ["number", "sale__number", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["sale", "created_by"]
    inlines = [RefundLineInline]


@admin.register(HeldSale)
class HeldSaleAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "register", "cashier", "customer", "note"]
    list_select_related = ["register", "cashier", "customer"]


class InvoiceReminderInline(ReadOnlyInline):
    model = InvoiceReminder
    fields = ["step", "sent_at"]
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "customer",
        "issued_at",
        "due_date",
        "total",
        "amount_paid",
        "status_shown",
    ]
    list_filter = ["status"]
    search_fields = ["number", "customer__name", "customer__phone"]
    list_select_related = ["customer"]
    inlines = [InvoiceReminderInline]

    @admin.display(description="status")
    def status_shown(self, obj):
        return obj.Status(obj.effective_status).label


@admin.register(MobileMoneyRequest)
class MobileMoneyRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "amount", "phone", "status", "financial_transaction_id", "reason"]
    list_filter = ["status"]
    search_fields = ["reference_id", "financial_transaction_id", "phone"]


@admin.register(MobileMoneyStatementLine)
class MobileMoneyStatementLineAdmin(ReadOnlyAdmin):
    """MTN statement rows, as imported (Reports > Mobile Money imports and reconciles them)."""

    list_display = ["occurred_at", "transaction_id", "amount", "status", "payer", "external_id"]
    list_filter = ["status"]
    search_fields = ["transaction_id", "external_id", "payer"]


class InternalAdmin(ReadOnlyAdmin):
    """Tables the services keep for themselves: read-only, and left off the admin's index (their
    pages stay reachable by address, for support)."""

    def get_model_perms(self, request):
        return {}


@admin.register(Sequence)
class SequenceAdmin(InternalAdmin):
    list_display = ["name", "last_number"]


@admin.register(ProductDaySales)
class ProductDaySalesAdmin(InternalAdmin):
    """The daily sums the line reports read; written by checkout only."""

    list_display = ["day", "product", "quantity", "total", "tax", "discounts", "cost"]
    list_select_related = ["product"]
    date_hierarchy = "day"
    search_fields = ["product__name", "product__sku"]
