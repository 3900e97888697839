from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from pos.admin.base import ReadOnlyAdmin, ReadOnlyInline, ShopAdmin
from pos.models import LowStockAlert, StockCount, StockCountLine, StockMovement
from pos.services.stock import acknowledge_alerts


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
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
    list_filter = ["kind", "created_at"]
    search_fields = [
        "product__name",
        "=product__sku",
        "=product__barcode",
        "reason",
        "reference_label",
    ]
    list_select_related = ["product", "created_by"]
    date_hierarchy = "created_at"
    raw_id_fields = ["product"]


@admin.register(LowStockAlert)
class LowStockAlertAdmin(ShopAdmin):
    list_display = [
        "created_at",
        "product",
        "stock_on_hand",
        "reorder_level",
        "current_stock",
        "acknowledged",
    ]
    list_filter = ["acknowledged", "product__category"]
    search_fields = ["product__name", "=product__sku"]
    list_select_related = ["product"]
    readonly_fields = [
        "product",
        "stock_on_hand",
        "reorder_level",
        "created_at",
        "acknowledged",
        "acknowledged_by",
        "acknowledged_at",
    ]
    actions = ["acknowledge"]

    @admin.display(description=_("stock now"))
    def current_stock(self, obj):
        return obj.product.stock_on_hand

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
    list_display = ["__str__", "status", "created_at", "posted_by", "posted_at"]
    list_filter = ["status"]
    list_select_related = ["posted_by"]
    inlines = [StockCountLineInline]
    change_list_template = "admin/pos/stockcount/change_list.html"
