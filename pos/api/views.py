"""API views: thin. Serializers validate, `pos.services` write, serializers answer."""

import uuid

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts import pins
from core.errors import DomainError, NotFound
from monitoring.ratelimit import limit
from pos import errors, hooks, scoping, selectors
from pos.models import (
    Category,
    Customer,
    GiftCard,
    HeldSale,
    Invoice,
    PriceList,
    PriceRule,
    Product,
    PurchaseOrder,
    Refund,
    RefundLine,
    Register,
    Sale,
    ScaleLabelTemplate,
    SellingUnit,
    Shift,
    ShopSettings,
    StockLevel,
    StockMovement,
    Supplier,
)
from pos.services import holds, invoices, ledger, printing, purchasing, refunds, shifts, voids
from pos.services.catalogue import (
    create_product,
    create_selling_unit,
    update_product,
    update_selling_unit,
)
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.customers import create_customer, update_customer
from pos.services.gift_cards import sell_gift_card
from pos.services.selling_lines import test_label
from pos.services.stock import adjust_stock, low_stock

from . import checkout_request
from . import serializers as s
from .filters import id_param, text_param
from .permissions import ModelPermissions, RequiredPermissions
from .representation import represented

ERRORS = {
    400: OpenApiResponse(description="Validation error: {error: {code, message, fields}}"),
    401: OpenApiResponse(description="Not signed in"),
    403: OpenApiResponse(description="Not allowed"),
    404: OpenApiResponse(description="Not found"),
    409: OpenApiResponse(description="Conflicts with the current state"),
    422: OpenApiResponse(description="A business rule refuses"),
}


