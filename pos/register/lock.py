"""The shared till: it locks (by hand, or after the shop's idle time), and a cashier unlocks it
or takes it over with their personal PIN, without ending the shift.

The till's session remembers which shift the till is on (TILL_SHIFT); a cashier who signs in
there with their PIN joins that shift (pos.services.shifts.join_shift) and sells on it under
their own name. Taking over signs the other cashier out of the session (Django's login) and
keeps the till's state: its shift and the cart in progress. A locked till answers every till
page with the lock screen, so the next person sees no cart and can do nothing without a PIN.
"""

import time

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import pins, two_factor
from accounts.models import User
from core.errors import DomainError, PermissionDenied
from pos.models import Shift, ShopSettings
from pos.register.cart import SESSION_KEY as CART_SESSION_KEY
from pos.services.shifts import join_shift, open_shift_for

TILL_SHIFT = "till_shift_id"
LOCKED = "till_locked"
LAST_SEEN = "till_last_seen"
# The last-seen time is written at most this often (each write is a session save).
SEEN_RESOLUTION_SECONDS = 30


def till_shift_id(request) -> int | None:
    return request.session.get(TILL_SHIFT)


def is_locked(request) -> bool:
    """Locked by hand, or idle longer than the shop's till_lock_minutes (0: never by time)."""
    if request.session.get(LOCKED):
        return True
    minutes = ShopSettings.load().till_lock_minutes
    seen = request.session.get(LAST_SEEN)
    return bool(minutes and seen is not None and time.time() - seen > minutes * 60)


def touch(request, shift: Shift) -> None:
    """The till was used now, on `shift`."""
    session = request.session
    if session.get(TILL_SHIFT) != shift.pk:
        session[TILL_SHIFT] = shift.pk
    now = int(time.time())
    if now - session.get(LAST_SEEN, 0) >= SEEN_RESOLUTION_SECONDS:
        session[LAST_SEEN] = now


def lock_till(request) -> None:
    request.session[LOCKED] = True


def unlock_till(request) -> None:
    request.session.pop(LOCKED, None)
    request.session[LAST_SEEN] = int(time.time())


def switch_cashier(request, user: User) -> None:
    """Sign `user` in on this till, keeping its shift and cart (login() empties the session)."""
    kept = {key: request.session[key] for key in (TILL_SHIFT, CART_SESSION_KEY)
            if key in request.session}  # fmt: skip
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session.update(kept)


class UnlockForm(forms.Form):
    """Who (a cashier with a PIN who may sell, or the till's current one) and their PIN."""

    user = forms.ModelChoiceField(
        label=_("Who are you?"), queryset=User.objects.none(), widget=forms.RadioSelect
    )
    pin = forms.CharField(
        label=_("PIN"),
        max_length=6,
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}
        ),
    )

    def __init__(self, *args, current: User, **kwargs):
        super().__init__(*args, **kwargs)
        sell = Q(
            groups__permissions__codename="sell", groups__permissions__content_type__app_label="pos"
        )
        self.fields["user"].queryset = (
            User.objects.filter(is_active=True)
            .filter((sell & ~Q(pin="")) | Q(pk=current.pk))
            .distinct()
            .order_by("first_name", "username")
        )
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["user"].empty_label = None
        self.initial.setdefault("user", current.pk)


@login_required
def unlock(request):
    """The lock screen: the till's cashier, or another, types their PIN."""
    shift = open_shift_for(request.user, till_shift_id=till_shift_id(request))
    if shift is None:
        return redirect("register:start")
    form = UnlockForm(request.POST or None, current=request.user)
    status = 200
    if request.method == "POST":
        status, done = _try_unlock(request, form, shift)
        if done:
            return redirect("register:register")
    lock_till(request)
    return render(
        request,
        "pos/register/lock.html",
        {"form": form, "shift": shift},
        status=status,
    )


def _try_unlock(request, form: UnlockForm, shift: Shift) -> tuple[int, bool]:
    if not form.is_valid():
        return 400, False
    user = form.cleaned_data["user"]
    try:
        user = pins.verify_pin_from(request, user=user, pin=form.cleaned_data["pin"])
        if user.pk != request.user.pk:
            if two_factor.is_enabled(user):
                raise PermissionDenied(
                    _("You sign in with your password and a code: sign out first.")
                )
            join_shift(shift=shift, cashier=user)
            switch_cashier(request, user)
    except DomainError as error:
        form.add_error("pin", error.message)
        return error.status, False
    unlock_till(request)
    return 200, True


@require_POST
@login_required
def lock(request):
    """Lock the till now (stepping away, or to hand it to another cashier)."""
    lock_till(request)
    return redirect("register:unlock")
