"""An HTTP client for the MTN Mobile Money (MoMo) Collection API: request to pay, and its status.

The flow the POS builds on it:
1. choose a reference id (uuid4) and store it with a pending payment *before* calling MTN;
2. `request_to_pay(reference_id=..., ...)` -- MTN prompts the customer's phone. Calling it again
   with the same reference id is safe: MTN answers 409 and nothing is asked twice;
3. `get_status(reference_id)` until the status is final (SUCCESSFUL or FAILED), or until the POS
   gives up after `MOMO_PAYMENT_TIMEOUT_SECONDS`. A callback from MTN is only a hint to query.

Every failure is a `MoMoError` (a DomainError with a message the cashier can read); nothing from
httpx or from parsing a reply escapes. Amounts are Decimal in, strings out; never float.
"""

import base64
import enum
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from .errors import (
    InvalidPhoneNumber,
    MoMoBadResponse,
    MoMoNotConfigured,
    MoMoNotFound,
    MoMoRequestRejected,
)
from .http import TokenClient, json_object

logger = logging.getLogger("vevurn.momo")

# Decimal places MTN expects per currency. The POS rounds to these before calling (RWF: whole
# francs), so the client refuses an amount with more places instead of rounding money itself.
CURRENCY_PLACES = {
    "RWF": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "GNF": 0,
    "EUR": 2,  # the MoMo sandbox only accepts EUR
    "GHS": 2,
    "ZMW": 2,
    "ZAR": 2,
    "LRD": 2,
    "SZL": 2,
}


class MoMoStatus(enum.StrEnum):
    PENDING = "PENDING"
    SUCCESSFUL = "SUCCESSFUL"
    FAILED = "FAILED"


# Final negative states seen from some MTN markets besides the documented FAILED.
FAILED_ALIASES = {"REJECTED", "TIMEOUT", "EXPIRED"}

# What the cashier is told for the common failure reasons.
REASON_MESSAGES = {
    "PAYER_NOT_FOUND": "This number has no Mobile Money account.",
    "NOT_ENOUGH_FUNDS": "The customer's Mobile Money balance is too low.",
    "APPROVAL_REJECTED": "The customer declined the payment on the phone.",
    "EXPIRED": "The customer did not approve the payment in time.",
    "PAYEE_NOT_ALLOWED_TO_RECEIVE": "The shop's Mobile Money account cannot receive payments.",
    "NOT_ALLOWED": "Mobile Money did not allow this payment.",
}


@dataclass(frozen=True)
class RequestToPayResult:
    reference_id: str
    # True when MTN already had this reference id (409): the customer was asked before.
    already_requested: bool


@dataclass(frozen=True)
class PaymentStatus:
    reference_id: str
    status: MoMoStatus
    financial_transaction_id: str | None
    reason: str | None  # MTN's reason code, e.g. "NOT_ENOUGH_FUNDS"; None unless FAILED
    amount: Decimal | None
    currency: str | None
    external_id: str | None
    # MTN's status repeats the amount and currency; Airtel's enquiry does not (its TS for our
    # transaction id is for what we asked).
    reports_amount: bool = True

    @property
    def is_final(self) -> bool:
        return self.status != MoMoStatus.PENDING

    @property
    def is_successful(self) -> bool:
        return self.status == MoMoStatus.SUCCESSFUL

    def confirms(self, *, amount: Decimal, currency: str) -> bool:
        """Whether this status proves payment of exactly `amount` `currency`: SUCCESSFUL, for the
        amount and currency the POS asked for. Use it before completing a sale."""
        if not self.reports_amount:
            return self.is_successful
        return self.is_successful and self.amount == amount and self.currency == currency

    @property
    def failure_message(self) -> str:
        """A sentence for the cashier about why a FAILED payment failed."""
        return REASON_MESSAGES.get(self.reason or "", "Mobile Money declined the payment.")


def momo_configured() -> bool:
    """Whether request-to-pay can be offered (otherwise: manual reference entry only)."""
    from django.conf import settings

    return all(
        getattr(settings, name, "")
        for name in ("MOMO_BASE_URL", "MOMO_SUBSCRIPTION_KEY", "MOMO_API_USER", "MOMO_API_KEY")
    )


