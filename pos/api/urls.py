from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False  # JSON only: no /sales.json or /sales/1.json routes
router.register("categories", views.CategoryViewSet, basename="category")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("products", views.ProductViewSet, basename="product")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("stock-movements", views.StockMovementViewSet, basename="stockmovement")
router.register("stock-adjustments", views.AdjustmentViewSet, basename="stockadjustment")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchaseorder")
router.register("registers", views.RegisterViewSet, basename="register")
router.register("shifts", views.ShiftViewSet, basename="shift")
router.register("sales", views.SaleViewSet, basename="sale")
router.register("held-sales", views.HeldSaleViewSet, basename="heldsale")
router.register("invoices", views.InvoiceViewSet, basename="invoice")

app_name = "api"
urlpatterns = router.urls
