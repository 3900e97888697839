"""Personal PINs for the shared till: sign in, switch cashier, approve an override.

A PIN is 4 to 6 digits, stored only hashed (Django's password hashers, so a stolen table gives
no PIN away and the hash upgrades with the hasher). Wrong PINs are counted on the user, in a
transaction holding the user's row, so parallel guesses cannot pass the count: the 5th wrong PIN
in a row locks it, until the user sets a new one (with their password) or a manager clears it.
A right PIN resets the count. The screens that take a PIN also rate limit wrong PINs per client
address (RATE_LIMITS["pin"]), so one device cannot go through every user's five tries.
"""

import re

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import User
from core.errors import DomainError, PermissionDenied

PIN_PATTERN = re.compile(r"\d{4,6}")
MAX_WRONG_PINS = 5


class InvalidPin(DomainError):
    code = "invalid_pin"
    message = "A PIN is 4 to 6 digits."


class WrongPin(DomainError):
    code = "wrong_pin"
    message = "Wrong PIN."
    status = 403


class PinLocked(DomainError):
    code = "pin_locked"
    message = "This PIN is locked after too many wrong tries."
    status = 403


class NoPin(DomainError):
    code = "no_pin"
    message = "This user has no PIN yet."
    status = 403


def check_pin_format(pin: str) -> str:
    """The PIN if it is 4-6 digits and not trivially guessed (one digit repeated, a run)."""
    pin = (pin or "").strip()
    if not PIN_PATTERN.fullmatch(pin):
        raise InvalidPin(_("A PIN is 4 to 6 digits."), field="pin")
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({0}, {1}, {-1}):
        raise InvalidPin(
            _("Choose a PIN that is not one digit repeated or a run like 1234."), field="pin"
        )
    return pin


@transaction.atomic
def set_pin(*, user: User, pin: str, actor: User | None = None) -> None:
    """Set (or replace) `user`'s PIN; unlocks it. Audited, never the PIN itself."""
    pin = check_pin_format(pin)
    user.pin = make_password(pin)
    user.pin_failures = 0
    user.pin_locked_at = None
    user.save(update_fields=["pin", "pin_failures", "pin_locked_at"])
    audit.record(action="user.pin_set", actor=actor or user, target=user)


@transaction.atomic
def clear_pin(*, user: User, actor: User) -> None:
    """Remove `user`'s PIN (a manager, when it is forgotten or locked); they set a new one."""
    if actor.pk != user.pk and not actor.has_perm("accounts.manage_cashiers"):
        raise PermissionDenied(_("You cannot clear another user's PIN."))
    user.pin = ""
    user.pin_failures = 0
    user.pin_locked_at = None
    user.save(update_fields=["pin", "pin_failures", "pin_locked_at"])
    audit.record(action="user.pin_cleared", actor=actor, target=user)


def verify_pin(*, user: User, pin: str, ip_address: str | None = None) -> User:
    """`user`, fresh from the database, if `pin` is theirs.

    :raises NoPin: the user has no PIN.
    :raises PinLocked: too many wrong PINs in a row (also raised by the wrong PIN that locks it).
    :raises WrongPin: a wrong PIN; its `details` say how many tries are left.
    """
    with transaction.atomic():
        # The row lock serialises attempts on one user: each is counted before the next is read.
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.pin:
            raise NoPin(_("%(user)s has no PIN yet.") % {"user": user.get_username()})
        if user.pin_locked_at is not None:
            raise PinLocked(_("This PIN is locked. Sign in with your password, or ask a manager."))
        if check_password(pin or "", user.pin, setter=lambda raw: _rehash(user, raw)):
            if user.pin_failures:
                user.pin_failures = 0
                user.save(update_fields=["pin_failures"])
            return user
        user.pin_failures += 1
        fields = ["pin_failures"]
        locked = user.pin_failures >= MAX_WRONG_PINS
        if locked:
            user.pin_locked_at = timezone.now()
            fields.append("pin_locked_at")
        user.save(update_fields=fields)
        if locked:
            audit.record(
                action="user.pin_locked",
                target=user,
                details={"wrong_pins": user.pin_failures},
                ip_address=ip_address,
            )
    # Raised after the transaction: the count of wrong PINs must be kept.
    if locked:
        raise PinLocked(_("Too many wrong PINs: this PIN is locked. Sign in with your password."))
    left = MAX_WRONG_PINS - user.pin_failures
    raise WrongPin(
        _("Wrong PIN. %(left)d tries left before it locks.") % {"left": left},
        field="pin",
        tries_left=left,
    )


def _rehash(user: User, raw: str) -> None:
    user.pin = make_password(raw)
    user.save(update_fields=["pin"])


class TooManyPins(DomainError):
    code = "rate_limited"
    message = "Too many wrong PINs from this device."
    status = 429


def verify_pin_from(request, *, user: User, pin: str) -> User:
    """verify_pin for a request: refused while this client address has used up its wrong PINs
    (RATE_LIMITS["pin"]); each wrong one counts. A right PIN never counts.

    :raises TooManyPins: over the limit (`details["retry_after"]`, seconds).
    """
    from monitoring.client_ip import client_ip
    from monitoring.ratelimit import usage, wait_message

    address = client_ip(request)
    found = usage(request, "pin", address, increment=False)
    if found is not None and found.exhausted:
        raise TooManyPins(
            _("Too many wrong PINs from this device. Try again in %(wait)s.")
            % {"wait": wait_message(found.reset)},
            retry_after=found.reset,
        )
    try:
        return verify_pin(user=user, pin=pin, ip_address=address)
    except (WrongPin, PinLocked):
        usage(request, "pin", address, increment=True)
        raise


def approver_by_pin(request, *, username: str, pin: str, permission: str) -> User:
    """The manager approving an override on the till's screen with their PIN: the active user
    `username`, whose PIN it is (limits as verify_pin_from) and who holds `permission`.

    :raises WrongPin: no such active user, or not their PIN.
    :raises PermissionDenied: they may not approve this.
    """
    user = User.objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise WrongPin(_("Manager username or PIN is wrong."), field="pin")
    user = verify_pin_from(request, user=user, pin=pin)
    if not user.has_perm(permission):
        raise PermissionDenied(_("%(user)s cannot approve this.") % {"user": user.get_username()})
    return user