def normalize_msisdn(phone: str) -> str:
    """`+250 788 123 456` -> `250788123456` (MSISDN without +); InvalidPhoneNumber otherwise."""
    digits = "".join(str(phone).split()).replace("-", "")
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not digits.isascii() or not digits.isdigit() or not 9 <= len(digits) <= 15:
        raise InvalidPhoneNumber(field="payer_phone")
    if digits.startswith("0"):  # a local number: we need the country code to be sure
        raise InvalidPhoneNumber(field="payer_phone")
    return digits


def mask_msisdn(msisdn: str) -> str:
    """For logs: keep the country code and the last three digits, `250******456`."""
    if len(msisdn) <= 6:
        return "*" * len(msisdn)
    return msisdn[:3] + "*" * (len(msisdn) - 6) + msisdn[-3:]


def format_amount(amount: Decimal, currency: str) -> str:
    """Decimal -> MTN's amount string with the currency's places (RWF 5000 -> "5000").

    Raises ValueError for an amount that is not positive or has more places than the currency
    allows (the POS rounds once, before calling; the client never rounds money), TypeError for
    a float.
    """
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}")
    if currency not in CURRENCY_PLACES:
        raise ValueError(f"unknown currency {currency!r} for Mobile Money")
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")
    exponent = Decimal(1).scaleb(-CURRENCY_PLACES[currency])
    try:
        quantized = amount.quantize(exponent)
    except InvalidOperation:
        raise ValueError(f"amount {amount} is too large") from None
    if quantized != amount:
        raise ValueError(
            f"amount {amount} has more decimal places than {currency} allows "
            f"({CURRENCY_PLACES[currency]}); round it before requesting payment"
        )
    return format(quantized, "f")


def _parse_reference_id(reference_id: uuid.UUID | str) -> str:
    try:
        return str(uuid.UUID(str(reference_id)))
    except ValueError:
        raise ValueError(f"reference_id must be a UUID, got {reference_id!r}") from None


