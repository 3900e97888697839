"""The fiscal day reports (X, Z, PLU) for managers: one page, printable; and a pending
receipt's "send it by email once signed" page for the till; a proforma's printable page."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages as django_messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import DomainError
from fiscal import messages, receipts
from fiscal.models import OutboxItem, Proforma
from fiscal.reports import day_report
from pos import receipts as slips
from pos import selectors
from pos.models import ShopSettings

KINDS = ("x", "z", "plu")


@login_required
@permission_required("pos.view_reports", raise_exception=True)
def report(request, kind: str):
    if kind not in KINDS:
        raise Http404
    today = timezone.localdate()
    # A Z report is of a day that has ended: yesterday unless another day is asked for.
    default = today - timedelta(days=1) if kind == "z" else today
    try:
        day = date.fromisoformat(request.GET.get("day") or default.isoformat())
    except ValueError:
        day = default
    problem = ""
    if kind == "z" and day >= today:
        problem = gettext("A Z report is of a day that has ended: choose an earlier day.")
    context = {
        "kind": kind,
        "day": day,
        "today": today,
        "report": None if problem else day_report(day),
        "problem": problem,
    }
    return render(request, "fiscal/report.html", context, status=400 if problem else 200)


@login_required
@permission_required("pos.sell", raise_exception=True)
def send_later(request, pk: int):
    """Send a sale's receipt by email once the VSDC has signed it (fiscal.messages)."""
    sale = get_object_or_404(selectors.visible_sales(request.user), pk=pk)
    item = get_object_or_404(OutboxItem, kind=OutboxItem.Kind.SALE, sale=sale)
    address = sale.customer.email if sale.customer_id else ""
    error = ""
    if request.method == "POST":
        address = request.POST.get("address", "")
        try:
            messages.request_receipt_message(item=item, address=address, user=request.user)
        except DomainError as problem:
            error = problem.message
        else:
            django_messages.success(
                request,
                gettext("The receipt will be sent to %(address)s once it is signed.")
                % {"address": address.strip()},
            )
            return redirect("pos:receipt", pk=sale.pk)
    context = {
        "sale": sale,
        "address": address,
        "error": error,
        "asked": item.messages.order_by("pk"),
    }
    return render(request, "fiscal/send_later.html", context, status=400 if error else 200)


@login_required
@permission_required("pos.view_reports", raise_exception=True)
def proforma(request, pk: int):
    """A proforma quote's printable page (PS, with its SDC block once signed)."""
    quote = get_object_or_404(Proforma.objects.select_related("created_by"), pk=pk)
    shop = ShopSettings.load()
    blocks = [b for b in [receipts.receipt_block(quote, width=slips.paper(request))] if b]
    lines = list(quote.lines.select_related("product"))
    context = {
        "proforma": quote,
        "lines": [(line, line.unit_price * line.quantity) for line in lines],
        "total": sum((line.unit_price * line.quantity for line in lines), Decimal(0)),
        "blocks": blocks,
        "held": not all(block.printable for block in blocks),
        "shop": shop,
        "header_lines": slips.header_lines(shop),
        "paper": slips.paper(request),
    }
    response = render(request, "fiscal/proforma.html", context)
    slips.remember_paper(request, response)
    return response
