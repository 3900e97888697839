from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from pos.admin.base import ReadOnlyAdmin, ReadOnlyInline, ShopAdmin
from pos.models import LowStockAlert, StockCount, StockCountLine, StockLevel, StockMovement
from pos.services.stock import acknowledge_alerts, low_stock, set_reorder_level

# The store filter offers the stores of the rows listed (the user's), not every store's name.
OWN_STORES = ("store", admin.RelatedOnlyFieldListFilter)


class LowLevelFilter(admin.SimpleListFilter):
    title = _("stock level")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", _("At or below reorder level")), ("out", _("Out of stock"))]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(pk__in=low_stock().values("pk"))
        if self.value() == "out":
            return queryset.filter(on_hand__lte=0)
        return queryset


@admin.register(StockLevel)
class StockLevelAdmin(ShopAdmin):
    """Each store's stock of each product: on hand (moved only by the stock ledger) and the
    store's own reorder level (empty: the product's), the one thing changed here."""

    list_display = ["product", "store", "on_hand", "reorder_level", "reorder_at", "is_low"]
    list_filter = [OWN_STORES, LowLevelFilter, "product__category"]
    search_fields = ["product__name", "=product__sku", "=product__barcode"]
    list_select_related = ["product", "store"]
    fields = ["store", "product", "on_hand", "reorder_level"]
    readonly_fields = ["store", "product", "on_hand"]

    @admin.display(description=_("reorder at"))
    def reorder_at(self, obj):
        return obj.effective_reorder_level()

    @admin.display(boolean=True, description=_("low"))
    def is_low(self, obj):
        return obj.on_hand <= obj.effective_reorder_level()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        set_reorder_level(level=obj, reorder_level=obj.reorder_level, user=request.user)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "store",
        "product",
        "kind",
        "quantity",
        "stock_before",
        "stock_after",
        "unit_cost",
        "reason",
        "reference_label",
        "created_by",
    ]
    list_filter = [OWN_STORES, "kind", "created_at"]
    search_fields = [
        "product__name",
        "=product__sku",
        "=product__barcode",
        "reason",
        "reference_label",
    ]
    list_select_related = ["store", "product", "created_by"]
    date_hierarchy = "created_at"
    raw_id_fields = ["product"]


@admin.register(LowStockAlert)
class LowStockAlertAdmin(ShopAdmin):
    list_display = [
        "created_at",
        "store",
        "product",
        "stock_on_hand",
        "reorder_level",
        "current_stock",
        "acknowledged",
    ]
    list_filter = ["acknowledged", OWN_STORES, "product__category"]
    search_fields = ["product__name", "=product__sku"]
    list_select_related = ["product", "store"]
    readonly_fields = [
        "store",
        "product",
        "stock_on_hand",
        "reorder_level",
        "created_at",
        "acknowledged",
        "acknowledged_by",
        "acknowledged_at",
    ]
    actions = ["acknowledge"]

    def get_queryset(self, request):
        now = StockLevel.objects.filter(store=OuterRef("store"), product=OuterRef("product"))
        return super().get_queryset(request).annotate(stock_now=Subquery(now.values("on_hand")))

    @admin.display(description=_("stock now"))
    def current_stock(self, obj):
        return obj.stock_now

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark as acknowledged"), permissions=["change"])
    def acknowledge(self, request, queryset):
        n = acknowledge_alerts(alerts=queryset, user=request.user)
        self.message_user(request, _("%d alert(s) acknowledged.") % n)


class StockCountLineInline(ReadOnlyInline):
    model = StockCountLine
    fields = ["product", "expected_quantity", "counted_quantity", "difference"]
    readonly_fields = fields

    @admin.display(description=_("difference"))
    def difference(self, obj):
        return f"{obj.difference:+d}"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(StockCount)
class StockCountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "store", "status", "created_at", "posted_by", "posted_at"]
    list_filter = ["status", OWN_STORES]
    list_select_related = ["posted_by", "store"]
    inlines = [StockCountLineInline]
    change_list_template = "admin/pos/stockcount/change_list.html"
