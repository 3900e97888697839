"""Serializers: validate input into plain values for the services; render models for clients.

Money fields are `MoneyField` (strings with the currency's places); timestamps are ISO 8601 with
the offset (DRF's default with USE_TZ). Related objects are written as ids and checked by the
services, so a cart of 20 lines costs the same queries as a cart of one.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pos import hooks
from pos.models import (
    PRODUCT_EDITABLE_FIELDS,
    CashMovement,
    Category,
    Customer,
    GiftCard,
    HeldSale,
    Invoice,
    MobileProvider,
    Payment,
    PriceList,
    PriceRule,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Refund,
    RefundLine,
    Register,
    Sale,
    SaleLine,
    ScaleLabelTemplate,
    SellingUnit,
    Shift,
    StockLevel,
    StockMovement,
    Store,
    Supplier,
    Tender,
)
from pos.models.stock import MovementKind
from pos.services.stock import ADJUSTMENT_KINDS

from .fields import IdField, MoneyField, QuantityField

# --- Catalogue ----------------------------------------------------------------------------------


class CleanedModelSerializer(serializers.ModelSerializer):
    """Runs the model's own checks (`clean`, field validators) on the row as it would be
    saved, and answers their messages per field (a 400), before anything is written."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        instance = self.instance or model()
        row = model(
            **{f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}
        )
        for name, value in attrs.items():
            setattr(row, name, value)
        try:
            row.full_clean(validate_unique=False, validate_constraints=False)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class SellingUnitSerializer(CleanedModelSerializer):
    factor = QuantityField(min_value=Decimal("0.001"))
    price = MoneyField(required=False, allow_null=True, min_value=0)

    class Meta:
        model = SellingUnit
        fields = ["id", "product", "name", "factor", "barcode", "price", "is_active"]


class PriceListSerializer(CleanedModelSerializer):
    class Meta:
        model = PriceList
        fields = ["id", "name", "is_active"]


class PriceRuleSerializer(CleanedModelSerializer):
    min_quantity = QuantityField(min_value=Decimal("0.001"), required=False)
    price = MoneyField(min_value=0)

    class Meta:
        model = PriceRule
        fields = [
            "id",
            "price_list",
            "product",
            "selling_unit",
            "min_quantity",
            "price",
            "starts_on",
            "ends_on",
        ]


class ScaleLabelTemplateSerializer(CleanedModelSerializer):
    class Meta:
        model = ScaleLabelTemplate
        fields = [
            "id",
            "name",
            "prefix",
            "item_digits",
            "value_digits",
            "value_kind",
            "value_decimals",
            "is_active",
        ]


class ScaleLabelTestSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)


class ScaleLabelTestResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    problem = serializers.CharField(help_text="Empty when the code makes a line.")
    template = serializers.CharField(source="template.name", allow_null=True, default=None)
    item_code = serializers.IntegerField(allow_null=True)
    product = serializers.IntegerField(source="product.pk", allow_null=True, default=None)
    product_name = serializers.CharField(source="product.name", allow_null=True, default=None)
    weight = QuantityField(allow_null=True)
    price = MoneyField(allow_null=True)
    total = MoneyField(allow_null=True)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "is_active"]


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "contact_name",
            "phone",
            "email",
            "tin",
            "payment_terms",
            "notes",
            "is_active",
        ]


