"""Pages of the point of sale. Views translate HTTP to service calls and back."""

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import F
from django.shortcuts import get_object_or_404, render

from pos.models import Sale, ShopSettings
from pos.selectors import refund_history


@login_required
@permission_required("pos.view_sale", raise_exception=True)
def receipt(request, pk: int):
    """The printable receipt (80 mm thermal, fine on A4). Every print after the first is a copy."""
    sale = get_object_or_404(Sale.objects.select_related("cashier", "customer", "register"), pk=pk)
    is_copy = sale.receipt_prints > 0
    Sale.objects.filter(pk=sale.pk).update(receipt_prints=F("receipt_prints") + 1)
    payments = [p for p in sale.payments.all() if not p.is_change]
    return render(
        request,
        "pos/receipt.html",
        {
            "sale": sale,
            "lines": sale.lines.all(),
            "payments": payments,
            "refunds": refund_history(sale),
            "shop": ShopSettings.load(),
            "is_copy": is_copy,
        },
    )
