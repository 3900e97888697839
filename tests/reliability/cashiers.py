"""Simulated cashiers: threads ringing up API checkouts against a live app server.

Each sale gets a fresh Idempotency-Key. Like a real till, a cashier whose request is refused with
503 or whose connection breaks retries the SAME request with the SAME key (honouring Retry-After,
capped so the test stays short) until it gets an answer; every attempt is recorded.
"""

import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

RETRY_PAUSE_CAP_SECONDS = 1.0
# A sale still unanswered this long after the cashiers were told to stop is a failure.
FINISH_WITHIN_SECONDS = 120


@dataclass
class Attempt:
    key: str
    status: int | None  # None: no HTTP answer (connection refused, reset...)
    code: str | None = None  # the error code of an error answer
    retry_after: str | None = None
    number: str | None = None  # the receipt number of a 200/201
    error: str | None = None


@dataclass
class Cashier:
    port: int
    token: str
    products: list[int]
    attempts: list[Attempt] = field(default_factory=list)
    finals: dict[str, Attempt] = field(default_factory=dict)  # key -> its last attempt
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sale_body(self, n: int) -> bytes:
        product = self.products[n % len(self.products)]
        return json.dumps(
            {
                "lines": [{"product": product, "quantity": 1}],
                "tenders": [{"tender": "cash", "amount": "20000"}],
            }
        ).encode()

    def post(self, key: str, body: bytes) -> Attempt:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                "POST",
                "/api/v1/sales/",
                body=body,
                headers={
                    "Authorization": f"Token {self.token}",
                    "Idempotency-Key": key,
                    "Content-Type": "application/json",
                },
            )
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            return Attempt(key, None, error=f"{type(error).__name__}: {error}")
        finally:
            conn.close()
        try:
            payload = json.loads(body or b"{}")
        except ValueError:  # a page, not the API's JSON: a defect in itself
            return Attempt(key, response.status, code="not_json", error=body[:2000].decode())
        error = payload.get("error") or {}
        return Attempt(
            key,
            response.status,
            code=error.get("code"),
            retry_after=response.getheader("Retry-After"),
            number=payload.get("number"),
        )

    def ring_up(self, key: str, body: bytes, stop: threading.Event) -> Attempt:
        """One sale, retried with its key while the answer is 503 or no answer at all."""
        give_up = None
        while True:
            attempt = self.post(key, body)
            with self.lock:
                self.attempts.append(attempt)
            if attempt.status is not None and attempt.status != 503:
                return attempt
            if stop.is_set():
                give_up = give_up or time.monotonic() + FINISH_WITHIN_SECONDS
                if time.monotonic() > give_up:
                    return attempt
            pause = float(attempt.retry_after or 0.2)
            time.sleep(min(pause, RETRY_PAUSE_CAP_SECONDS))

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            key = str(uuid.uuid4())
            final = self.ring_up(key, self.sale_body(n), stop)
            with self.lock:
                self.finals[key] = final
            n += 1

    def sold(self) -> int:
        with self.lock:
            return sum(1 for a in self.finals.values() if a.status in (200, 201))

    def seen(self, predicate) -> int:
        with self.lock:
            return sum(1 for a in self.attempts if predicate(a))


class Cashiers:
    """Cashiers at their tills, started together, stopped together."""

    def __init__(self, port: int, tokens: list[str], products: list[int]):
        self.cashiers = [
            Cashier(port, token, products[i:] + products[:i]) for i, token in enumerate(tokens)
        ]
        self.stop_event = threading.Event()
        self.threads = [
            threading.Thread(target=c.run, args=(self.stop_event,), daemon=True)
            for c in self.cashiers
        ]

    def __enter__(self) -> "Cashiers":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=FINISH_WITHIN_SECONDS + 60)

    def wait_until_each_sold(self, more: int, *, timeout: float = 120) -> None:
        """Until every cashier has completed `more` sales beyond what each has now."""
        targets = [c.sold() + more for c in self.cashiers]
        deadline = time.monotonic() + timeout
        while any(c.sold() < t for c, t in zip(self.cashiers, targets, strict=True)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"cashiers sold {[c.sold() for c in self.cashiers]}")
            time.sleep(0.1)

    def wait_until_each_saw(self, predicate, times: int, *, timeout: float = 120) -> None:
        """Until every cashier has had `times` attempts (from the start) that match."""
        deadline = time.monotonic() + timeout
        while any(c.seen(predicate) < times for c in self.cashiers):
            if time.monotonic() > deadline:
                raise TimeoutError(f"cashiers saw {[c.seen(predicate) for c in self.cashiers]}")
            time.sleep(0.1)

    @property
    def attempts(self) -> list[Attempt]:
        return [a for c in self.cashiers for a in c.attempts]

    @property
    def finals(self) -> dict[str, Attempt]:
        return {k: a for c in self.cashiers for k, a in c.finals.items()}
