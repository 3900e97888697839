"""The till: open a shift, ring up a cart, take payment, receipts, history, refunds, close.

Every action is a plain form POST that redirects back (so a reload never repeats it); with
register.js the same POST is sent by fetch and answered with the register's body only.
Views translate HTTP to the services in pos.services and back; the rules live there.
"""

import dataclasses
import functools
import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from monitoring.ratelimit import limit
from pos import errors, hooks, scoping, selectors
from pos.mobile_money.providers import configured_providers
from pos.models import (
    Customer,
    HeldSale,
    MobileMoneyRequest,
    MobileProvider,
    Product,
    ProductStatus,
    Register,
    Sale,
    Shift,
    ShopSettings,
    Tender,
)
from pos.register import display, forms, lock
from pos.register.cart import SessionCart, line_quantity
from pos.services import ledger, mobile_money, printing
from pos.services.checkout import NOT_READ, TenderLine, checkout
from pos.services.customers import create_customer
from pos.services.gift_cards import sell_gift_card
from pos.services.holds import discard_held_sale, hold_sale, list_held, resume_held_sale
from pos.services.invoices import pay_on_account
from pos.services.refunds import refund_sale
from pos.services.shifts import (
    cash_breakdown,
    close_shift,
    open_drawer,
    open_shift,
    open_shift_for,
    record_cash_movement,
    require_open_shift,
    require_open_shift_and_sale,
    review_close,
)
from pos.services.shifts import z_report as build_z_report
from pos.services.stock import stock_in
from pos.services.voids import void_sale
from pos.views import PRINTED_SALE

PARTIAL_HEADER = "HTTP_X_REGISTER_PARTIAL"
# The largest amount a money field takes (max_digits=14, decimal_places=2).
MAX_TYPED_AMOUNT = Decimal(10**12)


# The actions that change only the cart (kept in the session) or finish it: all a till in
# another mode (training, pos.hooks.till_modes) takes. Its other actions that write (a refund,
# a void, a gift card, cash in or out, a Mobile Money request, the close) are refused there.
CART_ACTIONS = frozenset(
    {
        "scan",
        "add_product",
        "update_line",
        "more_of_line",
        "less_of_line",
        "remove_line",
        "clear",
        "order_discount",
        "attach_customer",
        "quick_cash",
        "complete",
    }
)


def till(view=None, *, reads_sale=False):
    """Signed in, may sell, and has an open shift: their own, or the shared till's they signed
    in on with their PIN (else: go and open one). A locked till shows the lock screen. A till in
    another mode (training) shows its banner and takes only the cart's actions (CART_ACTIONS).

    `reads_sale` ("Complete"): the view also gets `stored`, {posted idempotency key: the sale
    already stored under it, or None}, read with the shift in one statement (checkout's
    `stored`); empty when the posted key is not a UUID (the form refuses it)."""
    if view is None:
        return functools.partial(till, reads_sale=reads_sale)

    @login_required
    @permission_required("pos.sell", raise_exception=True)
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        till_shift_id = lock.till_shift_id(request)
        key = _posted_key(request) if reads_sale else None
        try:
            if key is None:
                shift = require_open_shift(request.user, till_shift_id=till_shift_id)
            else:
                shift, stored = require_open_shift_and_sale(
                    request.user, key, till_shift_id=till_shift_id
                )
            if reads_sale:
                kwargs["stored"] = {} if key is None else {key: stored}
        except errors.ShiftClosed:
            messages.info(request, gettext("Open a shift to start selling."))
            return redirect("register:open_shift")
        if lock.is_locked(request):
            lock.lock_till(request)
            return redirect("register:unlock")
        lock.touch(request, shift)
        request.till_mode = mode = hooks.till_mode(shift.register_id)
        if mode is not None and request.method == "POST" and view.__name__ not in CART_ACTIONS:
            messages.error(request, mode.refusal)
            return redirect("register:register")
        return view(request, shift, *args, **kwargs)

    return wrapped


def _posted_key(request) -> uuid.UUID | None:
    """The posted idempotency key as the payment form reads it (stripped, a UUID), or None."""
    try:
        return uuid.UUID(request.POST.get("idempotency_key", "").strip())
    except ValueError:
        return None


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
    forged = request.POST.get("register", "")
    if (
        forged.isdigit()
        and Register.objects.filter(pk=forged)
        .exclude(pk__in=scoping.for_user(Register.objects.all(), request.user).values("pk"))
        .exists()
    ):
        # A till of another store, which the form never offered.
        message = gettext("That till is in another store: you do not work there.")
        return render(request, "403.html", {"message": message}, status=403)
    form = forms.OpenShiftForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            open_shift(
                register=form.cleaned_data["register"],
                cashier=request.user,
                opening_float=form.cleaned_data["opening_float"],
                opening_count=form.pieces(),
            )
        except DomainError as error:
            _form_error(form, error, default_field="register")
        else:
            return redirect("register:register")
    return render(request, "pos/register/open_shift.html", {"form": form})


# --- The register ----------------------------------------------------------------------------

# Name matches shown at first, and at most after "more" (each "more" shows this many again).
MATCHES_SHOWN = 8
MATCHES_MAX = 200
# Matches are counted up to this many ("1,000+"): a count of every product named "cable" in a
# large catalogue costs more than the list itself.
MATCHES_COUNTED = 1000
TILES_SHOWN = 24


@till
def register(request, shift):
    return _render_register(request, shift)


