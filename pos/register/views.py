"""The till: open a shift, ring up a cart, take payment, receipts, history, refunds, close.

Every action is a plain form POST that redirects back (so a reload never repeats it); with
register.js the same POST is sent by fetch and answered with the register's body only.
Views translate HTTP to the services in pos.services and back; the rules live there.
"""

import functools
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import audit
from monitoring.ratelimit import limit
from pos import errors, selectors
from pos.models import (
    Customer,
    HeldSale,
    MobileMoneyRequest,
    Product,
    ProductStatus,
    Sale,
    Shift,
    ShopSettings,
    Tender,
)
from pos.register import forms
from pos.register.cart import SessionCart
from pos.services import mobile_money
from pos.services.checkout import TenderLine, checkout
from pos.services.customers import create_customer
from pos.services.holds import discard_held_sale, hold_sale, list_held, resume_held_sale
from pos.services.refunds import refund_sale
from pos.services.shifts import close_shift, open_shift, open_shift_for, record_cash_movement
from pos.services.shifts import z_report as build_z_report
from pos.services.voids import void_sale
from vevurn.errors import DomainError

PARTIAL_HEADER = "HTTP_X_REGISTER_PARTIAL"
# The largest amount a money field takes (max_digits=14, decimal_places=2).
MAX_TYPED_AMOUNT = Decimal(10**12)


def till(view):
    """Signed in, may sell, and has an open shift (else: go and open one)."""

    @login_required
    @permission_required("pos.sell", raise_exception=True)
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        shift = open_shift_for(request.user)
        if shift is None:
            messages.info(request, "Open a shift to start selling.")
            return redirect("register:open_shift")
        return view(request, shift, *args, **kwargs)

    return wrapped


@login_required
def start(request):
    """Where sign-in lands: the register with an open shift; a cashier without one opens one;
    supervisors (who may close anyone's shift) go to the home page."""
    if open_shift_for(request.user) is not None:
        return redirect("register:register")
    user = request.user
    if user.has_perm("pos.sell") and not user.has_perm("pos.close_any_shift"):
        return redirect("register:open_shift")
    return redirect("accounts:home")


@login_required
@permission_required("pos.sell", raise_exception=True)
def open_shift_view(request):
    if open_shift_for(request.user) is not None:
        return redirect("register:register")
    form = forms.OpenShiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            open_shift(
                register=form.cleaned_data["register"],
                cashier=request.user,
                opening_float=form.cleaned_data["opening_float"],
            )
        except DomainError as error:
            _form_error(form, error, default_field="register")
        else:
            return redirect("register:register")
    return render(request, "pos/register/open_shift.html", {"form": form})


# --- The register ----------------------------------------------------------------------------


@till
def register(request, shift):
    return _render_register(request, shift)


def _render_register(request, shift, *, status=200, **extra):
    cart = SessionCart(request.session)
    lines, priced, customer = cart.priced()
    customer_q = request.GET.get("customer_q", "").strip()
    context = {
        "shift": shift,
        "lines": lines,
        "priced": priced,
        "customer": customer,
        "order_discount": cart.order_discount,
        "scan_form": extra.pop("scan_form", None) or forms.ScanForm(),
        "customer_form": extra.pop("customer_form", None) or forms.CustomerForm(),
        "held": list(list_held(shift.register)),
        "customer_q": customer_q,
        "customer_matches": list(selectors.customer_lookup(customer_q)) if customer_q else None,
        "shop": ShopSettings.load(),
        **extra,
    }
    template = "pos/register/register.html"
    if request.META.get(PARTIAL_HEADER):
        template = "pos/register/_register_body.html"
    return render(request, template, context, status=status)


def _back(request, shift, **extra):
    """After an action: the body alone for register.js, else a redirect (reload-safe)."""
    if extra or request.META.get(PARTIAL_HEADER):
        status = extra.pop("status", 200)
        return _render_register(request, shift, status=status, **extra)
    return redirect("register:register")


@require_POST
@till
def scan(request, shift):
    """A barcode or SKU adds the product (again: quantity + 1); a name shows the matches."""
    form = forms.ScanForm(request.POST)
    if not form.is_valid():
        return _back(request, shift, scan_form=form, status=400)
    code = form.cleaned_data["code"].strip()
    product = selectors.product_lookup(code)
    if product is None:
        matches = list(selectors.product_search(code, limit=8))
        if len(matches) == 1:
            product = matches[0]
        elif matches:
            return _back(request, shift, matches=matches, scan_form=forms.ScanForm())
        else:
            form.add_error("code", f"No product matches “{code}”.")
            return _back(request, shift, scan_form=form, status=404)
    return _add(request, shift, product, form)