class StockLevelSerializer(serializers.ModelSerializer):
    """A product's stock in one store; `reorder_level` is the one that applies there (the
    store's own, else the product's)."""

    store_code = serializers.CharField(source="store.code", read_only=True)
    on_hand = QuantityField(read_only=True)
    reorder_level = QuantityField(source="effective_reorder_level", read_only=True)

    class Meta:
        model = StockLevel
        fields = ["store", "store_code", "on_hand", "reorder_level"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    cost_price = MoneyField(required=False)
    retail_price = MoneyField()
    wholesale_price = MoneyField(required=False, allow_null=True)
    minimum_price = MoneyField()
    stock_on_hand = QuantityField(read_only=True, help_text="The total over every store.")
    reorder_level = QuantityField(required=False, min_value=0)
    selling_units = SellingUnitSerializer(many=True, read_only=True)
    stock = StockLevelSerializer(source="stock_levels", many=True, read_only=True)
    initial_stock = QuantityField(write_only=True, required=False, min_value=0, max_value=1_000_000)

    class Meta:
        model = Product
        fields = [
            "id",
            *PRODUCT_EDITABLE_FIELDS,
            "stock_on_hand",
            "stock",
            "initial_stock",
            "selling_units",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["stock_on_hand", "created_at", "updated_at"]


class CustomerSerializer(serializers.ModelSerializer):
    credit_limit = MoneyField(required=False)
    total_spent = MoneyField(read_only=True)
    balance = MoneyField(read_only=True)
    store_credit = MoneyField(read_only=True, help_text="Spent with the store_credit tender.")
    points = serializers.DecimalField(
        max_digits=14, decimal_places=0, read_only=True, help_text="Loyalty points held."
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "address",
            "company",
            "tin",
            "credit_limit",
            "notes",
            "is_active",
            "total_spent",
            "visits",
            "last_purchase_at",
            "balance",
            "store_credit",
            "points",
            "messages_opt_out",
            "created_at",
        ]
        read_only_fields = ["visits", "last_purchase_at", "created_at"]
        # Phone uniqueness is checked (after normalising) by the model's full_clean().
        extra_kwargs = {"phone": {"validators": []}}


class GiftCardSerializer(serializers.ModelSerializer):
    balance = MoneyField(read_only=True, help_text="What the card still pays (a liability).")
    expired = serializers.SerializerMethodField()

    class Meta:
        model = GiftCard
        fields = ["code", "balance", "expires_on", "expired", "customer", "created_at"]

    def get_expired(self, card) -> bool:
        return card.expires_on is not None and card.expires_on < timezone.localdate()


class SellGiftCardSerializer(serializers.Serializer):
    amount = MoneyField(min_value=Decimal("0.01"))
    code = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=32,
        help_text="A pre-printed card's code; empty: a new code.",
    )  # fmt: skip
    customer = IdField(required=False, allow_null=True)
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="Empty: after the shop's validity, if any."
    )


class GiftCardCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)


class StatementQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": ["The end is before the start."]})
        return attrs


class StatementRowSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    reference = serializers.CharField()
    description = serializers.CharField()
    debit = MoneyField()
    credit = MoneyField()
    balance = MoneyField()
    invoice_id = serializers.IntegerField()


class StatementSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer.pk")
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    opening_balance = MoneyField()
    rows = StatementRowSerializer(many=True)
    closing_balance = MoneyField()
    total_debits = MoneyField()
    total_credits = MoneyField()


# --- Stock --------------------------------------------------------------------------------------


class StockMovementSerializer(serializers.ModelSerializer):
    unit_cost = MoneyField(read_only=True, allow_null=True)
    quantity = QuantityField(read_only=True)
    stock_before = QuantityField(read_only=True)
    stock_after = QuantityField(read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "store",
            "product",
            "kind",
            "quantity",
            "stock_before",
            "stock_after",
            "unit_cost",
            "reason",
            "reference_type",
            "reference_id",
            "reference_label",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class AdjustmentSerializer(serializers.Serializer):
    product = IdField()
    store = serializers.PrimaryKeyRelatedField(
        queryset=Store.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Whose stock changes; empty: the first active store.",
    )
    quantity = QuantityField(min_value=-1_000_000, max_value=1_000_000)
    reason = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(
        choices=[(k, MovementKind(k).label) for k in sorted(ADJUSTMENT_KINDS)],
        default=MovementKind.ADJUSTMENT,
    )

    def validate_quantity(self, value):
        if value == 0:
            raise serializers.ValidationError(gettext("Enter a quantity other than 0."))
        return value


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    unit_cost = MoneyField()
    quantity_ordered = QuantityField(read_only=True)
    quantity_received = QuantityField(read_only=True)
    quantity_outstanding = QuantityField(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id",
            "product",
            "quantity_ordered",
            "quantity_received",
            "quantity_outstanding",
            "unit_cost",
        ]
        read_only_fields = ["quantity_received"]


class PurchaseOrderSerializer(serializers.ModelSerializer):
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "store",
            "supplier",
            "status",
            "reference",
            "notes",
            "ordered_at",
            "received_at",
            "created_by",
            "created_at",
            "lines",
        ]
        read_only_fields = fields


class NewPurchaseOrderLineSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = QuantityField(min_value=Decimal("0.001"), max_value=1_000_000)
    unit_cost = MoneyField(min_value=0)


class NewPurchaseOrderSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    store = serializers.PrimaryKeyRelatedField(
        queryset=Store.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Where the goods are delivered; empty: the first active store.",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = NewPurchaseOrderLineSerializer(many=True, min_length=1, max_length=200)


class ReceiveLineSerializer(serializers.Serializer):
    line = IdField()
    quantity = QuantityField(min_value=0, max_value=1_000_000)


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(many=True, min_length=1, max_length=200)


# --- Shifts -------------------------------------------------------------------------------------


class RegisterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Register
        fields = ["id", "name", "code", "is_active"]


class ShiftSerializer(serializers.ModelSerializer):
    opening_float = MoneyField(read_only=True)
    over_short = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = Shift
        fields = [
            "id",
            "register",
            "cashier",
            "status",
            "opened_at",
            "opening_float",
            "ended_at",
            "ended_by",
            "closed_at",
            "closed_by",
            "over_short",
            "closing_note",
        ]
        read_only_fields = fields


PIECES = serializers.DictField(
    child=serializers.IntegerField(min_value=0),
    required=False,
    default=dict,
    help_text='Cash counted note by note: {"5000": 3, "100": 7} (the shop\'s denominations).',
)


class OpenShiftSerializer(serializers.Serializer):
    register = serializers.PrimaryKeyRelatedField(queryset=Register.objects.all())
    opening_float = MoneyField(
        min_value=0, required=False, allow_null=True, help_text="Or `opening_count`."
    )
    opening_count = PIECES


class CashMovementSerializer(serializers.ModelSerializer):
    amount = MoneyField(min_value=0)

    class Meta:
        model = CashMovement
        fields = ["id", "shift", "kind", "amount", "reason", "created_by", "created_at"]
        read_only_fields = ["id", "shift", "created_by", "created_at"]


class CloseShiftSerializer(serializers.Serializer):
    counted = serializers.DictField(
        child=MoneyField(min_value=0),
        help_text="Counted amount per tender: cash (unless counted note by note), mobile_money, "
        "card, bank_transfer.",
    )
    denominations = PIECES
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReviewShiftSerializer(serializers.Serializer):
    """Confirm the cashier's count (an empty body), or recount with a second person."""

    recount = serializers.DictField(
        child=MoneyField(min_value=0),
        required=False,
        allow_null=True,
        default=None,
        help_text="The recount per tender (cash may be counted in `recount_denominations`).",
    )
    recount_denominations = PIECES
    witness = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=150, help_text="Username."
    )
    witness_pin = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=6, write_only=True
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


# --- Selling ------------------------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    product = IdField(required=False, help_text="Not needed with a scale label.")
    quantity = QuantityField(
        min_value=Decimal("0.001"),
        max_value=10_000,
        required=False,
        default=Decimal(1),
        help_text="In the product's stock unit, or whole selling units (cartons) with one.",
    )
    selling_unit = IdField(required=False, allow_null=True)
    scale_label = serializers.RegexField(
        r"^2\d{12}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="A scanned scale label (EAN-13, 20-29): the product and weight come from it.",
    )
    unit_price = MoneyField(required=False, allow_null=True, min_value=0)
    discount = MoneyField(required=False, min_value=0)

    def validate(self, attrs):
        if not attrs.get("scale_label") and "product" not in attrs:
            raise serializers.ValidationError({"product": ["Choose a product or scan a label."]})
        return attrs


