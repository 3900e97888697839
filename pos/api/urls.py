from django.urls import path
from rest_framework.routers import DefaultRouter

from . import reports, views

router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False  # JSON only: no /sales.json or /sales/1.json routes
router.register("categories", views.CategoryViewSet, basename="category")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("products", views.ProductViewSet, basename="product")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("gift-cards", views.GiftCardViewSet, basename="giftcard")
router.register("selling-units", views.SellingUnitViewSet, basename="sellingunit")
router.register("price-lists", views.PriceListViewSet, basename="pricelist")
router.register("price-rules", views.PriceRuleViewSet, basename="pricerule")
router.register("scale-label-templates", views.ScaleLabelTemplateViewSet, basename="scalelabel")
router.register("stock-movements", views.StockMovementViewSet, basename="stockmovement")
router.register("stock-adjustments", views.AdjustmentViewSet, basename="stockadjustment")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchaseorder")
router.register("registers", views.RegisterViewSet, basename="register")
router.register("shifts", views.ShiftViewSet, basename="shift")
router.register("sales", views.SaleViewSet, basename="sale")
router.register("held-sales", views.HeldSaleViewSet, basename="heldsale")
router.register("invoices", views.InvoiceViewSet, basename="invoice")

app_name = "api"
urlpatterns = [
    *router.urls,
    path("reports/dashboard/", reports.dashboard, name="report-dashboard"),
    path("reports/sales/", reports.sales, name="report-sales"),
    path("reports/profit/", reports.profit, name="report-profit"),
    path("reports/inventory/", reports.inventory, name="report-inventory"),
    path("reports/shifts/", reports.shifts, name="report-shifts"),
    path("reports/shifts/<int:pk>/", reports.shift_detail, name="report-shift-detail"),
    path("reports/customers/", reports.customers, name="report-customers"),
]