class ApiMixin:
    """Numeric ids in URLs; the shop currency's places read once per response for MoneyFields;
    rows of the caller's stores only."""

    lookup_value_converter = "int"

    def filter_queryset(self, queryset):
        # Lists and object lookups (get_object) alike: rows of the stores the caller works in
        # (pos.scoping); another store's row answers 404, as a missing one.
        return scoping.for_user(super().filter_queryset(queryset), self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["currency_places"] = ShopSettings.load().currency_decimal_places
        return context

    def answer(self, serializer_class, instance, status_code=status.HTTP_200_OK, **kwargs):
        context = self.get_serializer_context()
        return Response(serializer_class(instance, context=context, **kwargs).data, status_code)

    def validated(self, serializer_class, data=None):
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _print_on_till(sale, user) -> dict:
    """The receipt of a sale taken through the API, on its till's printer (the drawer kicked
    for cash, as at the till): {"status", "message"}; a failure never undoes the sale."""
    printer = printing.printer_for(sale.register)
    if printer is None:
        message = gettext("This till has no receipt printer: print from the browser.")
        return {"status": "no_printer", "message": message}
    try:
        printing.print_receipt(sale=sale, user=user, printer=printer)
    except printing.ReceiptHeld as held:
        return {"status": "held", "message": held.message}
    except printing.PrinterError as error:
        return {"status": "failed", "message": error.message}
    message = gettext("Printed on %(printer)s.") % {"printer": printer.name}
    return {"status": "printed", "message": message}


def _cart(data) -> Cart:
    lines = [
        CartLine(
            product_id=line.get("product") or 0,
            quantity=line["quantity"],
            unit_price=line.get("unit_price"),
            discount=line.get("discount") or 0,
            selling_unit_id=line.get("selling_unit"),
            scale_label=line.get("scale_label") or "",
        )
        for line in data["lines"]
    ]
    return Cart(
        lines,
        data.get("order_discount") or 0,
        data.get("customer"),
        data.get("buyer_tin") or "",
        data.get("purchase_code") or "",
    )


# --- Catalogue ----------------------------------------------------------------------------------


class CatalogueViewSet(ApiMixin, viewsets.ModelViewSet):
    permission_classes = [ModelPermissions]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class CategoryViewSet(CatalogueViewSet):
    queryset = Category.objects.order_by("name")
    serializer_class = s.CategorySerializer
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class SupplierViewSet(CatalogueViewSet):
    queryset = Supplier.objects.order_by("name")
    serializer_class = s.SupplierSerializer
    search_fields = ["name", "contact_name", "phone"]
    ordering_fields = ["name", "id"]


@extend_schema(
    parameters=[
        OpenApiParameter("category", int, description="Only this category"),
        OpenApiParameter("supplier", int, description="Only this supplier"),
        OpenApiParameter("status", str, description="active, inactive or discontinued"),
        OpenApiParameter(
            "low_stock", bool, description="Only products at their reorder level in a store"
        ),
        OpenApiParameter("store", int, description="With low_stock: in this store"),
    ]
)
class ProductViewSet(CatalogueViewSet):
    """Products; `?search=` matches name, SKU and barcode."""

    queryset = Product.objects.none()  # the model, for the schema; see get_queryset
    serializer_class = s.ProductSerializer
    search_fields = ["name", "sku", "barcode"]
    ordering_fields = ["name", "sku", "retail_price", "stock_on_hand", "updated_at", "id"]

    def get_queryset(self):
        # The catalogue is the business's; each store's stock is shown to its own staff only.
        levels = scoping.for_user(
            StockLevel.objects.select_related("store", "product").order_by("store_id"),
            self.request.user,
        )
        queryset = Product.objects.prefetch_related(
            "selling_units", Prefetch("stock_levels", queryset=levels)
        ).order_by("name", "id")
        params = self.request.query_params
        for name in ("category", "supplier"):
            if id_param(self.request, name):
                queryset = queryset.filter(**{f"{name}_id": id_param(self.request, name)})
        if text_param(self.request, "status"):
            queryset = queryset.filter(status=text_param(self.request, "status"))
        if params.get("low_stock") in ("1", "true"):
            low = scoping.for_user(low_stock(id_param(self.request, "store")), self.request.user)
            queryset = queryset.filter(pk__in=low.values("product_id"))
        return queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        initial_stock = data.pop("initial_stock", 0)
        serializer.instance = create_product(
            user=self.request.user, initial_stock=initial_stock, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("initial_stock", None)
        serializer.instance = update_product(
            product=serializer.instance, user=self.request.user, **data
        )


class SellingUnitViewSet(CatalogueViewSet):
    """The other units products are sold in (a carton of 24): barcode, price, factor."""

    queryset = SellingUnit.objects.order_by("product", "factor", "id")
    serializer_class = s.SellingUnitSerializer
    search_fields = ["name", "barcode"]
    ordering_fields = ["factor", "id"]

    def perform_create(self, serializer):
        serializer.instance = create_selling_unit(
            user=self.request.user, unit=SellingUnit(**serializer.validated_data)
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "product" in data and data.pop("product") != serializer.instance.product:
            raise ValidationError(
                {
                    "product": [
                        gettext(
                            "A selling unit stays with its product: add one to the other product."
                        )
                    ]
                }
            )
        serializer.instance = update_selling_unit(
            selling_unit=serializer.instance, user=self.request.user, **data
        )


class PriceListViewSet(CatalogueViewSet):
    """Named price lists (wholesale, staff), given to customers."""

    queryset = PriceList.objects.order_by("name")
    serializer_class = s.PriceListSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class PriceRuleViewSet(CatalogueViewSet):
    """Prices of a list (or quantity breaks for everyone) from a quantity on, between dates."""

    queryset = PriceRule.objects.order_by("product", "price_list", "min_quantity", "id")
    serializer_class = s.PriceRuleSerializer
    ordering_fields = ["min_quantity", "id"]


class ScaleLabelTemplateViewSet(CatalogueViewSet):
    """In-store EAN-13 layouts printed by scales (prefixes 20-29); `test` reads a code."""

    required_permissions = {"test": ["pos.view_scalelabeltemplate"]}
    queryset = ScaleLabelTemplate.objects.order_by("prefix")
    serializer_class = s.ScaleLabelTemplateSerializer
    ordering_fields = ["prefix", "id"]

    @extend_schema(request=s.ScaleLabelTestSerializer, responses=s.ScaleLabelTestResultSerializer)
    @action(detail=False, methods=["post"])
    def test(self, request):
        """What the till makes of a scanned code: the product, weight or price, line total."""
        data = self.validated(s.ScaleLabelTestSerializer)
        return self.answer(s.ScaleLabelTestResultSerializer, test_label(data["code"]))


class CustomerViewSet(CatalogueViewSet):
    required_permissions = {"statement": ["pos.view_customer", "pos.view_invoice"]}
    queryset = Customer.objects.order_by("name", "id")
    serializer_class = s.CustomerSerializer
    search_fields = ["name", "phone", "company"]
    ordering_fields = ["name", "balance", "last_purchase_at", "id"]

    def perform_create(self, serializer):
        serializer.instance = create_customer(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = update_customer(
            customer=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        parameters=[s.StatementQuerySerializer], responses={200: s.StatementSerializer, **ERRORS}
    )
    @action(
        detail=True,
        permission_classes=[RequiredPermissions],
    )
    def statement(self, request, pk=None):
        """The customer's account: invoices and payments with the running balance."""
        customer = self.get_object()
        query = self.validated(s.StatementQuerySerializer, request.query_params)
        statement = selectors.customer_statement(customer, query.get("start"), query.get("end"))
        return self.answer(s.StatementSerializer, statement)


class GiftCardViewSet(ApiMixin, viewsets.GenericViewSet):
    """Gift cards at the till: sell one (cash into the drawer, a liability, never revenue) and
    check what one holds. A card pays with the `gift_card` tender of a checkout (its code as the
    reference)."""

    queryset = GiftCard.objects.none()  # the model, for the schema
    permission_classes = [RequiredPermissions]
    required_permissions = {"create": ["pos.sell"], "balance": ["pos.sell"]}
    serializer_class = s.GiftCardSerializer

    @extend_schema(
        request=s.SellGiftCardSerializer, responses={201: s.GiftCardSerializer, **ERRORS}
    )
    def create(self, request):
        """Sell a card for cash on the caller's open shift."""
        data = self.validated(s.SellGiftCardSerializer)
        customer = None
        if data.get("customer"):
            customer = Customer.objects.filter(pk=data["customer"]).first()
            if customer is None:
                raise NotFound(gettext("Unknown customer."), field="customer")
        card = sell_gift_card(
            shift=shifts.require_open_shift(request.user),
            user=request.user,
            amount=data["amount"],
            customer=customer,
            expires_on=data.get("expires_on"),
            code=data["code"],
        )
        return self.answer(s.GiftCardSerializer, card, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[s.GiftCardCodeSerializer], responses={200: s.GiftCardSerializer, **ERRORS}
    )
    @action(detail=False)
    def balance(self, request):
        """What the card with `code` holds, and until when."""
        code = self.validated(s.GiftCardCodeSerializer, request.query_params)["code"]
        return self.answer(s.GiftCardSerializer, ledger.card_balance(code))


# --- Stock --------------------------------------------------------------------------------------


@extend_schema(parameters=[OpenApiParameter("product", int, description="Only this product")])
class StockMovementViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """The stock ledger (read only)."""

    queryset = StockMovement.objects.none()  # the model, for the schema; see get_queryset
    serializer_class = s.StockMovementSerializer
    permission_classes = [ModelPermissions]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        queryset = StockMovement.objects.order_by("-created_at", "-id")
        if id_param(self.request, "product"):
            queryset = queryset.filter(product_id=id_param(self.request, "product"))
        if id_param(self.request, "store"):
            queryset = queryset.filter(store_id=id_param(self.request, "store"))
        return queryset


class AdjustmentViewSet(ApiMixin, viewsets.GenericViewSet):
    permission_classes = [RequiredPermissions]
    required_permissions = {"create": ["pos.adjust_stock"]}
    serializer_class = s.AdjustmentSerializer

    @extend_schema(
        request=s.AdjustmentSerializer, responses={201: s.StockMovementSerializer, **ERRORS}
    )
    def create(self, request):
        """Change a product's stock by a signed quantity, with a reason (audited)."""
        data = self.validated(s.AdjustmentSerializer)
        product = get_object_or_404(Product, pk=data["product"])
        movement = adjust_stock(
            product=product,
            quantity=data["quantity"],
            reason=data["reason"],
            kind=data["kind"],
            user=request.user,
            store=data["store"],
        )
        return self.answer(s.StockMovementSerializer, movement, status.HTTP_201_CREATED)


class PurchaseOrderViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.PurchaseOrderSerializer
    queryset = PurchaseOrder.objects.prefetch_related("lines").order_by("-created_at", "-id")
    permission_classes = [RequiredPermissions]
    required_permissions = {
        "read": ["pos.view_purchaseorder"],
        "create": ["pos.add_purchaseorder"],
        "order": ["pos.change_purchaseorder"],
        "cancel": ["pos.change_purchaseorder"],
        "receive": ["pos.receive_stock"],
    }
    ordering_fields = ["created_at", "id"]

    @extend_schema(
        request=s.NewPurchaseOrderSerializer,
        responses={201: s.PurchaseOrderSerializer, **ERRORS},
    )
    def create(self, request):
        data = self.validated(s.NewPurchaseOrderSerializer)
        lines = [(line["product"], line["quantity"], line["unit_cost"]) for line in data["lines"]]
        order = purchasing.create_purchase_order(
            supplier=data["supplier"],
            lines=lines,
            user=request.user,
            notes=data["notes"],
            store=data["store"],
        )
        return self.answer(s.PurchaseOrderSerializer, order, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.PurchaseOrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def order(self, request, pk=None):
        """Mark a draft order as sent to the supplier."""
        order = purchasing.mark_ordered(order=self.get_object(), user=request.user)
        return self.answer(s.PurchaseOrderSerializer, order)

    @extend_schema(request=None, responses={200: s.PurchaseOrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = purchasing.cancel_purchase_order(order=self.get_object(), user=request.user)
        return self.answer(s.PurchaseOrderSerializer, order)

    @extend_schema(
        request=s.ReceiveSerializer, responses={200: s.PurchaseOrderSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """Receive some or all outstanding units (line id -> quantity received now)."""
        order = self.get_object()  # another store's order is not found, whatever the body
        data = self.validated(s.ReceiveSerializer)
        quantities = {line["line"]: line["quantity"] for line in data["lines"]}
        order = purchasing.receive_purchase_order(
            order=order, quantities=quantities, user=request.user
        )
        order = self.get_queryset().get(pk=order.pk)
        return self.answer(s.PurchaseOrderSerializer, order)


# --- Shifts -------------------------------------------------------------------------------------


class RegisterViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Registers (tills), to open a shift on."""

    queryset = Register.objects.order_by("name")
    serializer_class = s.RegisterSerializer
    permission_classes = [RequiredPermissions]
    required_permissions = {"read": ["pos.sell"]}


class ShiftViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Shifts: a cashier sees their own; `pos.view_shift` sees all."""

    queryset = Shift.objects.none()  # the model, for the schema; see get_queryset
    serializer_class = s.ShiftSerializer
    permission_classes = [RequiredPermissions]
    required_permissions = {
        "read": ["pos.sell"],
        "create": ["pos.sell"],
        "cash_movements": ["pos.sell"],
        "close": ["pos.sell"],
        "review": ["pos.close_any_shift"],
    }
    ordering_fields = ["opened_at", "id"]

    def get_queryset(self):
        queryset = Shift.objects.order_by("-opened_at", "-id")
        if not self.request.user.has_perm("pos.view_shift"):
            queryset = queryset.filter(cashier=self.request.user)
        return queryset

    @extend_schema(request=s.OpenShiftSerializer, responses={201: s.ShiftSerializer, **ERRORS})
    def create(self, request):
        """Open a shift on a register with the opening float."""
        data = self.validated(s.OpenShiftSerializer)
        shift = shifts.open_shift(
            register=data["register"],
            cashier=request.user,
            opening_float=data.get("opening_float"),
            opening_count=data["opening_count"],
        )
        return self.answer(s.ShiftSerializer, shift, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ShiftSerializer, **ERRORS})
    @action(detail=False)
    def current(self, request):
        """The signed-in user's open shift (404 when there is none)."""
        shift = shifts.open_shift_for(request.user)
        if shift is None:
            raise NotFound(gettext("You have no open shift."))
        return self.answer(s.ShiftSerializer, shift)

    @extend_schema(
        request=s.CashMovementSerializer, responses={201: s.CashMovementSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="cash-movements")
    def cash_movements(self, request, pk=None):
        """Cash in (`paid_in`) or out (`paid_out`) of the drawer, with a reason."""
        shift = self.get_object()
        data = self.validated(s.CashMovementSerializer)
        movement = shifts.record_cash_movement(shift=shift, user=request.user, **data)
        return self.answer(s.CashMovementSerializer, movement, status.HTTP_201_CREATED)

    @extend_schema(request=s.CloseShiftSerializer, responses={200: s.ShiftSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """The count at the end of the shift (blind: nothing expected is answered). Where a
        manager reviews closes, a cashier's count ends the shift (`status` "ended") and the
        review closes it; otherwise it closes with over/short and the Z-report."""
        data = self.validated(s.CloseShiftSerializer)
        shift = shifts.close_shift(
            shift=self.get_object(),
            counted=data["counted"],
            denominations=data["denominations"],
            user=request.user,
            note=data["note"],
        )
        return self.answer(s.ShiftSerializer, shift)

    @extend_schema(request=s.ReviewShiftSerializer, responses={200: s.ShiftSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """A manager closes an ended shift: confirms the count, or recounts with a second
        person (their username and PIN)."""
        data = self.validated(s.ReviewShiftSerializer)
        recounting = data["recount"] is not None or bool(data["recount_denominations"])
        witness = None
        if recounting:
            if not data["witness"]:
                raise errors.NotAllowed(
                    gettext("A recount needs a second person, other than you."), field="witness"
                )
            witness = pins.approver_by_pin(
                request, username=data["witness"], pin=data["witness_pin"], permission="pos.sell"
            )
        shift = shifts.review_close(
            shift=self.get_object(),
            user=request.user,
            recount=data["recount"],
            recount_denominations=data["recount_denominations"],
            witness=witness,
            note=data["note"],
        )
        return self.answer(s.ShiftSerializer, shift)

    @extend_schema(responses={200: dict, **ERRORS})
    @action(detail=True, url_path="z-report")
    def z_report(self, request, pk=None):
        """Totals of the shift (the stored Z-report once closed; money as strings). An ended
        shift's totals wait for the review: only a manager sees them."""
        shift = self.get_object()
        if shift.status == Shift.Status.CLOSED:
            return Response(shift.z_report)
        if shift.awaits_review and not request.user.has_perm("pos.close_any_shift"):
            raise errors.NotAllowed(gettext("A manager reviews this shift's count first."))
        return Response(shifts.z_report(shift))


# --- Sales --------------------------------------------------------------------------------------

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A UUID chosen by the client per sale; a retry with the same key and body "
    "returns the original sale (200); the same key with another body is refused (409).",
)


def _idempotency_key(request) -> uuid.UUID:
    raw = request.headers.get("Idempotency-Key", "")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise DomainError(
            gettext("Send an Idempotency-Key header holding a UUID."),
            code="invalid",
            field="Idempotency-Key",
        ) from None


@extend_schema(
    parameters=[
        OpenApiParameter("shift", int, description="Only this shift"),
        OpenApiParameter("customer", int, description="Only this customer"),
        OpenApiParameter("status", str, description="completed or voided"),
    ]
)
class SaleViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Sale.objects.none()  # the model, for the schema; see get_queryset
    permission_classes = [RequiredPermissions]
    required_permissions = {
        "read": ["pos.view_sale"],
        "create": ["pos.sell"],
        "void": ["pos.void_sale"],
        "refund": ["pos.refund_sale"],
    }
    ordering_fields = ["created_at", "total", "id"]
    search_fields = ["number"]

    def get_serializer_class(self):
        return s.SaleListSerializer if self.action == "list" else s.SaleSerializer

    def get_queryset(self):
        # Who sees which sale: one rule with the screens (a return may be of any sale).
        if self.action == "refund":
            queryset = selectors.returnable_sales(self.request.user)
        else:
            queryset = selectors.visible_sales(self.request.user)
        queryset = queryset.order_by("-created_at", "-id")
        if self.action != "list":
            queryset = queryset.prefetch_related("lines", "payments")
        for name in ("shift", "customer"):
            if id_param(self.request, name):
                queryset = queryset.filter(**{f"{name}_id": id_param(self.request, name)})
        if text_param(self.request, "status"):
            queryset = queryset.filter(status=text_param(self.request, "status"))
        return queryset

    def _sale(self, pk):
        return Sale.objects.prefetch_related("lines", "payments").get(pk=pk)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=s.CheckoutSerializer,
        responses={201: s.CheckoutResultSerializer, 200: s.CheckoutResultSerializer, **ERRORS},
    )
    @method_decorator(limit("checkout"))
    def create(self, request):
        """Checkout: price the cart on the server, take the tenders, write the sale."""
        key = _idempotency_key(request)
        # The body as the serializer would validate it, decoded without building it (every
        # body the fast path leaves goes to the serializer, for its errors).
        data = checkout_request.decoded(request._request) or self.validated(s.CheckoutSerializer)
        # The open shift and the sale stored under the key, if any, in one statement.
        shift, stored = shifts.require_open_shift_and_sale(request.user, key)
        # The till's mode and the shop settings (checkout's) read from the cache at once.
        cached = ShopSettings.load_with(hooks.till_mode_cache_keys(shift.register_id))
        if hooks.till_mode(shift.register_id, cached=cached) is not None:  # training: no sale
            raise errors.TillNotSelling()
        tenders = [
            TenderLine(
                t["tender"], t["amount"], t["reference"], t.get("momo_request"), t["provider"]
            )
            for t in data["tenders"]
        ]
        sale = checkout(
            shift=shift,
            cashier=request.user,
            cart=_cart(data),
            tenders=tenders,
            idempotency_key=key,
            stored=stored,
        )
        if sale.replayed:  # printed (or not) when it was taken; never printed twice here
            return self.answer(s.CheckoutResultSerializer, self._sale(sale.pk), status.HTTP_200_OK)
        if data["print_receipt"]:
            sale.receipt_print = _print_on_till(sale, request.user)
        # CheckoutResultSerializer's answer, without building it (pos.api.representation).
        places = ShopSettings.load().currency_decimal_places
        answer = represented(s.CheckoutResultSerializer, sale, places)
        return Response(answer, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ReceiptSerializer, **ERRORS})
    @action(detail=True)
    def receipt(self, request, pk=None):
        """What the printed receipt shows: shop, sale, lines, payments and refunds."""
        sale = self.get_object()
        receipt = {
            "shop": ShopSettings.load(),
            "sale": sale,
            "refunds": selectors.refund_history(sale),
        }
        return self.answer(s.ReceiptSerializer, receipt)

    @extend_schema(request=s.VoidSerializer, responses={200: s.SaleSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void a sale of a still-open shift and reverse it whole."""
        data = self.validated(s.VoidSerializer)
        sale = voids.void_sale(sale=self.get_object(), user=request.user, reason=data["reason"])
        return self.answer(s.SaleSerializer, self._sale(sale.pk))

    @extend_schema(request=s.RefundRequestSerializer, responses={201: s.RefundSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund sale lines out of the signed-in user's open shift."""
        data = self.validated(s.RefundRequestSerializer)
        shift = shifts.require_open_shift(request.user, to="refund")
        lines = [
            refunds.RefundLineInput(line["sale_line"], line["quantity"], line["restock"])
            for line in data["lines"]
        ]
        refund = refunds.refund_sale(
            sale=self.get_object(),
            shift=shift,
            user=request.user,
            lines=lines,
            reason=data["reason"],
            tender=data["tender"],
            reason_code=data["reason_code"],
        )
        lines = RefundLine.objects.select_related("sale_line").order_by("pk")
        refund = Refund.objects.prefetch_related(Prefetch("lines", lines)).get(pk=refund.pk)
        return self.answer(s.RefundSerializer, refund, status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("register", int, description="Only this register")])
class HeldSaleViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Carts parked on a register."""

    queryset = HeldSale.objects.none()  # the model, for the schema; see get_queryset
    serializer_class = s.HeldSaleSerializer
    permission_classes = [RequiredPermissions]
    required_permissions = {
        "read": ["pos.view_heldsale"],
        "create": ["pos.add_heldsale"],
        "resume": ["pos.sell"],
        "destroy": ["pos.sell"],
    }

    def get_queryset(self):
        queryset = HeldSale.objects.order_by("-created_at", "-id")
        user = self.request.user
        if not user.has_perm("pos.view_shift"):
            # A cashier sees the carts they held and those parked on the till they work at.
            shift = shifts.open_shift_for(user)
            mine = Q(cashier=user)
            if shift is not None:
                mine |= Q(register_id=shift.register_id)
            queryset = queryset.filter(mine)
        if id_param(self.request, "register"):
            queryset = queryset.filter(register_id=id_param(self.request, "register"))
        return queryset

    @extend_schema(request=s.HoldSerializer, responses={201: s.HeldSaleSerializer, **ERRORS})
    def create(self, request):
        data = self.validated(s.HoldSerializer)
        held = holds.hold_sale(
            register=data["register"], cashier=request.user, cart=_cart(data), note=data["note"]
        )
        return self.answer(s.HeldSaleSerializer, held, status.HTTP_201_CREATED)

    @extend_schema(request=s.ResumeSerializer, responses={200: s.ResumedCartSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Take the cart back to the till (same register); the held sale is gone after."""
        data = self.validated(s.ResumeSerializer)
        cart = holds.resume_held_sale(
            held=self.get_object(), register=data["register"], user=request.user
        )
        resumed = {
            "lines": [
                {
                    "product": line.product_id,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "discount": line.discount,
                }
                for line in cart.lines
            ],
            "order_discount": cart.order_discount,
            "customer": cart.customer_id,
        }
        return self.answer(s.ResumedCartSerializer, resumed)

    @extend_schema(responses={204: None, **ERRORS})
    def destroy(self, request, pk=None):
        """Discard the held cart (the customer left)."""
        shift = shifts.open_shift_for(request.user)
        holds.discard_held_sale(
            held=self.get_object(), user=request.user, register=shift and shift.register
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Invoices -----------------------------------------------------------------------------------


@extend_schema(parameters=[OpenApiParameter("customer", int, description="Only this customer")])
class InvoiceViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Invoice.objects.none()  # the model, for the schema; see get_queryset
    serializer_class = s.InvoiceSerializer
    permission_classes = [RequiredPermissions]
    required_permissions = {
        "read": ["pos.view_invoice"],
        "payments": ["pos.view_invoice"],  # the service checks pos.sell or pos.change_invoice
        "cancel": ["pos.change_invoice"],
    }
    ordering_fields = ["issued_at", "due_date", "id"]
    search_fields = ["number"]

    def get_queryset(self):
        # Any invoice may be paid (a customer pays at any till); opening one is for those who
        # may see its sale (the printable invoice follows the same rule).
        if self.action == "payments":
            queryset = Invoice.objects.all()
        else:
            queryset = selectors.visible_invoices(self.request.user)
        queryset = queryset.order_by("-issued_at", "-id")
        if id_param(self.request, "customer"):
            queryset = queryset.filter(customer_id=id_param(self.request, "customer"))
        return queryset

    @extend_schema(
        request=s.InvoicePaymentSerializer, responses={201: s.PaymentSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        """Take a payment against the invoice, up to its balance due."""
        data = self.validated(s.InvoicePaymentSerializer)
        payment = invoices.record_invoice_payment(
            invoice=self.get_object(), user=request.user, **data
        )
        return self.answer(s.PaymentSerializer, payment, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.CancelInvoiceSerializer, responses={200: s.InvoiceSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self.validated(s.CancelInvoiceSerializer)
        invoice = invoices.cancel_invoice(
            invoice=self.get_object(), user=request.user, reason=data["reason"]
        )
        return self.answer(s.InvoiceSerializer, invoice)
