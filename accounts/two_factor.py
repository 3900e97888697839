"""Two-factor sign-in (TOTP, django-otp): managers may turn it on, admins must.

After the password (on the shop's sign-in page or the admin's), a user with a confirmed TOTP
device is signed in but not yet verified: `SignInGateMiddleware` lets them reach nothing but the
code page (and sign-out) until django-otp has verified a code for this session. A user whose
role requires two-factor (settings.TWO_FACTOR_REQUIRED_ROLES) and who has no device yet is sent
to set one up first, so an admin's password alone never opens the admin.
"""

import io

import segno
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import audit
from core.errors import DomainError, PermissionDenied

# Stored in English (django-otp's `name`); shown translated (device_label).
DEVICE_NAME = gettext_noop("Authenticator app")


def device_label(device) -> str:
    """A device's name as a person reads it: ours in their language, any other as stored."""
    return _(DEVICE_NAME) if device.name == DEVICE_NAME else device.name


class WrongCode(DomainError):
    code = "wrong_code"
    message = gettext_lazy("That code is not right (or has been used). Try the next one.")


def may_use(user) -> bool:
    """Managers and admins may turn two-factor sign-in on."""
    return user.is_authenticated and user.is_manager_or_admin


def is_required(user) -> bool:
    return user.is_authenticated and (
        user.role in settings.TWO_FACTOR_REQUIRED_ROLES or user.is_superuser
    )


def confirmed_device(user) -> TOTPDevice | None:
    return next(iter(devices_for_user(user, confirmed=True)), None)


def is_enabled(user) -> bool:
    return confirmed_device(user) is not None


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being set up (one per user, made on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code for the authenticator app."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue().decode()


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, to type by hand when the QR cannot be read."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def confirm_device(*, user, token: str) -> TOTPDevice:
    """Turn two-factor on: the first right code from the app confirms the pending device.

    :raises WrongCode: the code does not match.
    """
    if not may_use(user):
        raise PermissionDenied(_("Two-factor sign-in is for managers and admins."))
    device = pending_device(user)
    if not device.verify_token((token or "").replace(" ", "")):
        raise WrongCode(_("That code is not right. Check the app's clock and try the next one."))
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record_on_commit(action="user.two_factor_enabled", actor=user, target=user)
    return device


@transaction.atomic
def disable(*, user, actor) -> None:
    """Turn two-factor off (managers, for themselves; admins cannot: it is required of them)."""
    if is_required(user):
        raise PermissionDenied(_("Two-factor sign-in is required for your role."))
    TOTPDevice.objects.filter(user=user).delete()
    audit.record_on_commit(action="user.two_factor_disabled", actor=actor, target=user)


def verify(*, user, token: str) -> TOTPDevice:
    """The confirmed device that accepts `token` (each code once; django-otp throttles wrong
    codes with a growing delay, and refuses any code while the delay runs).

    :raises WrongCode: no device accepts it, or the device is throttled.
    """
    device = confirmed_device(user)
    token = (token or "").replace(" ", "")
    if device is not None:
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            verified = device.verify_token(token)
        if verified:
            return device
    raise WrongCode(_("That code is not right (or has been used). Wait for the next one."))


# --- The session's state, set at sign-in so that the middleware reads no table per request ------

SESSION_KEY = "two_factor"
NEEDS_CODE, NEEDS_SETUP, NOT_NEEDED = "code", "setup", "none"


def state_for(user) -> str:
    if is_enabled(user):
        return NEEDS_CODE
    if is_required(user):
        return NEEDS_SETUP
    return NOT_NEEDED


def remember_state(request, user) -> None:
    request.session[SESSION_KEY] = state_for(user)
