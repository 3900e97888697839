"""The manager's back office: every pos model, with the stock-changing screens going through
the services (adjust stock, stock count, receive a purchase order, CSV import)."""

from pos.admin import (  # noqa: F401
    catalogue,
    customers,
    journal,
    offline,
    pricing,
    printing,
    purchasing,
    selling,
    shop,
    staff,
    stock,
    transfers,
)
