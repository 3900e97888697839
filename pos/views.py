"""Pages of the point of sale. Views translate HTTP to service calls and back."""

import functools
import json
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from monitoring.errors import error_response
from pos import hooks, receipts, scoping, selectors
from pos.forms import StatementPeriodForm
from pos.models import (
    Customer,
    CustomerMessage,
    Invoice,
    MobileMoneyRequest,
    MobileProvider,
    Refund,
    RefundLine,
    Sale,
    ShopSettings,
)
from pos.money import to_currency
from pos.register.lock import till_shift_id
from pos.services import customer_messages, ledger, mobile_money, printing
from pos.services import shop_logo as shop_logo_service
from pos.services.receipt_prints import record_receipt_print
from pos.services.shifts import open_shift_for
from pos.spreadsheet import csv_writer

# The sale whose receipt the till's printer has just printed (set by the till after checkout
# and by print_receipt): its page then shows it without counting another print.
PRINTED_SALE = "printed_sale"

logger = logging.getLogger("vevurn.momo")


def _slip(
    request,
    template: str,
    context: dict,
    *,
    code: str | None = None,
    customer=None,
    store=None,
):
    """A printed slip: the shop's one header (with the till's `store`'s address, TIN and header
    where it has them), the paper of this device, the scannable code.

    The slip is in the customer's language, else the shop's receipt language; the buttons
    around it (print, new sale) stay in the cashier's (templates/pos/_slip_base.html)."""
    shop = ShopSettings.load()
    width = receipts.paper(request)
    language = shop.document_language(customer)
    with translation.override(language):
        header_lines = receipts.header_lines(shop, store)
    response = render(
        request,
        template,
        {
            **context,
            "shop": shop,
            "header_lines": header_lines,
            "paper": width,
            "code": receipts.code_svg(code, width=width) if code else None,
            "document_language": language,
        },
    )
    response["Content-Language"] = language
    receipts.remember_paper(request, response)
    return response


def render_document(request, template: str, context: dict, language: str) -> HttpResponse:
    """A whole page (an invoice) in the customer's language, else the shop's receipt language,
    whatever the language of the screen that printed it."""
    with translation.override(language):
        response = render(request, template, context)
    response["Content-Language"] = language
    return response


@login_required
@permission_required("pos.view_sale", raise_exception=True)
def receipt(request, pk: int):
    """The printable receipt (80 or 58 mm thermal). Every print after the first is a copy."""
    sale = get_object_or_404(
        Sale.objects.select_related("cashier", "customer", "register__store", "shift"), pk=pk
    )
    if not selectors.visible_sales(request.user).filter(pk=sale.pk).exists():
        raise PermissionDenied(gettext("This sale is on another cashier's shift."))
    # Another app's part of the receipt (fiscal signing, pos.hooks) may hold the print back.
    blocks = hooks.blocks_for(sale, width=receipts.paper(request))
    held = not all(block.printable for block in blocks)
    if held:
        is_copy = False
    elif request.session.get(PRINTED_SALE) == sale.pk:
        # Just printed on the till's printer: shown, not printed again.
        del request.session[PRINTED_SALE]
        is_copy = False
    else:
        is_copy = record_receipt_print(sale=sale, user=request.user)
    payments = [p for p in sale.payments.all() if not p.is_change]
    context = {
        "sale": sale,
        "lines": sale.lines.all(),
        "payments": payments,
        "refunds": selectors.refund_history(sale),
        "is_copy": is_copy,
        "blocks": blocks,
        "held": held,
        "printer": None if held else printing.printer_for(sale.register),
        "print_url": reverse("pos:print_receipt", args=[sale.pk]),
        "points": ledger.receipt_points(sale),
        "document_actions": hooks.document_actions_for(sale, request.user),
    }
    return _slip(
        request,
        "pos/receipt.html",
        context,
        code=sale.number,
        customer=sale.customer,
        store=sale.register.store,
    )


