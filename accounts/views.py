import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from django.views.i18n import set_language as django_set_language

from accounts import pins, services, two_factor
from core.errors import DomainError
from monitoring.ratelimit import (
    add_headers,
    exhausted_login_limit,
    limit,
    login_slot,
    wait_message,
)
from vevurn.languages import LANGUAGE_CODES


class LoginView(auth_views.LoginView):
    """Sign-in, refused for a while after too many failures (per username + IP, and per IP).

    Failures are counted by the `user_login_failed` receiver (monitoring/signals.py), so a
    successful sign-in never counts against the user.
    """

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        with login_slot(request) as mine:
            if not mine:
                message = _("Another sign-in for this user is in progress.")
                return self.refuse(request, message, 1)
            found = exhausted_login_limit(request)
            if found is not None:
                message = _(
                    "Too many failed sign-in attempts. Please wait %(wait)s before trying again."
                ) % {"wait": wait_message(found.reset)}
                return add_headers(self.refuse(request, message, found.reset), found)
            return super().post(request, *args, **kwargs)

    def refuse(self, request, message: str, retry_after: int):
        # An unbound form: binding the posted one would authenticate (and count) again.
        form = self.get_form_class()(request, initial={"username": request.POST.get("username")})
        context = self.get_context_data(form=form, locked_out=message)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(retry_after)
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The next person at this till signs in in the browser's language, not this user's.
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response


@require_POST
def set_language(request):
    """The switcher: Django's set_language (cookie, back to `next`), remembered on the user."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in LANGUAGE_CODES:
        services.set_preferred_language(user=request.user, language=language)
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        messages.success(self.request, _("Your password has been changed."))
        return response


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/home.html"


# --- Personal PIN for the shared till ------------------------------------------------------------


class PinForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )
    pin = forms.CharField(
        label=_("New PIN (4 to 6 digits)"),
        max_length=6,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    pin_again = forms.CharField(
        label=_("New PIN again"),
        max_length=6,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Your password is wrong."))
        return password

    def clean_pin(self):
        try:
            return pins.check_pin_format(self.cleaned_data["pin"])
        except pins.InvalidPin as error:
            raise forms.ValidationError(error.message) from None

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin") != data.get("pin_again"):
            self.add_error("pin_again", _("The two PINs differ."))
        return data


@login_required
@limit("strict", key="user_or_ip")
def pin_view(request):
    """Set your own PIN (your password proves it is you; a locked PIN is unlocked)."""
    form = PinForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        pins.set_pin(user=request.user, pin=form.cleaned_data["pin"])
        messages.success(request, _("Your PIN is set. Use it to sign in at a shared till."))
        return redirect("accounts:home")
    return render(request, "accounts/pin.html", {"form": form})


# --- Two-factor sign-in (TOTP) -------------------------------------------------------------------


class CodeForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return reverse("register:start")


@login_required
def two_factor_setup(request):
    """Turn on two-factor sign-in: scan the QR code, then type the app's first code."""
    if not two_factor.may_use(request.user):
        return render(request, "403.html", status=403)
    enabled = two_factor.is_enabled(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and not enabled and form.is_valid():
        try:
            device = two_factor.confirm_device(user=request.user, token=form.cleaned_data["token"])
        except DomainError as error:
            form.add_error("token", error.message)
        else:
            django_otp.login(request, device)
            two_factor.remember_state(request, request.user)
            messages.success(request, _("Two-factor sign-in is on."))
            return redirect(_next_url(request))
    context = {
        "form": form,
        "enabled": enabled,
        "required": two_factor.is_required(request.user),
        "next": _next_url(request),
    }
    if not enabled:
        device = two_factor.pending_device(request.user)
        context.update(qr=two_factor.qr_svg(device), secret=two_factor.secret_text(device))
    return render(request, "accounts/two_factor_setup.html", context)


@login_required
@require_POST
def two_factor_disable(request):
    if not two_factor.may_use(request.user):
        return render(request, "403.html", status=403)
    try:
        two_factor.disable(user=request.user, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        two_factor.remember_state(request, request.user)
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("accounts:two_factor_setup")


@login_required
def two_factor_verify(request):
    """The second step of signing in: the code from the authenticator app."""
    if request.user.is_verified() or not two_factor.is_enabled(request.user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.verify(user=request.user, token=form.cleaned_data["token"])
        except DomainError as error:
            form.add_error("token", error.message)
        else:
            django_otp.login(request, device)
            return redirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )
