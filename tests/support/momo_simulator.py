"""A local stand-in for the MTN MoMo Collection API, for tests: a threaded HTTP server on
127.0.0.1 with the token, request-to-pay and status endpoints, their auth checks and reply shapes.

Behaviour is scripted per payer number (`on_payer`) and, for faults on any endpoint, per call
(`queue_reply`). Everything it received is kept in `received` for assertions.
"""

import base64
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_PATH = "/collection/token/"
REQUEST_PATH = "/collection/v1_0/requesttopay"
ENDPOINTS = ("token", "requesttopay", "status")


@dataclass
class PayerScript:
    """What happens to a payer's requests: PENDING for `pending_polls` status reads, then
    `outcome` (SUCCESSFUL, FAILED, or PENDING for ever) with `reason` when FAILED."""

    outcome: str = "SUCCESSFUL"
    pending_polls: int = 0
    reason: str | dict | None = None


@dataclass
class CannedReply:
    status: int = 500
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (longer than a read timeout = timeout)


@dataclass
class Received:
    endpoint: str
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None


@dataclass
class Payment:
    reference_id: str
    body: dict
    script: PayerScript
    polls: int = 0
    financial_transaction_id: str = field(default_factory=lambda: str(secrets.randbelow(10**10)))


class MoMoSimulator:
    def __init__(
        self,
        *,
        api_user: str = "5f9a3d4e-7b1c-4e2a-9d8f-0c1b2a3e4f5a",
        api_key: str = "sim-api-key-1234567890",
        subscription_key: str = "sim-subscription-key-abcdef",
        target_environment: str = "sandbox",
        token_lifetime: int = 3600,
    ):
        self.api_user = api_user
        self.api_key = api_key
        self.subscription_key = subscription_key
        self.target_environment = target_environment
        self.token_lifetime = token_lifetime
        self.default_script = PayerScript()
        self.payer_scripts: dict[str, PayerScript] = {}
        self.payments: dict[str, Payment] = {}
        self.tokens: set[str] = set()
        self.received: list[Received] = []
        self._canned: dict[str, list[CannedReply]] = {name: [] for name in ENDPOINTS}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting ------------------------------------------------------------------------

    def on_payer(self, msisdn: str, **script) -> None:
        """Script the outcome for requests from this payer (MSISDN without +)."""
        self.payer_scripts[msisdn] = PayerScript(**script)

    def queue_reply(self, endpoint: str, **reply) -> None:
        """Answer the next call to `endpoint` ("token", "requesttopay", "status") with this
        canned reply instead of the normal behaviour (500s, malformed bodies, delays)."""
        assert endpoint in ENDPOINTS, endpoint
        with self._lock:
            self._canned[endpoint].append(CannedReply(**reply))

    def revoke_tokens(self) -> None:
        """Forget every issued token, as if they had expired on MTN's side."""
        with self._lock:
            self.tokens.clear()

    def received_for(self, endpoint: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.endpoint == endpoint]

    @property
    def base_url(self) -> str:
        assert self._server is not None, "simulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> "MoMoSimulator":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a scripted delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "MoMoSimulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- behaviour --------------------------------------------------------------------------

    def route(self, method: str, path: str) -> str | None:
        """The endpoint ("token", "requesttopay", "status") a call is for; None: 404."""
        if method == "POST" and path == TOKEN_PATH:
            return "token"
        if method == "POST" and path == REQUEST_PATH:
            return "requesttopay"
        if method == "GET" and path.startswith(REQUEST_PATH + "/"):
            return "status"
        return None

    def handle(self, endpoint, method, path, headers, raw_body) -> tuple[int, bytes]:
        body = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = None
        with self._lock:
            self.received.append(Received(endpoint, method, path, headers, body))
            canned = self._canned[endpoint].pop(0) if self._canned[endpoint] else None
        if canned is not None:
            if canned.delay:
                self._stopping.wait(canned.delay)
            return canned.status, canned.body
        if endpoint == "token":
            return self._token(headers, body)
        denied = self._check_bearer(headers)
        if denied:
            return denied
        if endpoint == "requesttopay":
            return self._request_to_pay(headers, body, raw_body)
        return self._status(path.rsplit("/", 1)[-1])

    def _token(self, headers, body=None) -> tuple[int, bytes]:
        expected = "Basic " + base64.b64encode(f"{self.api_user}:{self.api_key}".encode()).decode()
        if headers.get("ocp-apim-subscription-key") != self.subscription_key:
            return _reply(
                401,
                {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
            )
        if headers.get("authorization") != expected:
            return _reply(401, {"error": "login_failed"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        return _reply(
            200,
            {
                "access_token": token,
                "token_type": "access_token",
                "expires_in": self.token_lifetime,
            },
        )

    def _check_bearer(self, headers) -> tuple[int, bytes] | None:
        if headers.get("ocp-apim-subscription-key") != self.subscription_key:
            return _reply(
                401,
                {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
            )
        auth = headers.get("authorization", "")
        with self._lock:
            valid = auth.startswith("Bearer ") and auth[len("Bearer ") :] in self.tokens
        if not valid:
            return _reply(401, {"code": "UNAUTHORIZED", "message": "Invalid token"})
        if headers.get("x-target-environment") != self.target_environment:
            return _reply(
                400,
                {
                    "code": "NOT_ALLOWED_TARGET_ENVIRONMENT",
                    "message": "Access to target environment is forbidden.",
                },
            )
        return None

    def _request_to_pay(self, headers, body, raw_body) -> tuple[int, bytes]:
        reference = headers.get("x-reference-id", "")
        try:
            uuid.UUID(reference)
        except ValueError:
            return _reply(400, {"code": "INVALID_REFERENCE_ID", "message": "bad X-Reference-Id"})
        problem = _body_problem(body)
        if problem:
            return _reply(400, {"code": "INVALID_REQUEST", "message": problem})
        with self._lock:
            if reference in self.payments:
                return _reply(
                    409,
                    {
                        "code": "RESOURCE_ALREADY_EXIST",
                        "message": "Duplicated reference id. Creation of resource failed.",
                    },
                )
            script = self.payer_scripts.get(body["payer"]["partyId"], self.default_script)
            self.payments[reference] = Payment(reference, body, script)
        return 202, b""

    def _status(self, reference) -> tuple[int, bytes]:
        with self._lock:
            payment = self.payments.get(reference)
            if payment is None:
                return _reply(
                    404,
                    {"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."},
                )
            payment.polls += 1
            script = payment.script
            status = script.outcome if payment.polls > script.pending_polls else "PENDING"
        reply = {
            "amount": payment.body["amount"],
            "currency": payment.body["currency"],
            "externalId": payment.body["externalId"],
            "payer": payment.body["payer"],
            "payerMessage": payment.body["payerMessage"],
            "payeeNote": payment.body["payeeNote"],
            "status": status,
        }
        if status == "SUCCESSFUL":
            reply["financialTransactionId"] = payment.financial_transaction_id
        if status == "FAILED":
            reply["reason"] = script.reason
        return _reply(200, reply)


def _body_problem(body) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    amount = body.get("amount")
    if not isinstance(amount, str) or not amount.replace(".", "", 1).isdigit():
        return "amount must be a string of digits"
    currency = body.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        return "currency must be a 3-letter code"
    if not isinstance(body.get("externalId"), str):
        return "externalId must be a string"
    payer = body.get("payer")
    if (
        not isinstance(payer, dict)
        or payer.get("partyIdType") != "MSISDN"
        or not str(payer.get("partyId", "")).isdigit()
    ):
        return "payer must be an MSISDN party"
    for name in ("payerMessage", "payeeNote"):
        if not isinstance(body.get(name, ""), str):
            return f"{name} must be a string"
    return None


def _reply(status: int, payload: dict) -> tuple[int, bytes]:
    return status, json.dumps(payload).encode()


def _handler_for(simulator: MoMoSimulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms stalls

        def do_POST(self):
            self._dispatch()

        def do_GET(self):
            self._dispatch()

        def _dispatch(self):
            path = self.path.split("?", 1)[0]
            endpoint = simulator.route(self.command, path)
            if endpoint is None:
                self._send(404, b'{"code": "RESOURCE_NOT_FOUND"}')
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, body = simulator.handle(endpoint, self.command, path, headers, raw_body)
            self._send(status, body)

        def _send(self, status: int, body: bytes):
            try:
                self.send_response(status)
                if body:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout test); nothing to answer

        def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
            pass

    return Handler
