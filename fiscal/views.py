"""The fiscal day reports (X, Z, PLU) for managers: one page, printable; and a pending
receipt's "send it by email once signed" page for the till; proforma quotes: made from the
till's cart, their printable page, printed on the till's printer, sent by message."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages as django_messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from core.errors import DomainError
from fiscal import messages, proformas, receipts
from fiscal.models import OutboxItem, Proforma, ReceiptMessage
from fiscal.printing import print_proforma, print_void, proforma_lines, proforma_total
from fiscal.reports import day_report
from pos import receipts as slips
from pos import selectors
from pos.messaging.sms import sms_enabled
from pos.models import Sale, ShopSettings
from pos.register.cart import SessionCart
from pos.register.lock import till_shift_id
from pos.register.views import till
from pos.scoping import for_user
from pos.services import printing
from pos.services.shifts import open_shift_for

# The proforma (the void) the till's printer has just printed: its page shows it without
# counting a print.
PRINTED_PROFORMA = "fiscal_printed_proforma"
PRINTED_VOID = "fiscal_printed_void"

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
    problem, outbox = "", OutboxItem.objects.all()
    if kind == "z" and day >= today:
        problem = gettext("A Z report is of a day that has ended: choose an earlier day.")
    context = {
        "kind": kind,
        "day": day,
        "today": today,
        # Staff per store: what the devices of the user's stores signed (pos.scoping).
        "report": None if problem else day_report(day, outbox=for_user(outbox, request.user)),
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
        "asked": messages.requests_of(item),
    }
    return render(request, "fiscal/send_later.html", context, status=400 if error else 200)


def _proformas_for(user):
    """The quotes `user` may open: a manager's those of their stores (and their own), a
    cashier's their own."""
    if user.has_perm("pos.view_reports"):
        return for_user(Proforma.objects.all(), user)
    return Proforma.objects.filter(created_by=user)


def _proforma(request, pk: int) -> Proforma:
    quote = get_object_or_404(Proforma.objects.select_related("created_by"), pk=pk)
    if not _proformas_for(request.user).filter(pk=quote.pk).exists():
        raise PermissionDenied(gettext("This proforma is another cashier's."))
    return quote


def _till_printer(request):
    """The receipt printer of the till the user works on, if any."""
    shift = open_shift_for(request.user, till_shift_id=till_shift_id(request))
    return printing.printer_for(shift.register) if shift is not None else None


@till
def till_proforma(request, shift):
    """The till's cart as a proforma quote (with an optional customer name and TIN): signed
    through the outbox like the admin's, then its printable page. The cart stays as it was."""
    cart = SessionCart(request.session)
    bill = cart.priced()
    customer = bill.customer
    name = customer.name if customer else ""
    tin = (customer.tin if customer else "") or ""
    error, fields = "", {}
    lines = proformas.quote_lines_of(bill)
    if request.method == "POST":
        name = request.POST.get("customer_name", "")[:60]
        tin = request.POST.get("buyer_tin", "")[:20]
        try:
            quote = proformas.create_proforma(
                user=request.user,
                lines=lines,
                customer_name=name,
                buyer_tin=tin,
                register_id=shift.register_id,
            )
        except DomainError as problem:
            error, fields = problem.message, problem.fields or {}
        else:
            return redirect("fiscal:proforma", pk=quote.pk)
    context = {
        "shift": shift,
        "lines": [(line, line.product.retail_price * line.quantity) for line in lines],
        "total": sum((line.product.retail_price * line.quantity for line in lines), Decimal(0)),
        "customer_name": name,
        "buyer_tin": tin,
        # A problem with the TIN is shown beside its field, any other above the form.
        "error": "" if "buyer_tin" in fields else error,
        "tin_error": " ".join(fields.get("buyer_tin", [])),
    }
    status = 400 if error else 200
    return render(request, "fiscal/till_proforma.html", context, status=status)


@login_required
@permission_required("pos.sell", raise_exception=True)
def proforma(request, pk: int):
    """A proforma quote's printable page (PS, with its SDC block once signed): a manager's
    every one, a cashier's their own."""
    quote = _proforma(request, pk)
    shop = ShopSettings.load()
    printed = request.session.pop(PRINTED_PROFORMA, None) == quote.pk
    block = receipts.receipt_block(quote, width=slips.paper(request), count=not printed)
    blocks = [block] if block else []
    held = not all(block.printable for block in blocks)
    lines = proforma_lines(quote)
    context = {
        "proforma": quote,
        "lines": lines,
        "total": proforma_total(lines),
        "blocks": blocks,
        "held": held,
        "printer": None if held else _till_printer(request),
        "shop": shop,
        "header_lines": slips.header_lines(shop),
        "paper": slips.paper(request),
    }
    response = render(request, "fiscal/proforma.html", context)
    slips.remember_paper(request, response)
    return response


