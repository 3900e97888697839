"""The HTTP plumbing every Mobile Money provider's client shares: a bearer token fetched once per
credentials and shared by the process, one retry with a new token when the provider refuses
one, timeouts, and every transport failure turned into a MoMoError the cashier can read.

A provider's client (pos.mobile_money.client for MTN, pos.mobile_money.airtel for Airtel)
subclasses `TokenClient` and says only what differs: how to ask for a token (`_token_request`)
and which headers go with each call (`_api_headers`).
"""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import MoMoAuthError, MoMoBadResponse, MoMoError, MoMoTimeout

logger = logging.getLogger("vevurn.momo")


@dataclass
class _Token:
    value: str
    refresh_at: float  # time.monotonic() after which we fetch a new one


# One token per credentials (the key names the provider, its host and the credentials).
_tokens: dict[tuple, _Token] = {}
_tokens_lock = threading.Lock()


def clear_token_cache() -> None:
    with _tokens_lock:
        _tokens.clear()


class TokenClient:
    """One httpx.Client against one provider's base URL; safe to share between threads."""

    log_name = "momo"  # the provider's name in log lines
    credentials_refused = (401, 403)  # what the token call answers to wrong credentials

    def __init__(
        self,
        *,
        base_url: str,
        token_key: tuple,
        connect_timeout: float,
        read_timeout: float,
        transport: httpx.BaseTransport | None,
    ):
        self.base_url = base_url.rstrip("/")
        self._token_key = token_key
        self._token_wait = connect_timeout + read_timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,  # never send credentials anywhere but base_url
            trust_env=False,  # no proxy or netrc from the environment
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- what each provider says -------------------------------------------------------------

    def _token_request(self) -> tuple[str, dict, Any]:
        """(path, headers, JSON body or None) of the call that issues a token."""
        raise NotImplementedError

    def _api_headers(self, token: str) -> dict:
        """The headers of an API call made with `token`."""
        raise NotImplementedError

    # --- plumbing ----------------------------------------------------------------------------

    def _api(self, method: str, path: str, headers: dict, json: Any = None) -> httpx.Response:
        """A call with a bearer token; on 401 the token may have expired early: fetch a new one
        and try once more."""
        refused = None
        for _attempt in (1, 2):
            token = self._token(refused=refused)
            response = self._send(method, path, {**self._api_headers(token), **headers}, json)
            if response.status_code not in (401, 403):
                return response
            logger.warning(
                "%s %s %s -> %s (token refused)", self.log_name, method, path, response.status_code
            )
            refused = token
        raise MoMoAuthError()

    def _token(self, *, refused: str | None = None) -> str:
        """The cached token, or a new one when it is missing, about to expire or `refused`.
        One thread fetches while the others wait, but no longer than one call may take."""
        if not _tokens_lock.acquire(timeout=self._token_wait):
            logger.warning("%s token: still waiting for another thread to fetch one", self.log_name)
            raise MoMoTimeout()
        try:
            return self._cached_or_new_token(refused)
        finally:
            _tokens_lock.release()

    def _cached_or_new_token(self, refused: str | None) -> str:
        cached = _tokens.get(self._token_key)
        fresh = cached and time.monotonic() < cached.refresh_at
        if fresh and cached.value != refused:
            return cached.value
        path, headers, body = self._token_request()
        response = self._send("POST", path, headers, body)
        if response.status_code in self.credentials_refused:
            logger.error(
                "%s token -> %s (credentials refused)", self.log_name, response.status_code
            )
            raise MoMoAuthError()
        if response.status_code != 200:
            raise self._unexpected(response, "token")
        data = json_object(response, self.log_name)
        value, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(value, str) or not value:
            raise MoMoBadResponse(detail="token reply without access_token")
        try:
            expires_in = int(expires_in)
        except (TypeError, ValueError):
            raise MoMoBadResponse(detail="token reply without expires_in") from None
        if expires_in <= 0:
            raise MoMoBadResponse(detail="token reply with expires_in <= 0")
        # Refresh a little before the provider expires it (a minute, or a tenth of a short
        # lifetime: Airtel's tokens live about 180 s).
        margin = min(60.0, expires_in / 10)
        _tokens[self._token_key] = _Token(value, time.monotonic() + expires_in - margin)
        logger.info("%s token obtained, expires in %s s", self.log_name, expires_in)
        return value

    def _send(self, method: str, path: str, headers: dict, json: Any = None) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._http.request(method, path, headers=headers, json=json)
        except httpx.TimeoutException as exc:
            logger.warning(
                "%s %s %s timed out after %.1f s (%s)",
                self.log_name,
                method,
                path,
                time.monotonic() - started,
                type(exc).__name__,
            )
            raise MoMoTimeout() from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            logger.warning("%s %s %s failed: %s", self.log_name, method, path, type(exc).__name__)
            raise MoMoError() from exc
        logger.debug(
            "%s %s %s -> %s in %.0f ms",
            self.log_name,
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    def _unexpected(self, response: httpx.Response, what: str) -> MoMoError:
        logger.error("%s %s -> unexpected HTTP %s", self.log_name, what, response.status_code)
        if response.status_code >= 500:
            return MoMoError(http_status=response.status_code)
        return MoMoBadResponse(http_status=response.status_code)


def json_object(response: httpx.Response, log_name: str = "momo") -> dict:
    try:
        data = response.json()
    except ValueError:
        logger.error("%s reply is not JSON (HTTP %s)", log_name, response.status_code)
        raise MoMoBadResponse(detail="reply is not JSON") from None
    if not isinstance(data, dict):
        raise MoMoBadResponse(detail="reply is not a JSON object")
    return data