class MoMoClient(TokenClient):
    """One httpx.Client against one MoMo base URL; safe to share between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        subscription_key: str,
        api_user: str,
        api_key: str,
        target_environment: str = "sandbox",
        callback_url: str = "",
        currency: str = "RWF",
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ):
        if not (base_url and subscription_key and api_user and api_key):
            raise MoMoNotConfigured()
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"MOMO_BASE_URL must start with https://, got {base_url!r}")
        super().__init__(
            base_url=base_url,
            token_key=(base_url.rstrip("/"), subscription_key, api_user, api_key),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            transport=transport,
        )
        self.subscription_key = subscription_key
        self.api_user = api_user
        self.target_environment = target_environment
        self.callback_url = callback_url
        self.currency = currency
        self._basic = "Basic " + base64.b64encode(f"{api_user}:{api_key}".encode()).decode()

    @classmethod
    def from_settings(cls) -> "MoMoClient":
        """The client configured by the MOMO_* settings; MoMoNotConfigured without credentials."""
        from django.conf import settings

        if not momo_configured():
            raise MoMoNotConfigured()
        return cls(
            base_url=settings.MOMO_BASE_URL,
            subscription_key=settings.MOMO_SUBSCRIPTION_KEY,
            api_user=settings.MOMO_API_USER,
            api_key=settings.MOMO_API_KEY,
            target_environment=settings.MOMO_TARGET_ENVIRONMENT,
            callback_url=settings.MOMO_CALLBACK_URL,
            currency=settings.MOMO_CURRENCY,
            connect_timeout=settings.MOMO_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.MOMO_TIMEOUT_SECONDS,
        )

    # --- API --------------------------------------------------------------------------------

    def request_to_pay(
        self,
        *,
        reference_id: uuid.UUID | str,
        amount: Decimal,
        payer_phone: str,
        external_id: str,
        currency: str | None = None,
        payer_message: str = "",
        payee_note: str = "",
        callback_url: str | None = None,
    ) -> RequestToPayResult:
        """Ask MTN to prompt the payer's phone for `amount`. Idempotent per reference id."""
        reference = _parse_reference_id(reference_id)
        currency = currency or self.currency
        msisdn = normalize_msisdn(payer_phone)
        body = {
            "amount": format_amount(amount, currency),
            "currency": currency,
            "externalId": str(external_id),
            "payer": {"partyIdType": "MSISDN", "partyId": msisdn},
            "payerMessage": payer_message,
            "payeeNote": payee_note,
        }
        headers = {"X-Reference-Id": reference}
        callback_url = self.callback_url if callback_url is None else callback_url
        if callback_url:
            headers["X-Callback-Url"] = callback_url
        response = self._api("POST", "/collection/v1_0/requesttopay", headers, json=body)
        logger.info(
            "momo request-to-pay ref=%s payer=%s amount=%s %s -> %s",
            reference,
            mask_msisdn(msisdn),
            body["amount"],
            currency,
            response.status_code,
        )
        if response.status_code == 202:
            return RequestToPayResult(reference_id=reference, already_requested=False)
        if response.status_code == 409:
            return RequestToPayResult(reference_id=reference, already_requested=True)
        if response.status_code == 400:
            raise MoMoRequestRejected(mtn_error=_error_code(response))
        raise self._unexpected(response, "request-to-pay")

    def get_status(self, reference_id: uuid.UUID | str) -> PaymentStatus:
        """The current state of a request to pay; MoMoNotFound if MTN does not know it."""
        reference = _parse_reference_id(reference_id)
        response = self._api("GET", f"/collection/v1_0/requesttopay/{reference}", {})
        if response.status_code == 404:
            logger.info("momo status ref=%s -> 404", reference)
            raise MoMoNotFound(reference_id=reference)
        if response.status_code != 200:
            raise self._unexpected(response, "status")
        data = json_object(response)
        status = _parse_status(data.get("status"))
        payment = PaymentStatus(
            reference_id=reference,
            status=status,
            financial_transaction_id=_optional_str(data.get("financialTransactionId")),
            reason=_reason_code(data.get("reason"), data.get("status"), status),
            amount=_optional_decimal(data.get("amount")),
            currency=_optional_str(data.get("currency")),
            external_id=_optional_str(data.get("externalId")),
        )
        logger.info(
            "momo status ref=%s -> %s txn=%s reason=%s",
            reference,
            payment.status,
            payment.financial_transaction_id,
            payment.reason,
        )
        if payment.is_successful and not payment.financial_transaction_id:
            logger.warning(
                "momo status ref=%s SUCCESSFUL without financialTransactionId", reference
            )
        return payment

    # --- what MTN asks of each call (pos.mobile_money.http does the rest) -----------------

    def _token_request(self) -> tuple[str, dict, None]:
        return (
            "/collection/token/",
            {"Authorization": self._basic, "Ocp-Apim-Subscription-Key": self.subscription_key},
            None,
        )

    def _api_headers(self, token: str) -> dict:
        return {
            "Authorization": f"Bearer {token}",
            "X-Target-Environment": self.target_environment,
            "Ocp-Apim-Subscription-Key": self.subscription_key,
        }


# --- Reading replies ------------------------------------------------------------------------------


def _parse_status(value: Any) -> MoMoStatus:
    if value in FAILED_ALIASES:
        return MoMoStatus.FAILED
    try:
        return MoMoStatus(value)
    except ValueError:
        logger.error("momo status reply with unknown status %r", value)
        raise MoMoBadResponse(detail="status missing or unknown") from None


def _reason_code(reason: Any, raw_status: Any, status: MoMoStatus) -> str | None:
    """MTN sends `reason` as a string or as {"code", "message"}; we keep the code."""
    if status != MoMoStatus.FAILED:
        return None
    if isinstance(reason, dict):
        reason = reason.get("code") or reason.get("message")
    if isinstance(reason, str) and reason:
        return reason
    return raw_status if raw_status in FAILED_ALIASES else None


def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _optional_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MoMoBadResponse(detail="amount is not a number") from None
    if not amount.is_finite():
        raise MoMoBadResponse(detail="amount is not a number")
    return amount


def _error_code(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data.get("code") if isinstance(data, dict) else None