@login_required
@require_POST
@permission_required("pos.sell", raise_exception=True)
def print_proforma_view(request, pk: int):
    """Print the quote on the till's receipt printer (ESC/POS); a copy after the first print."""
    quote = _proforma(request, pk)
    printer = _till_printer(request)
    if printer is None:
        django_messages.error(
            request, gettext("This till has no receipt printer: print from the browser.")
        )
        return redirect("fiscal:proforma", pk=quote.pk)
    try:
        copy = print_proforma(proforma=quote, printer=printer)
    except (printing.ReceiptHeld, printing.PrinterError) as error:
        django_messages.error(request, error.message)
    else:
        request.session[PRINTED_PROFORMA] = quote.pk
        done = (
            gettext("Copy printed on %(printer)s.") if copy else gettext("Printed on %(printer)s.")
        )
        django_messages.success(request, done % {"printer": printer.name})
    return redirect("fiscal:proforma", pk=quote.pk)


@login_required
@permission_required("pos.sell", raise_exception=True)
def send_proforma(request, pk: int):
    """Send the quote by email (or SMS) once it is signed (at once if it is)."""
    quote = _proforma(request, pk)
    item = get_object_or_404(OutboxItem, kind=OutboxItem.Kind.PROFORMA, proforma=quote)
    return _send_page(
        request,
        item,
        title=gettext("Send proforma %(number)s") % {"number": quote.number},
        back=reverse("fiscal:proforma", args=[quote.pk]),
        address="",
    )


def _send_page(request, item: OutboxItem, *, title: str, back: str, address: str):
    channel = request.POST.get("channel") or ReceiptMessage.Channel.EMAIL
    if channel not in ReceiptMessage.Channel.values or (
        channel == ReceiptMessage.Channel.SMS and not sms_enabled()
    ):
        channel = ReceiptMessage.Channel.EMAIL
    error = ""
    if request.method == "POST":
        address = request.POST.get("address", "")[:254]
        try:
            messages.request_receipt_message(
                item=item, address=address, user=request.user, channel=channel
            )
        except DomainError as problem:
            error = problem.message
        else:
            django_messages.success(
                request,
                gettext("It will be sent to %(address)s once it is signed.")
                % {"address": address.strip()},
            )
            return redirect(back)
    context = {
        "title": title,
        "back": back,
        "address": address,
        "channel": channel,
        "sms": sms_enabled(),
        "error": error,
        "asked": messages.requests_of(item),
    }
    return render(request, "fiscal/send_message.html", context, status=400 if error else 200)


def _voided_sale(request, pk: int):
    sale = get_object_or_404(
        Sale.objects.select_related("customer", "register", "voided_by"), pk=pk
    )
    if not selectors.visible_sales(request.user).filter(pk=sale.pk).exists():
        raise PermissionDenied(gettext("This sale is on another cashier's shift."))
    item = receipts.void_item(sale) if sale.status == Sale.Status.VOIDED else None
    if item is None:
        raise Http404(gettext("This sale has no void receipt."))
    return sale, item


@login_required
@permission_required("pos.view_sale", raise_exception=True)
def void_receipt(request, pk: int):
    """The printable R receipt of a voided sale (NR, then CR copies), once the VSDC signed it:
    the sale's lines and totals with a minus, the void's reason, the SDC block."""
    sale, item = _voided_sale(request, pk)
    printed = request.session.pop(PRINTED_VOID, None) == sale.pk
    block = receipts.item_block(item, width=slips.paper(request), count=not printed)
    held = not block.printable
    shop = ShopSettings.load()
    language = shop.document_language(sale.customer)
    with translation.override(language):
        header_lines = slips.header_lines(shop)
    context = {
        "sale": sale,
        "lines": sale.lines.all(),
        "blocks": [block],
        "held": held,
        "printer": None if held else printing.printer_for(sale.register),
        "shop": shop,
        "header_lines": header_lines,
        "paper": slips.paper(request),
        "document_language": language,
    }
    response = render(request, "fiscal/void_receipt.html", context)
    response["Content-Language"] = language
    slips.remember_paper(request, response)
    return response


@login_required
@require_POST
@permission_required("pos.view_sale", raise_exception=True)
def print_void_receipt(request, pk: int):
    """Print the void's R receipt on the sale's till's printer (CR after the first print)."""
    sale, _item = _voided_sale(request, pk)
    printer = printing.printer_for(sale.register)
    if printer is None:
        django_messages.error(
            request, gettext("This till has no receipt printer: print from the browser.")
        )
        return redirect("fiscal:void_receipt", pk=sale.pk)
    try:
        copy = print_void(sale=sale, printer=printer)
    except (printing.ReceiptHeld, printing.PrinterError) as error:
        django_messages.error(request, error.message)
    else:
        request.session[PRINTED_VOID] = sale.pk
        done = (
            gettext("Copy printed on %(printer)s.") if copy else gettext("Printed on %(printer)s.")
        )
        django_messages.success(request, done % {"printer": printer.name})
    return redirect("fiscal:void_receipt", pk=sale.pk)
