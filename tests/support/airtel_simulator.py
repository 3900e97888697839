"""A local stand-in for Airtel Money's merchant API, for tests: the OAuth token, the payment
(push to the customer's phone) and the enquiry, with their checks and reply shapes. It runs on
the MTN simulator's server (tests/support/momo_simulator.py) with Airtel's routes and replies.

Outcomes are scripted per subscriber msisdn (national, e.g. "731234567") with `on_payer`:
`pending_polls` enquiries answer `pending_status` (TIP, or TA: ambiguous), then `outcome` (TS,
TF, or TIP/TA for ever), with `reason` as Airtel's message on TF.
"""

import json
import secrets
from dataclasses import dataclass, field

from tests.support.momo_simulator import MoMoSimulator, _reply

TOKEN_PATH = "/auth/oauth2/token"
PAYMENT_PATH = "/merchant/v2/payments/"
ENQUIRY_PATH = "/standard/v1/payments/"
OK = {
    "code": "200",
    "message": "SUCCESS",
    "result_code": "ESB000010",
    "response_code": "DP00800001006",
    "success": True,
}


@dataclass
class AirtelScript:
    outcome: str = "TS"
    pending_polls: int = 0
    pending_status: str = "TIP"
    reason: str = "Transaction failed"


@dataclass
class AirtelPayment:
    transaction_id: str
    body: dict
    script: AirtelScript
    polls: int = 0
    airtel_money_id: str = field(default_factory=lambda: f"MP{secrets.randbelow(10**10):010d}")


class AirtelSimulator(MoMoSimulator):
    def __init__(
        self,
        *,
        client_id: str = "sim-airtel-client",
        client_secret: str = "sim-airtel-secret-0123456789",  # noqa: S107 - a test's
        country: str = "RW",
        currency: str = "RWF",
        token_lifetime: int = 180,
    ):
        super().__init__(token_lifetime=token_lifetime)
        self.client_id = client_id
        self.client_secret = client_secret
        self.country = country
        self.currency = currency
        self.default_script = AirtelScript()
        self.payer_scripts: dict[str, AirtelScript] = {}

    def on_payer(self, msisdn: str, **script) -> None:
        """Script the outcome for this subscriber (national msisdn, without the country code)."""
        self.payer_scripts[msisdn] = AirtelScript(**script)

    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and path == TOKEN_PATH:
            return "token"
        if method == "POST" and path == PAYMENT_PATH:
            return "requesttopay"
        if method == "GET" and path.startswith(ENQUIRY_PATH) and len(path) > len(ENQUIRY_PATH):
            return "status"
        return None

    def _token(self, headers, body=None) -> tuple[int, bytes]:
        if (
            not isinstance(body, dict)
            or body.get("grant_type") != "client_credentials"
            or body.get("client_id") != self.client_id
            or body.get("client_secret") != self.client_secret
        ):
            return _reply(400, {"error": "invalid_client", "error_description": "bad client"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        return _reply(
            200,
            {"access_token": token, "expires_in": str(self.token_lifetime), "token_type": "bearer"},
        )

    def _check_bearer(self, headers) -> tuple[int, bytes] | None:
        auth = headers.get("authorization", "")
        with self._lock:
            valid = auth.startswith("Bearer ") and auth[len("Bearer ") :] in self.tokens
        if not valid:
            return _reply(401, {"error": "invalid_token"})
        if headers.get("x-country") != self.country or headers.get("x-currency") != self.currency:
            return _reply(400, {"status": {**OK, "code": "400", "success": False}})
        return None

    def _request_to_pay(self, headers, body, raw_body) -> tuple[int, bytes]:
        problem = _payment_problem(body, self.country, self.currency)
        if problem:
            return _reply(
                400,
                {
                    "status": {
                        **OK,
                        "code": "400",
                        "message": problem,
                        "result_code": "ESB000001",
                        "success": False,
                    }
                },
            )
        transaction = body["transaction"]
        with self._lock:
            if transaction["id"] in self.payments:
                return _reply(
                    200,
                    {"status": {**OK, "message": "Duplicate transaction id", "success": False}},
                )
            script = self.payer_scripts.get(body["subscriber"]["msisdn"], self.default_script)
            self.payments[transaction["id"]] = AirtelPayment(transaction["id"], body, script)
        return _reply(
            200,
            {"data": {"transaction": {"id": transaction["id"], "status": "SUCCESS"}}, "status": OK},
        )

    def _status(self, transaction_id) -> tuple[int, bytes]:
        with self._lock:
            payment = self.payments.get(transaction_id)
            if payment is None:
                return _reply(
                    200,
                    {"status": {**OK, "message": "Transaction not found", "success": False}},
                )
            payment.polls += 1
            script = payment.script
            status = (
                script.outcome if payment.polls > script.pending_polls else script.pending_status
            )
        transaction = {"id": transaction_id, "status": status, "message": "In process"}
        if status == "TS":
            transaction.update(airtel_money_id=payment.airtel_money_id, message="success")
        if status == "TF":
            transaction["message"] = script.reason
        return _reply(200, {"data": {"transaction": transaction}, "status": OK})

    def callback_body(self, transaction_id: str) -> bytes:
        """What Airtel posts to the merchant's callback URL once a payment is final."""
        payment = self.payments[transaction_id]
        status = payment.script.outcome
        return json.dumps(
            {
                "transaction": {
                    "id": transaction_id,
                    "message": "success" if status == "TS" else payment.script.reason,
                    "status_code": status,
                    "airtel_money_id": payment.airtel_money_id,
                }
            }
        ).encode()


def _payment_problem(body, country: str, currency: str) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    subscriber, transaction = body.get("subscriber"), body.get("transaction")
    if not isinstance(subscriber, dict) or not isinstance(transaction, dict):
        return "subscriber and transaction are required"
    msisdn = str(subscriber.get("msisdn", ""))
    if not msisdn.isdigit() or msisdn.startswith(("0", "250")) or len(msisdn) != 9:
        return "msisdn must be the national number without the country code"
    amount = transaction.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return "amount must be a positive whole number"
    if transaction.get("country") != country or transaction.get("currency") != currency:
        return "country or currency does not match the headers"
    if not str(transaction.get("id", "")).isalnum():
        return "transaction id must be alphanumeric"
    return None