@login_required
@require_POST
@permission_required("pos.sell", raise_exception=True)
def send_receipt(request, pk: int):
    """Send the receipt by SMS or email, on the customer's request (once per channel): the
    worker sends it; the page says where it goes."""
    sale = get_object_or_404(Sale.objects.select_related("customer"), pk=pk)
    if not selectors.visible_sales(request.user).filter(pk=sale.pk).exists():
        raise PermissionDenied(gettext("This sale is on another cashier's shift."))
    channel = request.POST.get("channel", "")
    if channel not in CustomerMessage.Channel.values:
        channel = CustomerMessage.Channel.SMS
    try:
        message = customer_messages.send_receipt(
            sale=sale, channel=channel, address=request.POST.get("address", "")[:254]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            gettext("The receipt goes by %(channel)s to %(address)s.")
            % {"channel": message.get_channel_display(), "address": message.address},
        )
    request.session[PRINTED_SALE] = sale.pk  # back on its page: shown, not counted as a copy
    return redirect("pos:receipt", pk=sale.pk)


@login_required
@require_POST
def print_receipt(request, pk: int):
    """Print the receipt (a copy, after the first print) on the sale's till's printer."""
    sale = get_object_or_404(Sale.objects.select_related("register", "shift", "customer"), pk=pk)
    if not selectors.visible_sales(request.user).filter(pk=sale.pk).exists():
        raise PermissionDenied(gettext("This sale is on another cashier's shift."))
    printer = printing.printer_for(sale.register)
    if printer is None:
        messages.error(
            request, gettext("This till has no receipt printer: print from the browser.")
        )
    else:
        try:
            copy = printing.print_receipt(sale=sale, user=request.user, printer=printer)
        except (printing.ReceiptHeld, printing.PrinterError) as error:
            messages.error(request, error.message)
        else:
            request.session[PRINTED_SALE] = sale.pk
            done = (
                gettext("Copy printed on %(printer)s.")
                if copy
                else gettext("Printed on %(printer)s.")
            )
            messages.success(request, done % {"printer": printer.name})
    return redirect("pos:receipt", pk=sale.pk)


@login_required
@permission_required("pos.view_sale", raise_exception=True)
def refund_slip(request, pk: int):
    """The printable slip of a refund, for the customer (and the drawer's paper trail)."""
    refund = get_object_or_404(
        Refund.objects.select_related(
            "sale", "sale__customer", "shift__register__store", "created_by"
        ).prefetch_related(
            Prefetch("lines", RefundLine.objects.select_related("product", "sale_line"))
        ),
        pk=pk,
    )
    if not _may_see_refund(request.user, refund):
        raise PermissionDenied(gettext("This refund is on another cashier's shift."))
    code = refund.sale.number if refund.sale_id else None
    customer = refund.sale.customer if refund.sale_id else None
    blocks = hooks.blocks_for(refund, width=receipts.paper(request))
    held = not all(block.printable for block in blocks)
    context = {
        "refund": refund,
        "blocks": blocks,
        "held": held,
        "printer": None if held else printing.printer_for(refund.shift.register),
        "print_url": reverse("pos:print_refund_slip", args=[refund.pk]),
    }
    store = refund.shift.register.store
    return _slip(
        request, "pos/refund_slip.html", context, code=code, customer=customer, store=store
    )


@login_required
@require_POST
def print_refund_slip(request, pk: int):
    """Print a copy of the refund's slip on its till's printer (the original printed when the
    refund was done); marked "COPY", and the drawer stays shut."""
    refund = get_object_or_404(Refund.objects.select_related("shift__register", "sale"), pk=pk)
    if not _may_see_refund(request.user, refund):
        raise PermissionDenied(gettext("This refund is on another cashier's shift."))
    printer = printing.printer_for(refund.shift.register)
    if printer is None:
        messages.error(
            request, gettext("This till has no receipt printer: print from the browser.")
        )
    else:
        try:
            printing.print_refund_slip(refund=refund, printer=printer, copy=True)
        except (printing.ReceiptHeld, printing.PrinterError) as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, gettext("Copy printed on %(printer)s.") % {"printer": printer.name}
            )
    return redirect("pos:refund_slip", pk=refund.pk)


def _may_see_refund(user, refund) -> bool:
    return (
        user.has_perm("pos.view_sale")
        and (refund.shift.cashier_id == user.pk or user.has_perm("pos.view_shift"))
        and scoping.works_in(user, refund.shift.register.store_id)
    )


