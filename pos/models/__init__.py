from pos.models.catalogue import Category, Product, ProductStatus, Supplier
from pos.models.customers import Customer
from pos.models.purchasing import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from pos.models.shop import ShopSettings
from pos.models.stock import (
    LowStockAlert,
    MovementKind,
    StockCount,
    StockCountLine,
    StockCountStatus,
    StockMovement,
)

__all__ = [
    "Category",
    "Customer",
    "LowStockAlert",
    "MovementKind",
    "Product",
    "ProductStatus",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "ShopSettings",
    "StockCount",
    "StockCountLine",
    "StockCountStatus",
    "StockMovement",
    "Supplier",
]
