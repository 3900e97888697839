"""Errors of the MTN MoMo client. Each is a DomainError: the cashier reads its message and takes
another tender; nothing from httpx or the reply's parsing escapes the client.

Each class names only what differs from its base (core.errors.DomainError: code, message,
status 400, fields; MoMoError: status 502): the base's constructor, fields and `as_dict` serve
them all."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class MoMoError(DomainError):
    """Mobile Money could not be reached or did not answer usefully (5xx, connection refused)."""

    code = "momo_unavailable"
    message = _("Mobile Money is not answering; try again or take another tender.")
    status = 502


class MoMoTimeout(MoMoError):
    """No answer within the configured timeout. For request-to-pay the outcome is unknown: ask
    for the status with the same reference id (404 -> MTN never got it; sending it again is
    safe because the reference id makes it idempotent)."""

    code = "momo_timeout"
    message = _("Mobile Money did not answer in time; try again or take another tender.")
    status = 504


class MoMoBadResponse(MoMoError):
    """A reply we cannot read: invalid JSON, missing fields, or an unexpected status code."""

    code = "momo_bad_response"
    message = _("Mobile Money sent an answer we could not read; try again or take another tender.")


class MoMoAuthError(MoMoError):
    """MTN refused our credentials (API user/key, subscription key or token): a setup problem."""

    code = "momo_auth_failed"
    message = _(
        "Mobile Money refused the shop's credentials; ask a manager to check the Mobile Money "
        "settings, and take another tender."
    )
    status = 503


class MoMoNotConfigured(MoMoError):
    """Request-to-pay is not set up (no credentials); the POS offers manual reference entry.

    A refusal of the request, not a fault of the server (422, like any business rule): the till
    hides the request without the settings, and metrics and alerts do not count it as an error.
    """

    code = "momo_not_configured"
    message = _(
        "Mobile Money requests are not set up; type the transaction reference from the "
        "customer's phone instead."
    )
    status = 422


class MoMoRequestRejected(MoMoError):
    """MTN refused the request itself (400): e.g. an invalid payer number or currency."""

    code = "momo_request_rejected"
    message = _(
        "Mobile Money refused the payment request; check the phone number, or take another tender."
    )
    status = 400


class MoMoNotFound(MoMoError):
    """MTN does not know this reference id (never received, or another environment)."""

    code = "momo_not_found"
    message = _("Mobile Money has no payment request with this reference.")
    status = 404


class InvalidPhoneNumber(DomainError):
    """The payer's phone number is not a valid international mobile number."""

    code = "invalid_phone_number"
    message = _("Enter the customer's Mobile Money number, e.g. +250788123456.")
