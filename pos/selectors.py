"""Reads used in more than one place."""

from django.db.models import Case, Q, QuerySet, Value, When

from pos.models import Customer, Product, ProductStatus, Refund


def product_lookup(code: str) -> Product | None:
    """The product whose barcode or SKU is `code`, in one indexed query (both are unique)."""
    code = (code or "").strip()
    if not code:
        return None
    return (
        Product.objects.select_related("category")
        .filter(Q(barcode=code) | Q(sku=code))
        # a barcode match wins over another product's SKU match
        .order_by(Case(When(barcode=code, then=Value(0)), default=Value(1)))
        .first()
    )


def product_search(query: str, *, active_only: bool = True, limit: int = 20) -> QuerySet:
    """Products whose name contains `query` (trigram-indexed on PostgreSQL), by name."""
    qs = Product.objects.select_related("category")
    if active_only:
        qs = qs.filter(status=ProductStatus.ACTIVE)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(sku=query) | Q(barcode=query))
    return qs.order_by("name")[:limit]


def customer_lookup(phone_or_name: str, *, limit: int = 20) -> QuerySet:
    from pos.errors import InvalidPhoneNumber
    from pos.services.customers import normalise_phone

    text = (phone_or_name or "").strip()
    try:
        return Customer.objects.filter(phone=normalise_phone(text))
    except InvalidPhoneNumber:
        return Customer.objects.filter(name__icontains=text, is_active=True)[:limit]


def refund_history(sale):
    """A sale's refunds, oldest first, with their lines and payments (sale page, receipt)."""
    return (
        Refund.objects.filter(sale=sale)
        .select_related("created_by", "shift")
        .prefetch_related("lines", "payments")
        .order_by("created_at", "id")
    )