@login_required
@permission_required("pos.view_invoice", raise_exception=True)
def account_payment_receipt(request, pk: int):
    """The printable receipt of a payment on account: what was paid, against which invoices,
    and what the customer still owes."""
    payments = selectors.account_payment(pk)
    if not payments:
        raise Http404
    first = payments[0]
    if first.created_by_id != request.user.pk and not request.user.has_perm("pos.view_shift"):
        raise PermissionDenied(gettext("This payment was taken by another cashier."))
    if first.shift_id and not scoping.works_in(request.user, first.shift.register.store_id):
        raise PermissionDenied(gettext("This payment was taken in another store."))
    customer = first.invoice.customer
    context = {
        "payments": payments,
        "first": first,
        "customer": customer,
        "total": sum((p.amount for p in payments), Decimal(0)),
        "owed": sum((i.balance_due for i in selectors.open_invoices(customer)), Decimal(0)),
    }
    store = first.shift.register.store if first.shift_id else None
    return _slip(
        request, "pos/account_payment_receipt.html", context, customer=customer, store=store
    )


# --- Mobile money (request to pay): JSON for the payment screen, and MTN's callback ------------

# The payment screen polls every second or so; MTN is asked at most once per this many seconds
# per request (callbacks share the same budget).
MOMO_REFRESH_INTERVAL_SECONDS = 2


def json_permission_required(perm: str):
    """Session login and `perm`, answered in JSON (401/403) instead of a login redirect."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return error_response(request, status=401)
            if not request.user.has_perm(perm):
                return error_response(request, status=403)
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error_response(request, exc.code, exc.message, exc.status, exc.fields)

        return wrapped

    return decorator


def _momo_json(momo_request: MobileMoneyRequest) -> dict:
    return {
        "id": momo_request.pk,
        "provider": momo_request.provider,
        "reference_id": str(momo_request.reference_id),
        "status": momo_request.status,
        "amount": str(momo_request.amount),
        "financial_transaction_id": momo_request.financial_transaction_id,
        "message": mobile_money.cashier_message(momo_request),
    }


def _request_data(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST


@require_POST
@json_permission_required("pos.sell")
def momo_request_create(request):
    """Ask the provider to prompt the customer's phone: {amount, phone, request_key?,
    provider? ("mtn", the default, or "airtel")} -> 201 {id, ...}. The same request_key again
    returns the first request (200) without asking the provider twice."""
    data = _request_data(request)
    if not data and request.content_type == "application/json":
        return error_response(request, message=gettext("Send a JSON object."), status=400)
    shift = open_shift_for(request.user, till_shift_id=till_shift_id(request))
    momo_request = mobile_money.start_request(
        shift=shift,
        amount=data.get("amount", ""),
        phone=str(data.get("phone", "")),
        user=request.user,
        request_key=data.get("request_key") or None,
        provider=str(data.get("provider") or MobileProvider.MTN),
    )
    status = 200 if momo_request.already_requested else 201
    return JsonResponse(_momo_json(momo_request), status=status)


@require_GET
@json_permission_required("pos.sell")
def momo_request_detail(request, pk: int):
    """The request's state for the payment screen, refreshed from MTN while it is pending."""
    momo_request = (
        MobileMoneyRequest.objects.select_related("shift__register").filter(pk=pk).first()
    )
    if momo_request is None or not (
        (
            momo_request.shift.is_worked_by(request.user)
            or request.user.has_perm("pos.close_any_shift")
        )
        and scoping.works_in(request.user, momo_request.shift.register.store_id)
    ):
        return error_response(request, message=gettext("No such Mobile Money request."), status=404)
    if momo_request.status == MobileMoneyRequest.Status.PENDING and _may_refresh(momo_request):
        momo_request = mobile_money.refresh_request(momo_request)
    return JsonResponse(_momo_json(momo_request))