def _render_register(request, shift, *, status=200, bill=None, **extra):
    cart = SessionCart(request.session)
    bill = bill or cart.priced()
    customer_q = request.GET.get("customer_q", "").strip()[:100]
    matches = list(selectors.customer_lookup(customer_q)) if customer_q else None
    if matches == [] and "customer_form" not in extra:
        # A phone nobody has: the new customer's form opens with it, for a name to be added.
        phone = selectors.as_phone(customer_q)
        if phone is not None:
            extra.update(
                customer_form=forms.CustomerForm(initial={"phone": phone}),
                show_customer=True,
                new_phone=phone,
            )
    category_id = _category_id(request)
    context = {
        "shift": shift,
        "lines": bill.lines,
        "priced": bill.priced,
        "customer": bill.customer,
        "below_minimum": bill.below_minimum,
        "order_discount": cart.order_discount,
        "scan_form": extra.pop("scan_form", None) or forms.ScanForm(),
        "customer_form": extra.pop("customer_form", None) or forms.CustomerForm(),
        "held": list(list_held(shift.register)),
        "customer_q": customer_q,
        "customer_matches": matches,
        "categories": selectors.till_categories(),
        "category_id": category_id,
        "shop": ShopSettings.load(),
        "till_actions": hooks.till_actions_for(request.user),
        **extra,
    }
    if category_id is not None:
        shown = _bounded_int(request.GET.get("tiles"), TILES_SHOWN, MATCHES_MAX)
        tiles = list(selectors.category_products(category_id, limit=shown + 1))
        more = shown + TILES_SHOWN if len(tiles) > shown else None
        context.update(tiles=tiles[:shown], more_tiles=more)
    display.show_cart(shift.register_id, bill)
    template = "pos/register/register.html"
    if request.META.get(PARTIAL_HEADER):
        template = "pos/register/_register_body.html"
    return render(request, template, context, status=status)


def _category_id(request) -> int | None:
    raw = request.GET.get("category") or request.POST.get("category") or ""
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _bounded_int(raw, default: int, most: int) -> int:
    raw = raw or ""
    return min(int(raw), most) if raw.isdigit() and len(raw) < 6 and int(raw) > 0 else default


def _back(request, shift, **extra):
    """After an action: the body alone for register.js, else a redirect (reload-safe)."""
    if extra or request.META.get(PARTIAL_HEADER):
        status = extra.pop("status", 200)
        return _render_register(request, shift, status=status, **extra)
    category_id = _category_id(request)
    if category_id is not None:
        return redirect(f"{reverse('register:register')}?category={category_id}")
    return redirect("register:register")


def _matches(code: str, shown: int = MATCHES_SHOWN, *, store_id: int | None = None) -> dict:
    """The first `shown` products matching a name (each with the till's store's stock), how
    many match (up to MATCHES_COUNTED), and how many to show on "more"."""
    matches = list(selectors.product_search(code, limit=shown, store_id=store_id))
    count = len(matches)
    if count == shown:
        count = selectors.product_search_count(code, most=MATCHES_COUNTED)
    more = min(shown + MATCHES_SHOWN, MATCHES_MAX) if count > shown else None
    return {
        "matches": matches,
        "match_count": count,
        "match_count_capped": count >= MATCHES_COUNTED,
        "more_shown": more if shown < MATCHES_MAX else None,
        "code": code,
    }


@require_POST
@till
def scan(request, shift):
    """A barcode or SKU adds the product (again: quantity + 1); a name shows the matches."""
    form = forms.ScanForm(request.POST)
    if not form.is_valid():
        return _back(request, shift, scan_form=form, status=400)
    code = form.cleaned_data["code"].strip()
    match = selectors.code_lookup(code, store_id=shift.register.store_id)
    if match is not None:  # a product's, a selling unit's or a scale label's code
        return _add(request, shift, match.product, form, match.selling_unit, match.label)
    product = None
    if (sale := selectors.sale_by_number(request.user, code)) is not None:
        return redirect("register:refund", pk=sale.pk)  # a receipt's code, scanned: a return
    if product is None:
        found = _matches(code, store_id=shift.register.store_id)
        if len(found["matches"]) == 1:
            product = found["matches"][0]
        elif found["matches"]:
            return _back(request, shift, scan_form=forms.ScanForm(), **found)
        else:
            form.add_error("code", _("No product matches “%(code)s”.") % {"code": code})
            return _back(request, shift, scan_form=form, status=404)
    return _add(request, shift, product, form)


@till
def search(request, shift):
    """Products whose name matches what is typed so far, for the pick list (register.js), with
    how many match and a "more" that shows the next ones."""
    code = request.GET.get("code", "").strip()[:200]
    shown = _bounded_int(request.GET.get("shown"), MATCHES_SHOWN, MATCHES_MAX)
    store_id = shift.register.store_id
    context = _matches(code, shown, store_id=store_id) if len(code) >= 2 else {"matches": []}
    if not request.META.get(PARTIAL_HEADER):  # "Show more" without JavaScript: the whole page
        return _render_register(request, shift, **context)
    return render(request, "pos/register/_matches.html", context)


@require_POST
@till
def add_product(request, shift, pk: int):
    """A product picked from the name matches or from a category's tiles."""
    products = Product.objects.filter(pk=pk)
    product = selectors.with_store_stock(products, shift.register.store_id).first()
    if product is None:
        return _back(request, shift, status=404)
    return _add(request, shift, product, _picked(product))


