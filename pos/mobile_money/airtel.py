"""An HTTP client for Airtel Money's merchant (collection) API: push a payment to the customer's
phone, and ask for its state. It answers in the same terms as the MTN client (RequestToPayResult,
PaymentStatus), so the request-to-pay service drives both through one state machine.

The calls (docs/mobile-money.md#airtel-money):
- token: `POST /auth/oauth2/token` with the client id and secret (client_credentials); the token
  lives about 180 s and is shared by the process (pos.mobile_money.http);
- payment: `POST /merchant/v2/payments/` with `X-Country` and `X-Currency`, the subscriber's
  msisdn without the country code, and our transaction id (the request's reference id as 32 hex
  digits). `status.success` false is a refusal;
- enquiry: `GET /standard/v1/payments/{id}`: `TS` success, `TF` failed, `TIP` in progress and
  `TA` ambiguous. TIP and TA stay pending: the POS asks again until the payment times out, and
  a later TS is a late success as with MTN. A reply without a transaction is "not found".

Airtel's enquiry does not repeat the amount: a TS for our transaction id confirms what we asked
for (`PaymentStatus.reports_amount` is False). Its `airtel_money_id` is the transaction id the
customer's SMS shows, stored like MTN's financialTransactionId.
"""

import logging
import uuid
from decimal import Decimal

import httpx

from .client import (
    CURRENCY_PLACES,
    MoMoStatus,
    PaymentStatus,
    RequestToPayResult,
    format_amount,
    mask_msisdn,
    normalize_msisdn,
)
from .errors import (
    InvalidPhoneNumber,
    MoMoBadResponse,
    MoMoNotConfigured,
    MoMoNotFound,
    MoMoRequestRejected,
)
from .http import TokenClient, json_object

logger = logging.getLogger("vevurn.momo")

TOKEN_PATH = "/auth/oauth2/token"  # noqa: S105 - a path, not a secret
PAYMENT_PATH = "/merchant/v2/payments/"
ENQUIRY_PATH = "/standard/v1/payments/"

# Airtel's transaction status codes -> the shared states. TA (ambiguous) is not final: Airtel
# does not know yet either, so the payment stays pending and is asked about again.
STATUSES = {
    "TS": MoMoStatus.SUCCESSFUL,
    "TF": MoMoStatus.FAILED,
    "TIP": MoMoStatus.PENDING,
    "TA": MoMoStatus.PENDING,
}

# Country calling codes of Airtel's markets: the msisdn is sent without it.
DIAL_CODES = {"RW": "250", "UG": "256", "KE": "254", "TZ": "255", "ZM": "260", "MW": "265"}


def airtel_configured() -> bool:
    from django.conf import settings

    return all(
        getattr(settings, name, "")
        for name in ("AIRTEL_BASE_URL", "AIRTEL_CLIENT_ID", "AIRTEL_CLIENT_SECRET")
    )


def transaction_id(reference_id: uuid.UUID | str) -> str:
    """Our transaction id at Airtel: the request's reference id as 32 hex digits."""
    try:
        return uuid.UUID(str(reference_id)).hex
    except ValueError:
        raise ValueError(f"reference_id must be a UUID, got {reference_id!r}") from None


def national_msisdn(phone: str, country: str) -> str:
    """`+250 731 234 567` -> `731234567` (Airtel wants the number without the country code)."""
    msisdn = normalize_msisdn(phone)
    dial = DIAL_CODES.get(country, "")
    if not dial or not msisdn.startswith(dial):
        raise InvalidPhoneNumber(field="payer_phone")
    return msisdn[len(dial) :]


