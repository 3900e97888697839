"""Pages of the point of sale. Views translate HTTP to service calls and back."""

import csv

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from pos import selectors
from pos.forms import StatementPeriodForm
from pos.models import Customer, Invoice, Sale, ShopSettings
from pos.money import to_currency


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
            "refunds": sale.refunds.all(),
            "shop": ShopSettings.load(),
            "is_copy": is_copy,
        },
    )


@login_required
@permission_required("pos.view_invoice", raise_exception=True)
def invoice(request, pk: int):
    """The printable invoice (A4): the sale's lines, what was invoiced, paid and still due."""
    invoice = get_object_or_404(
        Invoice.objects.select_related("customer", "sale", "sale__cashier"), pk=pk
    )
    sale = invoice.sale
    return render(
        request,
        "pos/invoice.html",
        {
            "invoice": invoice,
            "customer": invoice.customer,
            "sale": sale,
            "lines": sale.lines.all() if sale else [],
            # The part of the sale paid at the till; the invoice is for the rest.
            "paid_at_sale": (sale.total - invoice.total) if sale else None,
            "payments": invoice.payments.all(),
            "shop": ShopSettings.load(),
        },
    )


@login_required
@permission_required("pos.view_invoice", raise_exception=True)
def customer_statement(request, pk: int):
    """A customer's statement for a period (?start=&end=, shop dates); ?format=csv downloads it."""
    customer = get_object_or_404(Customer, pk=pk)
    form = StatementPeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        context = {"customer": customer, "form": form, "statement": None}
        return render(request, "pos/customer_statement.html", context, status=400)
    period = form.cleaned_data if form.is_bound else {}
    statement = selectors.customer_statement(customer, period.get("start"), period.get("end"))
    if request.GET.get("format") == "csv":
        return _statement_csv(statement)
    context = {"customer": customer, "form": form, "statement": statement}
    context["shop"] = ShopSettings.load()
    return render(request, "pos/customer_statement.html", context)


def _statement_csv(statement) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"statement-customer-{statement.customer.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    places = ShopSettings.load().currency_decimal_places

    def money(value):
        return to_currency(value, places) if value else ""

    writer = csv.writer(response)
    writer.writerow(["date", "reference", "description", "debit", "credit", "balance"])
    writer.writerow(["", "", "Opening balance", "", "", to_currency(statement.opening_balance)])
    for row in statement.rows:
        when = timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M")
        writer.writerow(
            [when, row.reference, _csv_safe(row.description), money(row.debit),
             money(row.credit), to_currency(row.balance, places)]
        )  # fmt: skip
    writer.writerow(["", "", "Closing balance", "", "", to_currency(statement.closing_balance)])
    return response


def _csv_safe(text: str) -> str:
    """Keep a spreadsheet from running typed-in text (a payment reference) as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