def _picked(product) -> forms.ScanForm:
    """The scan form for a product picked by touch, so that a refusal shows under it."""
    form = forms.ScanForm({"code": product.sku})
    form.is_valid()
    return form


def _add(request, shift, product, form, unit=None, label=None):
    """Add a product (in a selling unit, or a scale label's line) to the cart; a product with
    variants shows its variants to pick from instead."""
    cart = SessionCart(request.session)
    if product.status != ProductStatus.ACTIVE:
        form.add_error(
            "code",
            gettext("%(name)s is %(status)s.")
            % {"name": product.name, "status": product.get_status_display().lower()},
        )
        return _back(request, shift, scan_form=form, status=409)
    if unit is None and label is None:
        variants = product.variants.filter(status=ProductStatus.ACTIVE).order_by("name")
        variants = list(selectors.with_store_stock(variants, shift.register.store_id, others=True))
        if variants:
            return _back(request, shift, matches=variants, variant_of=product)
    in_cart = sum(
        (
            line_quantity(line) * _factor(line)
            for line in cart.lines
            if line["product_id"] == product.pk
        ),
        Decimal(0),
    )
    adding = unit.factor if unit is not None else Decimal(1)
    if label is not None:
        adding = label.weight or Decimal(0)  # a price label's weight follows from its price
    shop = ShopSettings.load()
    # The till's store's stock (read with the product; `store_stock`).
    in_store = getattr(product, "store_stock", None)
    if in_store is None:
        in_store = stock_in(shift.register.store_id, [product.pk])[product.pk]
    if not shop.allow_negative_stock and in_store < in_cart + adding:
        form.add_error(
            "code",
            gettext(
                "Out of stock: %(name)s (%(stock_on_hand)s left, %(in_cart)s already in the cart)."
            )
            % {
                "name": product.name,
                "stock_on_hand": product.format_quantity(in_store),
                "in_cart": product.format_quantity(in_cart),
            },
        )
        return _back(request, shift, scan_form=form, status=409)
    if label is not None:
        cart.add(product.pk, label.weight or 1, scale_label=label.code)
    else:
        cart.add(product.pk, selling_unit_id=unit.pk if unit is not None else None)
    return _back(request, shift)


def _factor(line: dict) -> Decimal:
    """Stock units per unit of a cart line (a carton's 24), read once per line."""
    unit_id = line.get("selling_unit_id")
    if unit_id is None:
        return Decimal(1)
    from pos.models import SellingUnit

    unit = SellingUnit.objects.filter(pk=unit_id).only("factor").first()
    return unit.factor if unit is not None else Decimal(1)


@require_POST
@till
def update_line(request, shift, index: int):
    cart = SessionCart(request.session)
    if not 0 <= index < len(cart):
        return _back(request, shift)
    form = forms.LineForm(request.POST)
    if not form.is_valid():
        return _back(request, shift, line_errors={index: form.errors}, status=400)
    problem = cart.update_line(
        index,
        quantity=form.cleaned_data["quantity"],
        unit_price=form.cleaned_data["unit_price"],
        discount=form.cleaned_data["discount"] or Decimal(0),
    )
    if problem:
        return _back(request, shift, line_errors={index: problem}, status=400)
    return _back(request, shift)


def _step(request, shift, index: int, step: int):
    cart = SessionCart(request.session)
    if not 0 <= index < len(cart):
        return _back(request, shift)
    line = cart.lines[index]
    plain = not line.get("selling_unit_id") and not line.get("scale_label")
    if step > 0 and plain:
        product = Product.objects.filter(pk=line["product_id"]).first()
        if product is not None:
            return _add(request, shift, product, _picked(product))
    problem = cart.step_line(index, step)
    if problem:
        return _back(request, shift, line_errors={index: problem}, status=400)
    return _back(request, shift)


@require_POST
@till
def more_of_line(request, shift, index: int):
    """The + button: one more, checked against the stock as a scan is."""
    return _step(request, shift, index, 1)


@require_POST
@till
def less_of_line(request, shift, index: int):
    """The − button: one fewer, never under one (Remove takes the line away)."""
    return _step(request, shift, index, -1)


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
    problem = SessionCart(request.session).set_order_discount(form.cleaned_data["order_discount"])
    if problem:
        return _back(request, shift, discount_errors=[problem], status=400)
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
    messages.success(request, gettext("Sale held. Resume it from the list of held sales."))
    return redirect("register:register")


@require_POST
@till
def resume(request, shift, pk: int):
    held = get_object_or_404(scoping.for_user(HeldSale.objects.all(), request.user), pk=pk)
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
    held = get_object_or_404(scoping.for_user(HeldSale.objects.all(), request.user), pk=pk)
    try:
        discard_held_sale(held=held, user=request.user, register=shift.register)
    except DomainError as error:
        return _back(request, shift, cart_error=error.message, status=error.status)
    return redirect("register:register")


# --- Payment ---------------------------------------------------------------------------------
# One URL per action: the page (GET), quick cash, a Mobile Money request and its check, and
# completing the sale. Each prices the cart once and passes the bill along.


@require_GET
@till
def payment(request, shift):
    cart = SessionCart(request.session)
    if not len(cart):
        return redirect("register:register")
    bill = cart.priced()
    total = bill.priced.total
    form = forms.PaymentForm(
        initial={"idempotency_key": cart.checkout_key(), "cash": total, "cash_prefill": total}
    )
    return _render_payment(request, shift, bill, form)