@csrf_exempt
@require_POST
def momo_callback(request, reference_id: str):
    """MTN's notification that a payment finished. Only a hint: we re-query MTN (throttled) and
    never read the body. Always 204, for known and unknown ids alike."""
    try:
        reference = uuid.UUID(reference_id)
    except ValueError:
        return HttpResponse(status=204)
    _refresh_on_callback(MobileMoneyRequest.objects.filter(reference_id=reference).first())
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def sms_delivery_report(request):
    """The SMS gateway's delivery report (form: id, status, phoneNumber, failureReason) at the
    URL set in its dashboard, with the shop's secret token. Always 204; a report without the
    token changes nothing."""
    token = settings.SMS_DELIVERY_REPORT_TOKEN
    if token and constant_time_compare(request.GET.get("token", ""), token):
        customer_messages.record_delivery_report(
            provider_id=request.POST.get("id", "")[:100],
            status=request.POST.get("status", ""),
            failure_reason=request.POST.get("failureReason", ""),
        )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def airtel_callback(request):
    """Airtel's notification ({"transaction": {"id", "status_code", ...}}) at the one URL set in
    its portal. Only a hint, as MTN's: the id names the request, which is re-queried (throttled);
    the status in the body is never trusted. Always 204."""
    transaction = _request_data(request).get("transaction")
    raw_id = transaction.get("id") if isinstance(transaction, dict) else None
    try:
        reference = uuid.UUID(hex=str(raw_id))
    except ValueError:
        return HttpResponse(status=204)
    _refresh_on_callback(
        MobileMoneyRequest.objects.filter(
            reference_id=reference, provider=MobileProvider.AIRTEL
        ).first()
    )
    return HttpResponse(status=204)


def _refresh_on_callback(momo_request: MobileMoneyRequest | None) -> None:
    """A provider's callback names `momo_request`: ask the provider about it (throttled)."""
    if momo_request is not None and _may_refresh(momo_request):
        try:
            mobile_money.refresh_request(momo_request)
        except Exception:  # the provider must get its answer; a bug is logged, never a 500
            logger.exception(
                "%s callback for %s could not be processed",
                momo_request.provider,
                momo_request.reference_id,
            )


def _may_refresh(momo_request: MobileMoneyRequest) -> bool:
    """At most one MTN query per request per interval, across processes (shared cache)."""
    key = f"pos:momo:refreshed:{momo_request.reference_id}"
    try:
        return bool(cache.add(key, 1, timeout=MOMO_REFRESH_INTERVAL_SECONDS))
    except Exception:
        logger.warning("momo refresh throttle: cache unavailable; asking MTN anyway")
        return True


@login_required
@permission_required("pos.view_invoice", raise_exception=True)
def invoice(request, pk: int):
    """The printable invoice (A4): the sale's lines, what was invoiced, paid and still due."""
    invoice = get_object_or_404(
        Invoice.objects.select_related("customer", "sale", "sale__cashier"), pk=pk
    )
    if not selectors.visible_invoices(request.user).filter(pk=invoice.pk).exists():
        raise PermissionDenied(gettext("This invoice is for a sale on another cashier's shift."))
    sale = invoice.sale
    shop = ShopSettings.load()
    context = {
        "invoice": invoice,
        "customer": invoice.customer,
        "sale": sale,
        "lines": sale.lines.all() if sale else [],
        # The part of the sale paid at the till; the invoice is for the rest.
        "paid_at_sale": (sale.total - invoice.total) if sale else None,
        "payments": invoice.payments.all(),
        "shop": shop,
    }
    language = shop.document_language(invoice.customer)
    return render_document(request, "pos/invoice.html", context, language)


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

    writer = csv_writer(response)
    writer.writerow(["date", "reference", "description", "debit", "credit", "balance"])
    writer.writerow(["", "", "Opening balance", "", "", to_currency(statement.opening_balance)])
    for row in statement.rows:
        when = timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M")
        writer.writerow(
            [when, row.reference, row.description, money(row.debit),
             money(row.credit), to_currency(row.balance, places)]
        )  # fmt: skip
    writer.writerow(["", "", "Closing balance", "", "", to_currency(statement.closing_balance)])
    return response


@require_GET
def shop_logo(request):
    """The shop's logo (PNG), for the customer display and receipts; anyone may fetch it. Pages
    ask for it with ?v=<when it changed>, so that answer may be kept for a year."""
    png = shop_logo_service.logo_png()
    if png is None:
        raise Http404
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if request.GET.get("v") else "public, max-age=300"
    )
    return response
