"""The customer display: a page for a second screen or a tablet, opened per till, that follows
the cashier's cart (lines, total, VAT, amount paid and change), shows "approve on your phone"
with a countdown while a Mobile Money request waits, and the shop's name when idle.

The till publishes what the customer may see, and nothing else (no cashier's name, no cost,
no minimum price), into the cache under the till's register each time it shows the cart or the
payment screen, and after a sale; the display page asks for it every second (short polling:
no connection held open per screen on the synchronous workers).
"""

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from pos import errors
from pos.models import MobileMoneyRequest, ShopSettings
from pos.money import format_money
from pos.quantities import show_quantity
from pos.register import lock
from pos.services import registers
from pos.services.shifts import require_open_shift

KEY = "pos:customer-display:{}"
KEPT_SECONDS = 12 * 3600
POLL_MILLISECONDS = 1000


def _key(register_id: int) -> str:
    return KEY.format(register_id)


def _publish(register_id: int, state: dict) -> None:
    state["version"] = time.time_ns()
    try:
        cache.set(_key(register_id), state, KEPT_SECONDS)
    except Exception:  # noqa: BLE001 - a cache outage must never stop a sale
        return


def _money(amount) -> str:
    return format_money(amount)


def show_cart(register_id: int, bill, *, paid=None, change=None) -> None:
    """The cart as the customer sees it; idle (the shop's name) when it is empty."""
    if not bill.lines:
        _publish(register_id, {"mode": "idle"})
        return
    state = {
        "mode": "cart",
        "lines": [
            {
                "name": line.product.name,
                "quantity": show_quantity(line.quantity)
                + (f" {line.unit_label}" if line.unit_label else ""),
                "total": _money(line.total),
            }
            for line in bill.lines
        ],
        "total": _money(bill.priced.total),
        "tax": _money(bill.priced.tax_total),
    }
    if paid:
        state["paid"] = _money(paid)
        state["change"] = _money(change or 0)
    _publish(register_id, state)


def show_momo_request(register_id: int, bill, momo_request) -> None:
    """The cart, and "approve on your phone" with the seconds left to do it."""
    show_cart(register_id, bill)
    state = cache.get(_key(register_id)) or {"mode": "cart"}
    deadline = momo_request.created_at + timedelta(seconds=settings.MOMO_PAYMENT_TIMEOUT_SECONDS)
    state["momo"] = {
        "request_id": momo_request.pk,
        "provider": str(momo_request.get_provider_display()),
        "provider_code": momo_request.provider,
        "amount": _money(momo_request.amount),
        "deadline_ms": int(deadline.timestamp() * 1000),
        "seconds_left": max(int((deadline - timezone.now()).total_seconds()), 0),
    }
    _publish(register_id, state)


def show_sale(register_id: int, sale) -> None:
    """A completed sale: its total, what was paid and the change, until the next cart."""
    paid = sum((p.amount for p in sale.payments.all() if not p.is_change), 0)
    _publish(
        register_id,
        {
            "mode": "paid",
            "lines": [],
            "total": _money(sale.total),
            "tax": _money(sale.tax_total),
            "paid": _money(paid),
            "change": _money(sale.change_given),
        },
    )


def show_idle(register_id: int) -> None:
    _publish(register_id, {"mode": "idle"})


def _register_id(request) -> int | None:
    try:
        shift = require_open_shift(request.user, till_shift_id=lock.till_shift_id(request))
    except errors.ShiftClosed:
        return None
    return shift.register_id


@login_required
@permission_required("pos.sell", raise_exception=True)
def page(request):
    """The display of the till the signed-in cashier works on (open it in a second window or on
    the tablet facing the customer)."""
    has_till = _register_id(request) is not None
    return _page(request, reverse("register:display_state"), has_till=has_till)


@never_cache
@require_GET
@login_required
@permission_required("pos.sell", raise_exception=True)
def state(request):
    return _state(_register_id(request))


# A paired display (a tablet with no one signed in): the link a manager made for one till
# (pos.services.registers.pair_display). Read only; an unknown or revoked link is a 404.


@require_GET
def paired_page(request, token: str):
    register = registers.register_for_display(token)
    if register is None:
        raise Http404
    return _page(request, reverse("register:paired_display_state", args=[token]), has_till=True)


@never_cache
@require_GET
def paired_state(request, token: str):
    register = registers.register_for_display(token)
    if register is None:
        raise Http404
    return _state(register.pk)


def _page(request, state_url: str, *, has_till: bool):
    return render(
        request,
        "pos/register/customer_display.html",
        {
            "shop": ShopSettings.load(),
            "poll_ms": POLL_MILLISECONDS,
            "has_till": has_till,
            "state_url": state_url,
        },
    )


def _state(register_id: int | None):
    found = cache.get(_key(register_id)) if register_id is not None else None
    data = dict(found or {"mode": "idle", "version": 0})
    if "momo" in data:
        data = _momo_now(data)
    return JsonResponse(data)


def _momo_now(data: dict) -> dict:
    """The request as it stands: still waiting (the seconds left), or answered: paid (shown as
    paid) or not (the prompt goes)."""
    momo = data.pop("momo")
    status = (
        MobileMoneyRequest.objects.filter(pk=momo.get("request_id"))
        .values_list("status", flat=True)
        .first()
    )
    if status == MobileMoneyRequest.Status.PENDING:
        left = (momo["deadline_ms"] - time.time() * 1000) / 1000
        data["momo"] = {**momo, "seconds_left": max(int(left), 0)}
    elif status == MobileMoneyRequest.Status.SUCCESSFUL:
        data["paid"] = momo["amount"]
        data["version"] = f"{data['version']}-paid"
    else:
        data["version"] = f"{data['version']}-{status}"
    return data
