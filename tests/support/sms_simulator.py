"""A local stand-in for an SMS gateway with Africa's Talking's API, for tests: a threaded HTTP
server on 127.0.0.1 answering POST /version1/messaging (form: username, to, message, from;
header apiKey) with the per-recipient reply shape.

Each number's outcome is scripted with `on_number` (a status code and word: 101 "Success" by
default, 403 "InvalidPhoneNumber"...); `fail_next` makes the next calls answer an HTTP error.
Everything received is kept in `received` (the form, decoded, and the headers).
"""

import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PATH = "/version1/messaging"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class SmsGatewaySimulator:
    def __init__(self, *, username: str = "vevurn-test", api_key: str | None = None):
        self.username = username
        self.api_key = api_key or secrets.token_hex(16)
        self.received: list[Received] = []
        self.outcomes: dict[str, tuple[int, str]] = {}
        self.http_failures: list[int] = []
        self._lock = threading.Lock()
        self._server = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def on_number(self, number: str, code: int, status: str) -> None:
        self.outcomes[number] = (code, status)

    def fail_next(self, *statuses: int) -> None:
        self.http_failures.extend(statuses)

    def sent_to(self, number: str) -> list[str]:
        return [r.form["message"] for r in self.received if r.form.get("to") == number]

    def start(self) -> "SmsGatewaySimulator":
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                with simulator._lock:
                    simulator.received.append(Received(self.path, dict(self.headers), form))
                    failure = simulator.http_failures.pop(0) if simulator.http_failures else None
                if failure is not None:
                    return self._answer(failure, {"error": "simulated failure"})
                if self.path != PATH:
                    return self._answer(404, {"error": "not found"})
                if self.headers.get("apiKey") != simulator.api_key:
                    return self._answer(401, {"error": "The supplied authentication is invalid"})
                if form.get("username") != simulator.username:
                    return self._answer(401, {"error": "Invalid username"})
                recipients = []
                for number in form.get("to", "").split(","):
                    code, status = simulator.outcomes.get(number, (101, "Success"))
                    recipients.append({
                        "statusCode": code,
                        "number": number,
                        "status": status,
                        "cost": "RWF 15.0000" if code == 101 else "0",
                        "messageId": f"ATXid_{secrets.token_hex(8)}" if code == 101 else "None",
                    })  # fmt: skip
                sent = sum(1 for r in recipients if r["statusCode"] == 101)
                self._answer(201, {"SMSMessageData": {
                    "Message": f"Sent to {sent}/{len(recipients)} Total Cost: RWF 15",
                    "Recipients": recipients,
                }})  # fmt: skip

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