def _payment_post(view=None, *, reads_sale=False):
    """A POST from the payment screen: its form checked for shape, with the cart's bill.
    `reads_sale`: as `till`'s."""
    if view is None:
        return functools.partial(_payment_post, reads_sale=reads_sale)

    @require_POST
    @till(reads_sale=reads_sale)
    @functools.wraps(view)
    def wrapped(request, shift, **stored):
        cart = SessionCart(request.session)
        form = forms.PaymentForm(request.POST)
        if not form.is_valid():
            if not len(cart):
                return redirect("register:register")
            return _render_payment(request, shift, cart.priced(), form, status=400)
        return view(request, shift, cart, form, **stored)

    return wrapped


def _render_payment(request, shift, bill, form, *, status=200, **extra):
    approval = extra.pop("approval", None) or forms.ManagerApprovalForm(
        request=request, permission="pos.approve_discount"
    )
    momo_request = None
    momo_id = form["momo_request_id"].value()
    if momo_id and str(momo_id).isdigit():
        momo_request = MobileMoneyRequest.objects.filter(
            pk=momo_id, shift=shift, payment__isnull=True
        ).first()
    tendered = sum(_typed_tenders(form).values(), Decimal(0))
    total = bill.priced.total
    cash_due = max(total - (tendered - _typed_tenders(form).get("cash", Decimal(0))), Decimal(0))
    if momo_request is not None and momo_request.status == MobileMoneyRequest.Status.PENDING:
        display.show_momo_request(shift.register_id, bill, momo_request)
    else:
        display.show_cart(
            shift.register_id, bill, paid=tendered, change=max(tendered - total, Decimal(0))
        )
    return render(
        request,
        "pos/register/payment.html",
        {
            "shift": shift,
            "lines": bill.lines,
            "priced": bill.priced,
            "customer": bill.customer,
            "form": form,
            "approval": approval,
            "needs_approval": extra.pop("needs_approval", False) or bill.below_minimum,
            "quick_cash": quick_cash_amounts(cash_due),
            "cash_due": cash_due,
            "change_due": max(tendered - total, Decimal(0)),
            "still_due": max(total - tendered, Decimal(0)),
            "momo_request": momo_request,
            # Without a provider's settings the till offers its typed transaction id only.
            "momo_requests": momo_request is not None or bool(configured_providers()),
            "momo_request_providers": configured_providers(),
            "momo_message": mobile_money.cashier_message(momo_request) if momo_request else "",
            "shop": ShopSettings.load(),
            **extra,
        },
        status=status,
    )


def _typed_tenders(form) -> dict[str, Decimal]:
    """What was typed in each tender, even when the form refused it; nothing that is not a sane
    amount (1e308, NaN: the field's own error says so) reaches the change shown."""
    typed = {}
    for name in forms.PaymentForm.TENDERS:
        try:
            amount = Decimal(str(form[name].value() or 0))
        except ArithmeticError:
            continue
        if amount.is_finite() and abs(amount) < MAX_TYPED_AMOUNT:
            typed[name] = amount
    return typed


# Banknote steps for the quick-cash amounts: the next multiple of each above the amount due.
ROUND_STEPS = (1000, 2000, 5000, 10000, 20000, 50000)
QUICK_AMOUNTS = 4


