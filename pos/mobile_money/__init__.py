"""MTN Mobile Money (MoMo) Collection API: the HTTP client the checkout builds on."""

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