@till
def search(request, shift):
    """Products whose name matches what is typed so far, for the pick list (register.js)."""
    code = request.GET.get("code", "").strip()
    matches = list(selectors.product_search(code, limit=8)) if len(code) >= 2 else []
    return render(request, "pos/register/_matches.html", {"matches": matches})


@require_POST
@till
def add_product(request, shift, pk: int):
    """A product picked from the name matches."""
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        return _back(request, shift, status=404)
    return _add(request, shift, product, forms.ScanForm())


def _add(request, shift, product, form):
    cart = SessionCart(request.session)
    if product.status != ProductStatus.ACTIVE:
        form.add_error("code", f"{product.name} is {product.get_status_display().lower()}.")
        return _back(request, shift, scan_form=form, status=409)
    in_cart = sum(line["quantity"] for line in cart.lines if line["product_id"] == product.pk)
    shop = ShopSettings.load()
    if not shop.allow_negative_stock and product.stock_on_hand < in_cart + 1:
        form.add_error(
            "code",
            f"Out of stock: {product.name} ({product.stock_on_hand} left, "
            f"{in_cart} already in the cart).",
        )
        return _back(request, shift, scan_form=form, status=409)
    cart.add(product.pk)
    return _back(request, shift)


@require_POST
@till
def update_line(request, shift, index: int):
    cart = SessionCart(request.session)
    if not 0 <= index < len(cart):
        return _back(request, shift)
    form = forms.LineForm(request.POST)
    if not form.is_valid():
        return _back(request, shift, line_errors={index: form.errors}, status=400)
    cart.update_line(
        index,
        quantity=form.cleaned_data["quantity"],
        unit_price=form.cleaned_data["unit_price"],
        discount=form.cleaned_data["discount"] or Decimal(0),
    )
    return _back(request, shift)


@require_POST
@till
def remove_line(request, shift, index: int):
    cart = SessionCart(request.session)
    if 0 <= index < len(cart):
        cart.remove(index)
    return _back(request, shift)


@require_POST
@till
def clear(request, shift):
    cart = SessionCart(request.session)
    _abandon_momo_request(shift, cart)
    cart.clear()
    return _back(request, shift)


def _abandon_momo_request(shift, cart) -> None:
    """The cart is cleared or held: a Mobile Money request asked for it will not pay a sale."""
    if cart.data.get("checkout_key"):
        mobile_money.abandon_requests(shift=shift, request_key=cart.data["checkout_key"])


@require_POST
@till
def order_discount(request, shift):
    form = forms.OrderDiscountForm(request.POST)
    if not form.is_valid():
        return _back(request, shift, discount_errors=form.errors["order_discount"], status=400)
    cart = SessionCart(request.session)
    amount = form.cleaned_data["order_discount"]
    if amount > cart.priced()[1].subtotal - sum(Decimal(x["discount"]) for x in cart.lines):
        message = "The discount cannot be more than the sale."
        return _back(request, shift, discount_errors=[message], status=400)
    cart.set_order_discount(amount)
    return _back(request, shift)


@require_POST
@till
def attach_customer(request, shift):
    cart = SessionCart(request.session)
    raw = request.POST.get("customer_id", "")
    if raw in ("", "0"):
        cart.set_customer(None)
    elif raw.isdigit() and Customer.objects.filter(pk=raw, is_active=True).exists():
        cart.set_customer(int(raw))
    return _back(request, shift)