class TenderSerializer(serializers.Serializer):
    tender = serializers.ChoiceField(choices=Tender.choices)
    amount = MoneyField(min_value=0)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    momo_request = IdField(required=False, allow_null=True)
    # Mobile Money only: whose network (a typed reference without one is MTN's; a request's
    # provider is the request's).
    provider = serializers.ChoiceField(
        choices=MobileProvider.choices, required=False, allow_blank=True, default=""
    )


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True, min_length=1, max_length=200)
    order_discount = MoneyField(required=False, min_value=0)
    customer = IdField(required=False, allow_null=True)


class CheckoutSerializer(CartSerializer):
    tenders = TenderSerializer(many=True, min_length=1, max_length=20)
    buyer_tin = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=9, help_text="9 digits."
    )
    purchase_code = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20,
        help_text="The buyer's RRA purchase code (with buyer_tin).",
    )
    print_receipt = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Print the receipt on the till's receipt printer (and open its drawer for a sale "
            "taken in cash); the answer's receipt_print says how it went."
        ),
    )


class SaleLineSerializer(serializers.ModelSerializer):
    quantity = QuantityField(help_text="In the product's stock unit.")
    unit_factor = QuantityField()
    unit_quantity = QuantityField(allow_null=True)
    sold_as = serializers.CharField(help_text='As the receipt says it: "2 x Carton (24)".')
    shelf_price = MoneyField()
    unit_price = MoneyField()
    line_discount = MoneyField()
    order_discount = MoneyField()
    total = MoneyField()
    tax = MoneyField()

    class Meta:
        model = SaleLine
        fields = [
            "id",
            "product",
            "product_name",
            "sku",
            "quantity",
            "unit_name",
            "unit_factor",
            "unit_quantity",
            "sold_as",
            "price_source",
            "shelf_price",
            "unit_price",
            "line_discount",
            "order_discount",
            "total",
            "tax",
            "tax_rate",
        ]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    amount = MoneyField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "sale",
            "refund",
            "invoice",
            "shift",
            "tender",
            "amount",
            "is_change",
            "reference",
            "provider",
            "created_at",
        ]
        read_only_fields = fields


class SaleSerializer(serializers.ModelSerializer):
    subtotal = MoneyField()
    discount_total = MoneyField()
    tax_total = MoneyField()
    total = MoneyField()
    change_given = MoneyField()
    cash_rounding = MoneyField()
    lines = SaleLineSerializer(many=True)
    payments = PaymentSerializer(many=True)

    class Meta:
        model = Sale
        fields = [
            "id",
            "number",
            "register",
            "shift",
            "cashier",
            "customer",
            "status",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "change_given",
            "cash_rounding",
            "created_at",
            "voided_at",
            "voided_by",
            "buyer_tin",
            "purchase_code",
            "void_reason",
            "lines",
            "payments",
        ]
        read_only_fields = fields


class ReceiptPrintSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["printed", "held", "failed", "no_printer"],
        help_text="held: not printable yet (fiscal pending); failed: the printer was not reached.",
    )
    message = serializers.CharField()


class CheckoutResultSerializer(SaleSerializer):
    """A sale just taken: the sale, and how its receipt printed when print_receipt was asked."""

    receipt_print = serializers.SerializerMethodField()

    class Meta(SaleSerializer.Meta):
        fields = [*SaleSerializer.Meta.fields, "receipt_print"]
        read_only_fields = fields

    @extend_schema_field(ReceiptPrintSerializer(allow_null=True))
    def get_receipt_print(self, sale) -> dict | None:
        return getattr(sale, "receipt_print", None)