def quick_cash_amounts(due: Decimal) -> list[Decimal]:
    """The round amounts a customer is likely to hand over for `due`: the next multiples of
    1,000, 2,000, 5,000... above it (91,000 -> 92,000, 95,000, 100,000)."""
    amounts = []
    for step in ROUND_STEPS:
        amount = (due // step + 1) * step
        if amount not in amounts:
            amounts.append(Decimal(amount))
    return sorted(amounts)[:QUICK_AMOUNTS]


@_payment_post
def quick_cash(request, shift, cart, form):
    """The quick-cash buttons without JavaScript: "exact" fills the cash still due; a round
    amount adds to the cash typed (the customer hands over one note, then another), starting
    from nothing while the cash is still the amount the page filled in."""
    if not len(cart):
        return redirect("register:register")
    bill = cart.priced()
    data = request.POST.copy()
    typed = _typed_tenders(form)
    if request.POST.get("quick_cash") == "exact":
        others = sum((v for k, v in typed.items() if k != "cash"), Decimal(0))
        data["cash"] = str(max(bill.priced.total - others, Decimal(0)))
    else:
        note = _bounded_amount(request.POST.get("quick_cash"))
        cash = form.cleaned_data["cash"] or Decimal(0)
        if cash == form.cleaned_data["cash_prefill"]:
            cash = Decimal(0)
        data["cash"] = str(cash + note)
    data["cash_prefill"] = ""
    return _render_payment(request, shift, bill, forms.PaymentForm(data))


def _bounded_amount(raw) -> Decimal:
    try:
        amount = Decimal(str(raw or "0"))
    except ArithmeticError:
        return Decimal(0)
    return amount if amount.is_finite() and 0 <= amount < MAX_TYPED_AMOUNT else Decimal(0)


@_payment_post
def momo_request(request, shift, cart, form):
    """Ask the customer's phone to pay the Mobile Money amount (without JavaScript too)."""
    if not len(cart):
        return redirect("register:register")
    bill = cart.priced()
    try:
        momo = mobile_money.start_request(
            shift=shift,
            amount=form.cleaned_data["mobile_money"] or "",
            phone=request.POST.get("momo_phone", ""),
            user=request.user,
            request_key=form.cleaned_data["idempotency_key"],
            provider=form.cleaned_data["momo_provider"] or MobileProvider.MTN,
        )
    except DomainError as error:
        form.add_error("mobile_money", error.message)
        return _render_payment(request, shift, bill, form, status=error.status)
    return _render_payment(request, shift, bill, _with_momo(request, momo))


@_payment_post
def momo_check(request, shift, cart, form):
    """Ask again how a Mobile Money request stands."""
    if not len(cart):
        return redirect("register:register")
    bill = cart.priced()
    momo = get_object_or_404(
        MobileMoneyRequest, pk=form.cleaned_data["momo_request_id"] or 0, shift=shift
    )
    try:
        momo = mobile_money.refresh_request(momo)
    except DomainError as error:
        form.add_error("mobile_money", error.message)
        return _render_payment(request, shift, bill, form, status=error.status)
    return _render_payment(request, shift, bill, _with_momo(request, momo))


def _with_momo(request, momo) -> forms.PaymentForm:
    data = request.POST.copy()
    data["momo_request_id"] = str(momo.pk)
    data["momo_provider"] = momo.provider
    return forms.PaymentForm(data)


@_payment_post(reads_sale=True)
@limit("checkout")
def complete(request, shift, cart, form, stored):
    """Complete the sale. A replay of a sale already done (a double click, a reload) is
    answered by the checkout service with that sale: its receipt is shown again."""
    data = form.cleaned_data
    sold = cart.for_key(data["idempotency_key"])
    if sold is None:
        messages.info(request, _("The cart is empty."))
        return redirect("register:register")
    approval = forms.ManagerApprovalForm(
        request.POST, request=request, permission="pos.approve_discount"
    )
    if not approval.is_valid():
        return _render_payment(request, shift, cart.priced(), form, approval=approval, status=400)
    sold = dataclasses.replace(
        sold, buyer_tin=data["buyer_tin"], purchase_code=data["purchase_code"]
    )
    mode = hooks.till_mode(shift.register_id, fresh=True)
    if mode is not None:
        return _complete_in_mode(request, shift, cart, form, mode, sold)
    try:
        sale = checkout(
            shift=shift,
            cashier=request.user,
            cart=sold,
            tenders=_tender_lines(data, form.TENDERS),
            idempotency_key=data["idempotency_key"],
            approved_by=approval.approver,
            stored=stored.get(data["idempotency_key"], NOT_READ),
        )
    except errors.IdempotencyConflict:
        messages.info(request, _("That sale was already completed."))
        return redirect("register:register")
    except (errors.ApprovalRequired, errors.PriceBelowMinimum) as error:
        approval.add_error(None, error.message)
        extra = _place_error(error, cart) if isinstance(error, errors.PriceBelowMinimum) else {}
        return _render_payment(
            request,
            shift,
            cart.priced(),
            form,
            approval=approval,
            needs_approval=True,
            status=error.status,
            **extra,
        )
    except DomainError as error:
        return _render_payment(
            request, shift, cart.priced(), form, status=error.status, **_place_error(error, cart)
        )
    if not sale.replayed:
        cart.finish()
        display.show_sale(shift.register_id, sale)
        print_on_till(request, sale, shift.register)
    return redirect("pos:receipt", pk=sale.pk)


def _complete_in_mode(request, shift, cart, form, mode, sold):
    """A till in another mode (training): the cart goes to the mode's checkout, never to the
    shop's; its receipt is shown."""
    try:
        document = mode.checkout(
            shift=shift,
            cashier=request.user,
            cart=sold,
            tenders=_tender_lines(form.cleaned_data, form.TENDERS),
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except DomainError as error:
        return _render_payment(
            request, shift, cart.priced(), form, status=error.status, **_place_error(error, cart)
        )
    if not document.replayed:
        cart.finish()
    return redirect(document.get_absolute_url())


def print_on_till(request, sale, register) -> None:
    """The receipt on the till's printer, if it has one (the drawer kicked for cash); a failure
    is told, and the receipt page offers the browser's print."""
    printer = printing.printer_for(register)
    if printer is None:
        return
    try:
        printing.print_receipt(sale=sale, user=request.user, printer=printer)
    except printing.ReceiptHeld:
        return  # the receipt page says why (fiscal pending) and offers the print when ready
    except printing.PrinterError as error:
        messages.error(request, error.message)
    else:
        request.session[PRINTED_SALE] = sale.pk  # its page shows it, not counted again


def _tender_lines(data: dict, names) -> list[TenderLine]:
    tenders = []
    for name in names:
        amount = data[name]
        if not amount:
            continue
        if name == "mobile_money":
            tenders.append(
                TenderLine(
                    name,
                    amount,
                    data["momo_reference"],
                    data["momo_request_id"] or None,
                    data["momo_provider"],  # none: MTN's, or the request's
                )
            )
        elif name == "gift_card":
            tenders.append(TenderLine(name, amount, data["gift_card_code"]))
        else:
            tenders.append(TenderLine(name, amount))
    return tenders


_CUSTOMER_CODES = {"customer_required": "customer", "credit_limit_exceeded": "customer"}
_FIELD_SLOTS = {
    "customer": "customer_error",
    "buyer_tin": "buyer_error",
    "purchase_code": "buyer_error",
}


def _place_error(error: DomainError, cart) -> dict:
    """Put a checkout refusal next to what caused it: a cart line, the tenders, the customer."""
    fields = list(error.fields) or [""]
    field = fields[0]
    shortages = {s["product_id"]: s["message"] for s in error.details.get("shortages", [])}
    if shortages:  # every short line marked, each with its own figures
        marked = {
            i: shortages[line["product_id"]]
            for i, line in enumerate(cart.lines)
            if line["product_id"] in shortages
        }
        if marked:
            return {"line_errors": marked}
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
    field = _CUSTOMER_CODES.get(error.code, field)
    if field in _FIELD_SLOTS:  # the customer, the buyer's TIN or purchase code
        return {_FIELD_SLOTS[field]: error.message}
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


def _approval_refused(approval, error: DomainError) -> None:
    """The service's refusal for want of a manager, shown on the approval form."""
    if isinstance(error, errors.NotAllowed):
        message = "A manager must approve this: enter their username and PIN (or password)."
    else:
        message = error.message
    approval.add_error(None, message)


@till
def void(request, shift, pk: int):
    sale = get_object_or_404(Sale, pk=pk, shift=shift)
    form = forms.VoidForm(request.POST or None)
    approval = forms.ManagerApprovalForm(
        request.POST or None, request=request, permission="pos.void_sale"
    )
    if request.method == "POST" and form.is_valid() and approval.is_valid():
        try:
            void_sale(
                sale=sale,
                user=request.user,
                reason=form.cleaned_data["reason"],
                approved_by=approval.approver,
            )
        except (errors.NotAllowed, errors.ApprovalRequired) as error:
            _approval_refused(approval, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("Sale %(number)s voided.") % {"number": sale.number})
            return redirect("register:history")
    return render(
        request,
        "pos/register/void.html",
        {"sale": sale, "form": form, "approval": approval, "shift": shift},
    )


@till
def returns(request, shift):
    """Find any sale for a return: by receipt number or the receipt's scanned code, by the
    customer's phone, or by day and total. One exact receipt number opens its return."""
    form = forms.FindSaleForm(request.GET or None)
    sales = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        exact = selectors.sale_by_number(request.user, data["q"])
        if exact is not None and not (data["day"] or data["amount"] is not None):
            return redirect("register:refund", pk=exact.pk)
        sales = list(
            selectors.find_sales(request.user, data["q"], day=data["day"], amount=data["amount"])
        )
    return render(
        request,
        "pos/register/returns.html",
        {"shift": shift, "form": form, "sales": sales, "most": selectors.SALES_FOUND},
        status=400 if form.errors else 200,
    )


@till
def refund(request, shift, pk: int):
    """The return of any sale (selectors.returnable_sales), paid out of this shift."""
    sale = get_object_or_404(
        selectors.returnable_sales(request.user).select_related("customer"), pk=pk
    )
    if "preview" in request.POST:  # "Show the total": what was typed, shown again, unchecked
        form = forms.RefundForm(initial=request.POST.dict(), sale=sale)
    else:
        form = forms.RefundForm(request.POST or None, sale=sale)
    approval = forms.ManagerApprovalForm(
        request.POST or None, request=request, permission="pos.refund_sale"
    )
    if form.is_bound and form.is_valid() and approval.is_valid():
        try:
            done = refund_sale(
                sale=sale,
                shift=shift,
                user=request.user,
                lines=form.refund_lines(),
                reason=form.cleaned_data["reason"],
                tender=form.cleaned_data["tender"],
                approved_by=approval.approver,
                reason_code=form.cleaned_data.get("reason_code", ""),
            )
        except (errors.NotAllowed, errors.ApprovalRequired) as error:
            _approval_refused(approval, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("Refund %(number)s done.") % {"number": done.number})
            printer = printing.printer_for(shift.register)
            if printer is not None:
                try:
                    printing.print_refund_slip(refund=done, printer=printer)
                except printing.ReceiptHeld:
                    pass  # the slip's page says why (fiscal pending)
                except printing.PrinterError as error:
                    messages.error(request, error.message)
            return redirect("pos:refund_slip", pk=done.pk)
    rows, total = selectors.refund_preview(sale, form.typed_quantities())
    return render(
        request,
        "pos/register/refund.html",
        {
            "sale": sale,
            "form": form,
            "rows": [(row, form[f"qty_{row.line.pk}"]) for row in rows],
            "refund_total": total,
            "approval": approval,
            "shift": shift,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# --- Payments on account --------------------------------------------------------------------


@till
def account(request, shift):
    """Find the customer who comes to pay what they owe."""
    q = request.GET.get("q", "").strip()[:100]
    customers = list(selectors.customer_lookup(q)) if q else None
    if customers is not None and len(customers) == 1:
        return redirect("register:account_payment", pk=customers[0].pk)
    return render(
        request,
        "pos/register/account.html",
        {"shift": shift, "q": q, "customers": customers},
    )


@till
def account_payment(request, shift, pk: int):
    """A customer's account: what they owe, their statement, and a payment taken against it
    (cash into this shift's drawer, or Mobile Money), then its receipt."""
    customer = get_object_or_404(Customer, pk=pk)
    form = forms.AccountPaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payments = pay_on_account(
                customer=customer, shift=shift, user=request.user, **form.cleaned_data
            )
        except DomainError as error:
            _form_error(form, error, default_field="amount")
        else:
            return redirect("pos:account_payment_receipt", pk=payments[0].pk)
    statement = selectors.customer_statement(customer, None, None)
    return render(
        request,
        "pos/register/account_payment.html",
        {
            "shift": shift,
            "customer": customer,
            "form": form,
            "invoices": list(selectors.open_invoices(customer)),
            "statement": statement,
            "rows": statement.rows[-STATEMENT_ROWS:],
            "shop": ShopSettings.load(),
        },
        status=400 if form.errors else 200,
    )


STATEMENT_ROWS = 20


# --- Gift cards ------------------------------------------------------------------------------


@till
def gift_cards(request, shift):
    """Check what a gift card holds (the code typed or scanned), and sell one."""
    check = forms.GiftCardCheckForm(request.GET or None)
    card = None
    if check.is_valid():
        try:
            card = ledger.card_balance(check.cleaned_data["code"])
        except DomainError as error:
            check.add_error("code", error.message)
    return _render_gift_cards(request, shift, check=check, card=card)


def _render_gift_cards(request, shift, *, status=200, **context):
    context.setdefault("check", forms.GiftCardCheckForm())
    context.setdefault("sell_form", forms.SellGiftCardForm())
    customer_id = SessionCart(request.session).customer_id
    return render(
        request,
        "pos/register/gift_cards.html",
        {
            "shift": shift,
            "today": timezone.localdate(),
            "customer": Customer.objects.filter(pk=customer_id).first() if customer_id else None,
            "shop": ShopSettings.load(),
            **context,
        },
        status=status,
    )


@require_POST
@till
def sell_gift_card_view(request, shift):
    """Sell a card for cash into this shift's drawer (for the sale's customer, if one is
    chosen); the page then shows its code to hand over."""
    form = forms.SellGiftCardForm(request.POST)
    if form.is_valid():
        customer_id = SessionCart(request.session).customer_id
        try:
            card = sell_gift_card(
                shift=shift,
                user=request.user,
                amount=form.cleaned_data["amount"],
                code=form.cleaned_data["code"],
                customer=Customer.objects.filter(pk=customer_id).first() if customer_id else None,
            )
        except DomainError as error:
            _form_error(form, error, default_field="amount")
        else:
            return redirect(f"{reverse('register:gift_cards')}?code={card.code}&sold=1")
    return _render_gift_cards(request, shift, sell_form=form, status=400)


# --- The shift -------------------------------------------------------------------------------


@till
def shift_view(request, shift):
    cart = SessionCart(request.session)
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
                messages.success(request, gettext("Cash movement recorded."))
                return redirect("register:shift")
    elif request.method == "POST":
        close_form = forms.CloseShiftForm(request.POST)
        if len(cart) and not request.POST.get("discard_cart"):
            close_form.add_error(
                None,
                _(
                    "A sale is in progress (%(count)d lines). Finish or hold it first, or tick "
                    "“Throw away the sale in progress” to close anyway."
                )
                % {"count": len(cart)},
            )
        if close_form.is_valid():
            try:
                closed = close_shift(
                    shift=shift,
                    counted=close_form.counted(),
                    denominations=close_form.pieces(),
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
            "no_sale_form": forms.NoSaleForm(),
            "movements": shift.cash_movements.order_by("created_at"),
            "cart_lines": len(cart),
            "shop": ShopSettings.load(),
            "reviewed": ShopSettings.load().review_shift_close
            and not request.user.has_perm("pos.close_any_shift"),
        },
    )


@till
@require_POST
def no_sale(request, shift):
    """Open the cash drawer without a sale: journalled with who and why."""
    form = forms.NoSaleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the drawer is opened."))
        return redirect("register:shift")
    try:
        open_drawer(shift=shift, user=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("register:shift")
    messages.success(request, _("Drawer opening recorded (no sale)."))
    printer = printing.printer_for(shift.register)
    if printer is not None and printer.kicks_drawer:
        try:
            printing.kick_drawer(printer)
        except printing.PrinterError as error:
            messages.error(request, error.message)
    return redirect("register:shift")


@login_required
def z_report(request, pk: int):
    shift = get_object_or_404(
        scoping.for_user(Shift.objects.all(), request.user).select_related(
            "register", "cashier", "ended_by", "closed_by"
        ),
        pk=pk,
    )
    if shift.cashier_id != request.user.pk and not request.user.has_perm("pos.view_shift"):
        return render(request, "403.html", status=403)
    reviewer = request.user.has_perm("pos.close_any_shift")
    if shift.status == Shift.Status.ENDED and not reviewer:
        # The cashier counted blind: nothing that would tell them what was expected.
        return render(request, "pos/register/shift_ended.html", {"shift": shift})
    report = shift.z_report if shift.status == Shift.Status.CLOSED else build_z_report(shift)
    return render(
        request,
        "pos/register/z_report.html",
        {
            "shift": shift,
            "report": report,
            "by_tender": [
                (Tender.label_of(tender), row["net"], abs(Decimal(row["change"])))
                for tender, row in report.get("by_tender", {}).items()
            ],
            "counts": [
                (Tender.label_of(tender), row) for tender, row in report.get("counts", {}).items()
            ],
            "count": report.get("count"),
            "cash_parts": _cash_parts(report.get("cash")),
            "momo": _momo_rows(report.get("mobile_money")),
            "momo_providers": [
                (MobileProvider(code).label, _momo_rows(rows))
                for code, rows in report.get("mobile_money_by_provider", {}).items()
                if code in MobileProvider.values
            ],
            "review_url": reverse("register:review_shift", args=[shift.pk])
            if shift.status == Shift.Status.ENDED and reviewer
            else "",
            "start_url": reverse("register:open_shift"),
            "printer": printing.printer_for(shift.register),
            "sections": hooks.sections_for("z_report", shift=shift),  # e.g. unsigned sales
        },
    )


@login_required
@require_POST
def print_z_report(request, pk: int):
    """The shift's report on its till's printer (the stored Z-report once closed)."""
    shift = get_object_or_404(
        scoping.for_user(Shift.objects.all(), request.user).select_related("register", "cashier"),
        pk=pk,
    )
    reviewer = request.user.has_perm("pos.close_any_shift")
    if (shift.cashier_id != request.user.pk and not request.user.has_perm("pos.view_shift")) or (
        shift.status == Shift.Status.ENDED and not reviewer
    ):
        return render(request, "403.html", status=403)
    printer = printing.printer_for(shift.register)
    if printer is None:
        messages.error(request, _("This till has no receipt printer: print from the browser."))
        return redirect("register:z_report", pk=shift.pk)
    report = shift.z_report if shift.status == Shift.Status.CLOSED else build_z_report(shift)
    try:
        printing.print_shift_report(shift=shift, report=report, printer=printer)
    except printing.PrinterError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Printed on %(printer)s.") % {"printer": printer.name})
    return redirect("register:z_report", pk=shift.pk)


def _cash_parts(cash: dict | None) -> list[tuple[str, str]]:
    """The expected cash's parts, named, for a report (closed before the parts were kept: [])."""
    if not cash:
        return []
    names = {
        "opening_float": _("Opening float"),
        "sales": _("Cash sales (less change)"),
        "invoice_payments": _("Invoice payments in cash"),
        "refunds": _("Cash refunds"),
        "paid_in": _("Cash in"),
        "paid_out": _("Pay-outs"),
        "drops": _("Cash drops"),
        "expected": _("Expected cash"),
    }
    return [(names[name], cash[name]) for name in names if name in cash]


def _momo_rows(momo: dict | None) -> list[tuple[str, dict]]:
    """The shift's Mobile Money by status, named (reports closed before it was kept: [])."""
    if not momo:
        return []
    names = {
        "typed_reference": _("Taken, reference typed"),
        "request_to_pay": _("Taken, approved on the phone"),
        "pending": _("Requests still pending"),
        "failed": _("Requests failed"),
        "late_success": _("Late success: money taken, no sale (refund)"),
    }
    return [(names[name], momo[name]) for name in names if name in momo]


# --- The reviewed close ---------------------------------------------------------------------


@login_required
@permission_required("pos.close_any_shift", raise_exception=True)
def shifts_to_review(request):
    """Shifts whose cashier has counted and left, waiting for a manager."""
    ended = scoping.for_user(Shift.objects.all(), request.user)
    ended = ended.filter(status=Shift.Status.ENDED).select_related(
        "register", "cashier", "ended_by"
    )
    return render(
        request, "pos/register/shifts_to_review.html", {"shifts": ended.order_by("ended_at")}
    )


@login_required
@permission_required("pos.close_any_shift", raise_exception=True)
def review_shift(request, pk: int):
    """The manager's review: the count, the expected figures, each tender's total and the
    over/short; confirm, or recount with a second person."""
    shift = get_object_or_404(
        scoping.for_user(Shift.objects.all(), request.user).select_related(
            "register", "cashier", "ended_by"
        ),
        pk=pk,
    )
    if shift.status != Shift.Status.ENDED:
        return redirect("register:z_report", pk=shift.pk)
    recount_form = forms.RecountForm(prefix="recount")
    witness_form = forms.WitnessForm(request=request)
    confirm_error = None
    if request.method == "POST":
        recounting = "recount" in request.POST
        if recounting:
            recount_form = forms.RecountForm(request.POST, prefix="recount")
            witness_form = forms.WitnessForm(request.POST, request=request)
        if not recounting or (recount_form.is_valid() and witness_form.is_valid()):
            try:
                closed = review_close(
                    shift=shift,
                    user=request.user,
                    recount=recount_form.counted() if recounting else None,
                    recount_denominations=recount_form.pieces() if recounting else None,
                    witness=witness_form.witness if recounting else None,
                    note=request.POST.get("note", "")[:500],
                )
            except DomainError as error:
                if recounting:
                    _form_error(recount_form, error, default_field=None)
                else:
                    confirm_error = error.message
            else:
                messages.success(request, _("Shift closed."))
                return redirect("register:z_report", pk=closed.pk)
    return render(
        request,
        "pos/register/review_shift.html",
        {
            "shift": shift,
            "rows": _review_rows(shift),
            "cash_parts": _cash_parts({k: str(v) for k, v in cash_breakdown(shift).items()}),
            "count_pieces": _pieces_rows(shift.closing_count.get("denominations", {})),
            "recount_form": recount_form,
            "witness_form": witness_form,
            "confirm_error": confirm_error,
            "report": build_z_report(shift),
        },
    )


def _review_rows(shift: Shift) -> list[dict]:
    counted = shift.closing_count.get("counted", {})
    rows = []
    for tender, expected in shift.expected.items():
        amount = counted.get(tender)
        rows.append(
            {
                "tender": Tender.label_of(tender),
                "expected": expected,
                "counted": amount,
                "over_short": str(Decimal(amount) - Decimal(expected))
                if amount is not None
                else None,
            }
        )
    return rows


def _pieces_rows(pieces: dict) -> list[tuple[str, int, Decimal]]:
    return [(name, number, Decimal(name) * number) for name, number in pieces.items()]


def _form_error(form, error: DomainError, *, default_field):
    """A service refusal on the form field it names (`counted.cash` -> `counted_cash`)."""
    for field in error.fields or {}:
        name = field.replace(".", "_")
        if name in form.fields:
            form.add_error(name, error.message)
            return
    form.add_error(default_field, error.message)