@require_POST
@till
def create_customer_view(request, shift):
    form = forms.CustomerForm(request.POST)
    if form.is_valid():
        try:
            customer = create_customer(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            SessionCart(request.session).set_customer(customer.pk)
            return _back(request, shift)
    return _back(request, shift, customer_form=form, show_customer=True, status=400)


@require_POST
@till
def hold(request, shift):
    cart = SessionCart(request.session)
    try:
        hold_sale(
            register=shift.register,
            cashier=request.user,
            cart=cart.as_cart(),
            note=request.POST.get("note", ""),
        )
    except DomainError as error:
        return _back(request, shift, cart_error=error.message, status=error.status)
    _abandon_momo_request(shift, cart)
    cart.clear()
    messages.success(request, "Sale held. Resume it from the list of held sales.")
    return redirect("register:register")


@require_POST
@till
def resume(request, shift, pk: int):
    held = get_object_or_404(HeldSale, pk=pk)
    cart = SessionCart(request.session)
    if len(cart):
        return _back(
            request, shift, cart_error="Finish, hold or clear this sale first.", status=409
        )
    try:
        cart.load(resume_held_sale(held=held, register=shift.register, user=request.user))
    except DomainError as error:
        return _back(request, shift, cart_error=error.message, status=error.status)
    return redirect("register:register")


@require_POST
@till
def discard(request, shift, pk: int):
    held = get_object_or_404(HeldSale, pk=pk)
    try:
        discard_held_sale(held=held, user=request.user, register=shift.register)
    except DomainError as error:
        return _back(request, shift, cart_error=error.message, status=error.status)
    return redirect("register:register")


# --- Payment ---------------------------------------------------------------------------------


@till
def payment(request, shift):
    cart = SessionCart(request.session)
    if request.method == "POST":
        return _pay(request, shift, cart)
    if not len(cart):
        return redirect("register:register")
    lines, priced, customer = cart.priced()
    form = forms.PaymentForm(initial={"idempotency_key": cart.checkout_key(), "cash": priced.total})
    return _render_payment(request, shift, cart, form)


def _render_payment(request, shift, cart, form, *, status=200, **extra):
    lines, priced, customer = cart.priced()
    approval = extra.pop("approval", None) or forms.ManagerApprovalForm(
        request=request, permission="pos.approve_discount"
    )
    momo_request = None
    momo_id = form["momo_request_id"].value()
    if momo_id and str(momo_id).isdigit():
        momo_request = MobileMoneyRequest.objects.filter(
            pk=momo_id, shift=shift, payment__isnull=True
        ).first()
    tendered = Decimal(0)
    for name in forms.PaymentForm.TENDERS:
        # What was typed, even when the form refused it; nothing that is not a sane amount
        # (1e308, NaN: the field's own error says so) reaches the change shown.
        try:
            typed = Decimal(str(form[name].value() or 0))
        except ArithmeticError:
            continue
        if typed.is_finite() and abs(typed) < MAX_TYPED_AMOUNT:
            tendered += typed
    return render(
        request,
        "pos/register/payment.html",
        {
            "shift": shift,
            "lines": lines,
            "priced": priced,
            "customer": customer,
            "form": form,
            "approval": approval,
            "quick_notes": [1000, 2000, 5000, 10000],
            "change_due": max(tendered - priced.total, Decimal(0)),
            "still_due": max(priced.total - tendered, Decimal(0)),
            "momo_request": momo_request,
            "momo_message": mobile_money.cashier_message(momo_request) if momo_request else "",
            "shop": ShopSettings.load(),
            **extra,
        },
        status=status,
    )


def _pay(request, shift, cart):
    form = forms.PaymentForm(request.POST)
    if not form.is_valid():
        return _render_payment(request, shift, cart, form, status=400)
    key = form.cleaned_data["idempotency_key"]
    done = Sale.objects.filter(idempotency_key=key, cashier=request.user).first()
    if done is not None:  # a double click or a refresh after the sale went through
        return redirect("pos:receipt", pk=done.pk)
    if not len(cart):
        messages.info(request, "The cart is empty.")
        return redirect("register:register")
    if "quick_cash" in request.POST or "exact_cash" in request.POST:
        return _quick_cash(request, shift, cart, form)
    if "momo_request" in request.POST or "momo_check" in request.POST:
        return _momo(request, shift, cart, form)
    return _checkout(request, shift, cart, form)


def _quick_cash(request, shift, cart, form):
    """Without JavaScript, the note buttons post the form: fill the cash and show it again."""
    data = request.POST.copy()
    if "exact_cash" in request.POST:
        others = sum((form.cleaned_data[t] or 0 for t in form.TENDERS if t != "cash"), Decimal(0))
        data["cash"] = str(max(cart.priced()[1].total - others, Decimal(0)))
    else:
        data["cash"] = request.POST["quick_cash"]
    return _render_payment(request, shift, cart, forms.PaymentForm(data))


def _momo(request, shift, cart, form):
    """Request-to-pay without JavaScript: start it, or ask again how it stands."""
    data = request.POST.copy()
    try:
        if "momo_request" in request.POST:
            momo_request = mobile_money.start_request(
                shift=shift,
                amount=form.cleaned_data["mobile_money"] or "",
                phone=request.POST.get("momo_phone", ""),
                user=request.user,
                request_key=form.cleaned_data["idempotency_key"],
            )
        else:
            momo_request = get_object_or_404(
                MobileMoneyRequest, pk=form.cleaned_data["momo_request_id"] or 0, shift=shift
            )
            momo_request = mobile_money.refresh_request(momo_request)
    except DomainError as error:
        form.add_error("mobile_money", error.message)
        return _render_payment(request, shift, cart, form, status=error.status)
    data["momo_request_id"] = str(momo_request.pk)
    return _render_payment(request, shift, cart, forms.PaymentForm(data))


@limit("checkout")
def _checkout(request, shift, cart, form):
    approval = forms.ManagerApprovalForm(
        request.POST, request=request, permission="pos.approve_discount"
    )
    if not approval.is_valid():
        return _render_payment(request, shift, cart, form, approval=approval, status=400)
    data = form.cleaned_data
    tenders = []
    for name in form.TENDERS:
        amount = data[name]
        if not amount:
            continue
        if name == "mobile_money":
            tenders.append(
                TenderLine(name, amount, data["momo_reference"], data["momo_request_id"] or None)
            )
        else:
            tenders.append(TenderLine(name, amount))
    try:
        sale = checkout(
            shift=shift,
            cashier=request.user,
            cart=cart.as_cart(),
            tenders=tenders,
            idempotency_key=data["idempotency_key"],
            approved_by=approval.approver,
        )
    except errors.ApprovalRequired as error:
        approval.add_error(None, error.message)
        return _render_payment(
            request, shift, cart, form, approval=approval, needs_approval=True, status=403
        )
    except DomainError as error:
        return _render_payment(
            request, shift, cart, form, status=error.status, **_place_error(error, cart)
        )
    cart.clear()
    return redirect("pos:receipt", pk=sale.pk)


def _place_error(error: DomainError, cart) -> dict:
    """Put a checkout refusal next to what caused it: a cart line, the tenders, the customer."""
    fields = list(error.fields) or [""]
    field = fields[0]
    product_id = error.details.get("product_id")
    if isinstance(product_id, list):
        product_id = product_id[0] if product_id else None
    if product_id is not None:
        for i, line in enumerate(cart.lines):
            if line["product_id"] == product_id:
                return {"line_errors": {i: error.message}}
    if field.startswith("lines."):
        index = field.split(".")[1]
        if index.isdigit():
            return {"line_errors": {int(index): error.message}}
    if field == "customer" or error.code in ("customer_required", "credit_limit_exceeded"):
        return {"customer_error": error.message}
    if field.startswith("tenders") and field.endswith("reference"):
        return {"reference_error": error.message}
    if field.startswith("tenders"):
        return {"tender_error": error.message}
    return {"payment_error": error.message}


# --- History, voids and refunds --------------------------------------------------------------


@till
def history(request, shift):
    sales = (
        Sale.objects.filter(shift=shift)
        .select_related("customer")
        .annotate(refund_count=Count("refunds"))
        .order_by("-created_at", "-pk")
    )
    q = request.GET.get("q", "").strip()
    if q:
        sales = sales.filter(number__icontains=q)
    return render(
        request,
        "pos/register/history.html",
        {"shift": shift, "sales": sales[:200], "q": q},
    )


def _approver(request, form, permission: str):
    """Who authorises: the user if allowed, else the manager whose credentials were typed."""
    if request.user.has_perm(permission):
        return request.user
    if form.is_valid() and form.approver is not None:
        return form.approver
    if form.is_bound and not form.errors:
        form.add_error(None, "A manager must approve this: enter their username and password.")
    return None


def _audit_override(*, action: str, approver, request, sale, details: dict) -> None:
    if approver.pk != request.user.pk:
        audit.record(
            action=action,
            actor=approver,
            target=sale,
            details={"at_the_till": request.user.get_username(), **details},
        )


@till
def void(request, shift, pk: int):
    sale = get_object_or_404(Sale, pk=pk, shift=shift)
    form = forms.VoidForm(request.POST or None)
    approval = forms.ManagerApprovalForm(
        request.POST or None, request=request, permission="pos.void_sale"
    )
    if request.method == "POST" and form.is_valid():
        approver = _approver(request, approval, "pos.void_sale")
        if approver is not None:
            try:
                void_sale(sale=sale, user=approver, reason=form.cleaned_data["reason"])
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                _audit_override(
                    action="sale.void_override",
                    approver=approver,
                    request=request,
                    sale=sale,
                    details={"reason": form.cleaned_data["reason"]},
                )
                messages.success(request, f"Sale {sale.number} voided.")
                return redirect("register:history")
    return render(
        request,
        "pos/register/void.html",
        {"sale": sale, "form": form, "approval": approval, "shift": shift},
    )


@till
def refund(request, shift, pk: int):
    sale = get_object_or_404(Sale, pk=pk)
    form = forms.RefundForm(request.POST or None, sale=sale)
    approval = forms.ManagerApprovalForm(
        request.POST or None, request=request, permission="pos.refund_sale"
    )
    if request.method == "POST" and form.is_valid():
        approver = _approver(request, approval, "pos.refund_sale")
        if approver is not None:
            try:
                done = refund_sale(
                    sale=sale,
                    shift=shift,
                    user=approver,
                    lines=form.refund_lines(),
                    reason=form.cleaned_data["reason"],
                    tender=form.cleaned_data["tender"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                _audit_override(
                    action="sale.refund_override",
                    approver=approver,
                    request=request,
                    sale=sale,
                    details={"refund": done.number, "total": str(done.total)},
                )
                messages.success(request, f"Refund {done.number} done.")
                return redirect("register:history")
    return render(
        request,
        "pos/register/refund.html",
        {"sale": sale, "form": form, "approval": approval, "shift": shift},
    )


# --- The shift -------------------------------------------------------------------------------


@till
def shift_view(request, shift):
    cash_form = forms.CashMovementForm()
    close_form = forms.CloseShiftForm()
    if request.method == "POST" and "cash_movement" in request.POST:
        cash_form = forms.CashMovementForm(request.POST)
        if cash_form.is_valid():
            try:
                record_cash_movement(shift=shift, user=request.user, **cash_form.cleaned_data)
            except DomainError as error:
                _form_error(cash_form, error, default_field=None)
            else:
                messages.success(request, "Cash movement recorded.")
                return redirect("register:shift")
    elif request.method == "POST":
        close_form = forms.CloseShiftForm(request.POST)
        if close_form.is_valid():
            try:
                closed = close_shift(
                    shift=shift,
                    counted=close_form.counted(),
                    user=request.user,
                    note=close_form.cleaned_data["note"],
                )
            except DomainError as error:
                _form_error(close_form, error, default_field=None)
            else:
                SessionCart(request.session).clear()
                return redirect("register:z_report", pk=closed.pk)
    return render(
        request,
        "pos/register/shift.html",
        {
            "shift": shift,
            "cash_form": cash_form,
            "close_form": close_form,
            "movements": shift.cash_movements.order_by("created_at"),
            "shop": ShopSettings.load(),
        },
    )


@login_required
def z_report(request, pk: int):
    shift = get_object_or_404(Shift.objects.select_related("register", "cashier"), pk=pk)
    if shift.cashier_id != request.user.pk and not request.user.has_perm("pos.view_shift"):
        return render(request, "403.html", status=403)
    report = shift.z_report if shift.status == Shift.Status.CLOSED else build_z_report(shift)
    return render(
        request,
        "pos/register/z_report.html",
        {
            "shift": shift,
            "report": report,
            "by_tender": [
                (_tender_label(tender), row["net"], abs(Decimal(row["change"])))
                for tender, row in report.get("by_tender", {}).items()
            ],
            "counts": [
                (_tender_label(tender), row) for tender, row in report.get("counts", {}).items()
            ],
            "start_url": reverse("register:open_shift"),
        },
    )


def _tender_label(tender: str) -> str:
    return Tender(tender).label if tender in Tender.values else tender


def _form_error(form, error: DomainError, *, default_field):
    """A service refusal on the form field it names (`counted.cash` -> `counted_cash`)."""
    for field in error.fields or {}:
        name = field.replace(".", "_")
        if name in form.fields:
            form.add_error(name, error.message)
            return
    form.add_error(default_field, error.message)