class SaleListSerializer(SaleSerializer):
    class Meta(SaleSerializer.Meta):
        fields = [f for f in SaleSerializer.Meta.fields if f not in ("lines", "payments")]
        read_only_fields = fields


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class RefundLineInputSerializer(serializers.Serializer):
    sale_line = IdField()
    quantity = QuantityField(
        min_value=Decimal("0.001"),
        max_value=10_000,
        help_text="In the unit the line was sold in: 1 for one carton of a line sold in cartons, "
        "0.25 for 0.25 kg of a line sold by weight.",
    )
    restock = serializers.BooleanField(default=True)


class RefundRequestSerializer(serializers.Serializer):
    lines = RefundLineInputSerializer(many=True, min_length=1, max_length=200)
    reason = serializers.CharField(max_length=200)
    tender = serializers.ChoiceField(choices=Tender.choices, default=Tender.CASH)
    # With fiscal signing on: one of RRA's refund reason codes (01-13); else ignored.
    reason_code = serializers.CharField(max_length=2, required=False, default="")

    def validate_reason_code(self, value):
        codes = {code for code, _label in hooks.refund_reasons()}
        if value and codes and value not in codes:
            raise serializers.ValidationError(gettext("Unknown refund reason code."))
        return value


class RefundLineSerializer(serializers.ModelSerializer):
    quantity = QuantityField(help_text="In the product's stock unit (1 carton of 24 = 24).")
    returned_as = serializers.CharField(
        help_text='In the unit it was sold in, as the slip says it: "1 x Carton (24)".'
    )
    unit_price = MoneyField()
    total = MoneyField()
    tax = MoneyField()

    class Meta:
        model = RefundLine
        fields = [
            "id",
            "sale_line",
            "product",
            "quantity",
            "returned_as",
            "unit_price",
            "total",
            "tax",
            "restock",
        ]
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    total = MoneyField()
    tax_total = MoneyField()
    lines = RefundLineSerializer(many=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "number",
            "sale",
            "shift",
            "created_by",
            "created_at",
            "reason",
            "tender",
            "total",
            "tax_total",
            "lines",
        ]
        read_only_fields = fields


class ShopSerializer(serializers.Serializer):
    name = serializers.CharField()
    tin = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()
    currency_code = serializers.CharField()
    receipt_header = serializers.CharField()
    receipt_footer = serializers.CharField()


class ReceiptSerializer(serializers.Serializer):
    shop = ShopSerializer()
    sale = SaleSerializer()
    refunds = RefundSerializer(many=True)


class HeldSaleSerializer(serializers.ModelSerializer):
    class Meta:
        model = HeldSale
        fields = ["id", "register", "cashier", "customer", "cart", "note", "created_at"]
        read_only_fields = fields


class HoldSerializer(CartSerializer):
    register = serializers.PrimaryKeyRelatedField(queryset=Register.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)


class ResumeSerializer(serializers.Serializer):
    register = serializers.PrimaryKeyRelatedField(queryset=Register.objects.all())


class ResumedCartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    order_discount = MoneyField()
    customer = serializers.IntegerField(allow_null=True)


# --- Invoices -----------------------------------------------------------------------------------


class InvoiceSerializer(serializers.ModelSerializer):
    total = MoneyField()
    amount_paid = MoneyField()
    credited = MoneyField()
    balance_due = MoneyField()
    status = serializers.CharField(source="effective_status")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "customer",
            "sale",
            "issued_at",
            "due_date",
            "total",
            "amount_paid",
            "credited",
            "balance_due",
            "status",
        ]
        read_only_fields = fields


# An invoice is paid in anything but "on account" (named in SPECTACULAR_SETTINGS).
INVOICE_PAYMENT_TENDERS = [(t, Tender(t).label) for t in Tender.values if t != Tender.ACCOUNT]


class InvoicePaymentSerializer(serializers.Serializer):
    amount = MoneyField(min_value=0)
    tender = serializers.ChoiceField(choices=INVOICE_PAYMENT_TENDERS)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class CancelInvoiceSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
