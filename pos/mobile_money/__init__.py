"""Mobile Money: the MTN MoMo Collection and Airtel Money merchant clients the checkout builds
on, behind one provider interface (providers.py)."""

from .airtel import AirtelClient
from .client import (
    MoMoClient,
    MoMoStatus,
    PaymentStatus,
    RequestToPayResult,
    format_amount,
    mask_msisdn,
    momo_configured,
    normalize_msisdn,
)
from .errors import (
    InvalidPhoneNumber,
    MoMoAuthError,
    MoMoBadResponse,
    MoMoError,
    MoMoNotConfigured,
    MoMoNotFound,
    MoMoRequestRejected,
    MoMoTimeout,
)

__all__ = [
    "AirtelClient",
    "InvalidPhoneNumber",
    "MoMoAuthError",
    "MoMoBadResponse",
    "MoMoClient",
    "MoMoError",
    "MoMoNotConfigured",
    "MoMoNotFound",
    "MoMoRequestRejected",
    "MoMoStatus",
    "MoMoTimeout",
    "PaymentStatus",
    "RequestToPayResult",
    "format_amount",
    "mask_msisdn",
    "momo_configured",
    "normalize_msisdn",
]