class AirtelClient(TokenClient):
    """One httpx.Client against Airtel's API host; safe to share between threads."""

    log_name = "airtel"
    # Airtel answers a wrong client id or secret with 400 (invalid_client) as well as 401.
    credentials_refused = (400, 401, 403)

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        country: str = "RW",
        currency: str = "RWF",
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ):
        if not (base_url and client_id and client_secret):
            raise MoMoNotConfigured()
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"AIRTEL_BASE_URL must start with https://, got {base_url!r}")
        super().__init__(
            base_url=base_url,
            token_key=("airtel", base_url.rstrip("/"), client_id, client_secret),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            transport=transport,
        )
        self.client_id = client_id
        self._client_secret = client_secret
        self.country = country
        self.currency = currency

    @classmethod
    def from_settings(cls) -> "AirtelClient":
        """The client configured by the AIRTEL_* settings; MoMoNotConfigured without them."""
        from django.conf import settings

        if not airtel_configured():
            raise MoMoNotConfigured()
        return cls(
            base_url=settings.AIRTEL_BASE_URL,
            client_id=settings.AIRTEL_CLIENT_ID,
            client_secret=settings.AIRTEL_CLIENT_SECRET,
            country=settings.AIRTEL_COUNTRY,
            currency=settings.AIRTEL_CURRENCY,
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
        """Push a payment prompt to the payer's phone. Airtel calls back the URL set in its
        portal (not per request): `callback_url` and `payee_note` are not sent."""
        del payee_note, callback_url
        currency = currency or self.currency
        reference = str(uuid.UUID(str(reference_id)))
        msisdn = national_msisdn(payer_phone, self.country)
        text = format_amount(amount, currency)
        body = {
            "reference": (payer_message or external_id)[:64],
            "subscriber": {"country": self.country, "currency": currency, "msisdn": msisdn},
            "transaction": {
                # A JSON number, never a float: whole units as an int, else the exact string.
                "amount": int(text) if CURRENCY_PLACES[currency] == 0 else text,
                "country": self.country,
                "currency": currency,
                "id": transaction_id(reference),
            },
        }
        response = self._api("POST", PAYMENT_PATH, {"X-Currency": currency}, json=body)
        logger.info(
            "airtel payment ref=%s payer=%s amount=%s %s -> %s",
            reference,
            mask_msisdn(DIAL_CODES.get(self.country, "") + msisdn),
            text,
            currency,
            response.status_code,
        )
        if response.status_code == 400:
            raise MoMoRequestRejected(provider_error=_result(response).get("response_code"))
        if response.status_code != 200:
            raise self._unexpected(response, "payment")
        result = _result(response)
        if result.get("success") is not True:
            logger.warning(
                "airtel payment ref=%s refused: %s %s",
                reference,
                result.get("response_code"),
                result.get("message"),
            )
            raise MoMoRequestRejected(provider_error=result.get("response_code"))
        return RequestToPayResult(reference_id=reference, already_requested=False)

    def get_status(self, reference_id: uuid.UUID | str) -> PaymentStatus:
        """The payment's state from Airtel's enquiry; MoMoNotFound if Airtel does not know it."""
        reference = str(uuid.UUID(str(reference_id)))
        response = self._api("GET", ENQUIRY_PATH + transaction_id(reference), {})
        if response.status_code == 404:
            raise MoMoNotFound(reference_id=reference)
        if response.status_code != 200:
            raise self._unexpected(response, "enquiry")
        data = json_object(response, self.log_name)
        transaction = (data.get("data") or {}).get("transaction") if data.get("data") else None
        if not isinstance(transaction, dict) or not transaction.get("status"):
            logger.info("airtel enquiry ref=%s -> no such transaction", reference)
            raise MoMoNotFound(reference_id=reference)
        raw = transaction.get("status")
        if raw not in STATUSES:
            logger.error("airtel enquiry reply with unknown status %r", raw)
            raise MoMoBadResponse(detail="status missing or unknown")
        status = STATUSES[raw]
        message = transaction.get("message")
        payment = PaymentStatus(
            reference_id=reference,
            status=status,
            financial_transaction_id=str(transaction.get("airtel_money_id") or "") or None,
            reason=(f"{raw}: {message}" if message else raw)
            if status == MoMoStatus.FAILED
            else None,
            amount=None,
            currency=None,
            external_id=None,
            reports_amount=False,
        )
        logger.info(
            "airtel enquiry ref=%s -> %s (%s) txn=%s",
            reference,
            payment.status,
            raw,
            payment.financial_transaction_id,
        )
        return payment

    # --- what Airtel asks of each call (pos.mobile_money.http does the rest) -----------------

    def _token_request(self) -> tuple[str, dict, dict]:
        return (
            TOKEN_PATH,
            {"Accept": "application/json"},
            {
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "grant_type": "client_credentials",
            },
        )

    def _api_headers(self, token: str) -> dict:
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "X-Country": self.country,
            "X-Currency": self.currency,
        }


def _result(response: httpx.Response) -> dict:
    """Airtel's `status` object ({success, code, message, result_code, response_code})."""
    try:
        data = response.json()
    except ValueError:
        return {}
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, dict) else {}
