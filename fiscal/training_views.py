"""Training mode's screens (fiscal.training): the managers' page that puts tills in training and
takes them out, and, for the cashier, a training receipt (TS/TR), its print on the till's
printer, and the refund of a training sale. The till itself (pos.register) rings the training
sales up, through pos.hooks.till_modes."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from core.errors import DomainError
from fiscal import codes, receipts, training
from fiscal.models import TrainingReceipt, TrainingTill
from fiscal.training_escpos import training_receipt_bytes
from pos import receipts as slips
from pos import scoping
from pos.models import Register, ShopSettings
from pos.printing.network import PrinterError, send
from pos.services.printing import printer_for

RECENT = 20


@login_required
@permission_required("fiscal.switch_training", raise_exception=True)
def tills(request):
    """Each till in use, in training or not, with the button that switches it; the training
    receipts rung up lately."""
    in_training = {t.register_id: t for t in TrainingTill.objects.select_related("started_by")}
    # The tills and receipts of the stores the manager works in (pos.scoping).
    registers = scoping.for_user(Register.objects.filter(is_active=True), request.user)
    registers = registers.order_by("code")
    recent = scoping.for_user(TrainingReceipt.objects.all(), request.user)
    recent = recent.select_related("register", "cashier").order_by("-pk")
    return render(
        request,
        "fiscal/training_tills.html",
        {
            "rows": [(register, in_training.get(register.pk)) for register in registers],
            "recent": recent[:RECENT],
        },
    )


def _switch(request, pk: int, action, done: str):
    register = get_object_or_404(scoping.for_user(Register.objects.all(), request.user), pk=pk)
    try:
        action(register=register, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done % {"till": register.name})
    return redirect("fiscal:training_tills")


@require_POST
@login_required
@permission_required("fiscal.switch_training", raise_exception=True)
def start(request, pk: int):
    return _switch(
        request,
        pk,
        training.start_training,
        gettext("%(till)s is in training: its sales are practice, not sales."),
    )


@require_POST
@login_required
@permission_required("fiscal.switch_training", raise_exception=True)
def stop(request, pk: int):
    return _switch(
        request,
        pk,
        training.stop_training,
        gettext("%(till)s is out of training: its next sale is a real sale."),
    )


def _receipt(request, pk: int) -> TrainingReceipt:
    rows = scoping.for_user(TrainingReceipt.objects.all(), request.user)
    rows = rows.select_related("register", "cashier", "original")
    return get_object_or_404(rows, pk=pk)


@login_required
@permission_required("pos.sell", raise_exception=True)
def receipt(request, pk: int):
    """A training receipt's printable page: TRAINING, not an official receipt, with its label
    (TS/TR) and SDC block once the VSDC has signed it."""
    document = _receipt(request, pk)
    paper = slips.paper(request)
    blocks = [b for b in [receipts.receipt_block(document, width=paper)] if b]
    shop = ShopSettings.load()
    context = {
        "receipt": document,
        "label": training.receipt_label(document),
        "lines": list(document.lines.all()),
        "tenders": list(document.tenders.all()),
        "blocks": blocks,
        "held": not all(block.printable for block in blocks),
        "shop": shop,
        "header_lines": slips.header_lines(shop),
        "paper": paper,
        "document_language": shop.document_language(),  # the slip's, as a sale's receipt
        "refundable": not document.is_refund
        and any(training.refundable(document).values())
        and training.in_training(document.register_id),
        "printer": printer_for(document.register),
    }
    response = render(request, "fiscal/training_receipt.html", context)
    slips.remember_paper(request, response)
    return response


@require_POST
@login_required
@permission_required("pos.sell", raise_exception=True)
def print_receipt(request, pk: int):
    """The training receipt on its till's printer (ESC/POS), once it can be printed."""
    document = _receipt(request, pk)
    printer = printer_for(document.register)
    if printer is None:
        messages.error(
            request, gettext("This till has no receipt printer: print from the browser.")
        )
        return redirect(document.get_absolute_url())
    blocks = [b for b in [receipts.receipt_block(document, width=printer.width)] if b]
    held = [block for block in blocks if not block.printable]
    if held:
        messages.error(request, held[0].context.get("message") or "")
        return redirect(document.get_absolute_url())
    try:
        send(printer, training_receipt_bytes(document, ShopSettings.load(), printer, blocks))
    except PrinterError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("Printed on %(printer)s.") % {"printer": printer.name})
    return redirect(document.get_absolute_url())


@login_required
@permission_required("pos.sell", raise_exception=True)
def refund(request, pk: int):
    """Refund a training sale (all or some of its lines): a training refund, printed TR."""
    document = _receipt(request, pk)
    left = training.refundable(document) if not document.is_refund else {}
    lines = [(line, left.get(line.pk, Decimal(0))) for line in document.lines.all()]
    reasons = codes.refund_reason_choices()
    error, typed = "", {}
    if request.method == "POST":
        wanted = []
        for line, _left in lines:
            raw = request.POST.get(f"qty-{line.pk}", "").strip() or "0"
            typed[line.pk] = raw
            try:
                quantity = Decimal(raw)
            except InvalidOperation:
                quantity = Decimal(-1)
            if not quantity.is_finite():
                quantity = Decimal(-1)
            wanted.append(training.RefundLine(line.pk, quantity))
        try:
            done = training.refund_training_sale(
                receipt=document,
                user=request.user,
                lines=wanted,
                reason_code=request.POST.get("reason_code", "")[:2],
                reason=request.POST.get("reason", ""),
            )
        except DomainError as problem:
            error = problem.message
        else:
            return redirect(done.get_absolute_url())
    return render(
        request,
        "fiscal/training_refund.html",
        {
            "receipt": document,
            "lines": [(line, left_, typed.get(line.pk, "")) for line, left_ in lines],
            "reasons": reasons,
            "error": error,
        },
        status=400 if error else 200,
    )
