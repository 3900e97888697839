"""An HTTP client for a VSDC (RRA EBM 2.1): the endpoints the POS uses and their result codes.

Every call is a JSON POST; the VSDC answers `{resultCd, resultMsg, resultDt, data}`. What the
caller gets is one of:

- the answer's `data` (result `000`, or `001` "no result": an empty answer);
- `VsdcUnavailable`: the VSDC could not be reached, timed out, answered 5xx or a server error
  (`990`-`999` but `994`), or `894` (it could not reach RRA): send again later, with back-off;
- `VsdcRejected`: a client error (`881`-`899`, `900`-`912`): sending the same again will not
  help; someone fixes the data and resends;
- `VsdcDuplicate`: `994`, the VSDC already has this document: take the data it holds, never
  sign again.

Nothing from httpx or from parsing an answer escapes. The client holds no database state.

Profiles (FISCAL_PROFILE): `vsdc`, the taxpayer's VSDC, and `osdc`, RRA's online SDC, which
speaks the same vocabulary with other routes and `cmcKey` in every body (its answers name the
receipt counter `curRcptNo`, a string, and the date `sdcDateTime`: fiscal.sending reads both
spellings). Callers name an endpoint by its VSDC route (`SAVE_SALES`...); the profile gives the
route it is sent to. A route the profile does not know (`None`: not in the sources we hold,
docs/fiscal.md) is never guessed: the call raises `RouteUnknown` (a `VsdcRejected`: the document
stops with a message that says which route, for a manager).
"""

import logging
from dataclasses import dataclass

import httpx

logger = logging.getLogger("vevurn.fiscal")

INIT = "/initializer/selectInitInfo"
CODES = "/code/selectCodes"
ITEM_CLASSES = "/itemClass/selectItemsClass"
NOTICES = "/notices/selectNotices"
SAVE_ITEMS = "/items/saveItems"
SAVE_SALES = "/trnsSales/saveSales"
SAVE_STOCK_ITEMS = "/stock/saveStockItems"
SAVE_STOCK_MASTER = "/stockMaster/saveStockMaster"

OK, NO_RESULT, DUPLICATE, COMMUNICATION = "000", "001", "994", "894"


@dataclass(frozen=True)
class Profile:
    name: str
    routes: dict  # endpoint (its VSDC route) -> this profile's route, or None: not known
    cmc_key_in_body: bool = False


VSDC = Profile(
    "vsdc",
    {
        path: path
        for path in (
            INIT,
            CODES,
            ITEM_CLASSES,
            NOTICES,
            SAVE_ITEMS,
            SAVE_SALES,
            SAVE_STOCK_ITEMS,
            SAVE_STOCK_MASTER,
        )
    },
)
# RRA's OSDC: the sale route is the one our sources give (shared/EBM.md); the others are not in
# them and stay unknown until RRA's OSDC documentation (v1.0.1) is at hand: never guessed.
OSDC = Profile(
    "osdc",
    {
        INIT: None,
        CODES: None,
        ITEM_CLASSES: None,
        NOTICES: None,
        SAVE_ITEMS: None,
        SAVE_SALES: "/saveTrnsSalesOsdc",
        SAVE_STOCK_ITEMS: None,
        SAVE_STOCK_MASTER: None,
    },
    cmc_key_in_body=True,
)
PROFILES = {profile.name: profile for profile in (VSDC, OSDC)}


class VsdcError(Exception):
    def __init__(self, message: str, *, code: str = "", data: dict | None = None):
        super().__init__(message)
        self.code = code
        self.data = data or {}


class VsdcUnavailable(VsdcError):
    """Not reached, too slow, or a server-side failure: try again later."""


class VsdcRejected(VsdcError):
    """The VSDC refused the request (8xx/9xx): fix the data, then resend."""


class VsdcDuplicate(VsdcError):
    """994: the VSDC already holds this document; `data` is what it holds, if it said."""


class RouteUnknown(VsdcRejected):
    """The profile has no known route for this endpoint: nothing was sent."""


def route_known(endpoint: str, profile: str) -> bool:
    return PROFILES[profile].routes.get(endpoint) is not None


@dataclass(frozen=True)
class Credentials:
    tin: str
    branch_id: str
    cmc_key: str = ""


def classify(result_code: str) -> type[VsdcError] | None:
    """None for success; else the error class of this result code."""
    if result_code in (OK, NO_RESULT):
        return None
    if result_code == DUPLICATE:
        return VsdcDuplicate
    if result_code == COMMUNICATION or not result_code.isdigit():
        return VsdcUnavailable
    number = int(result_code)
    if 881 <= number <= 899 or 900 <= number <= 912:
        return VsdcRejected
    return VsdcUnavailable  # 990-999 and anything unknown: the server's side


class VsdcClient:
    def __init__(
        self, base_url: str, *, timeout: float = 10.0, transport=None, profile: str = "vsdc"
    ):
        if not base_url:
            raise VsdcUnavailable("FISCAL_VSDC_URL is not set.")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.transport = transport
        self.profile = PROFILES[profile]

    def route(self, endpoint: str) -> str:
        """:raises RouteUnknown: the profile does not know this endpoint's route."""
        path = self.profile.routes.get(endpoint)
        if path is None:
            raise RouteUnknown(
                f"The {self.profile.name.upper()} route of {endpoint} is not known; nothing was "
                "sent (docs/fiscal.md, the OSDC profile).",
                code="",
            )
        return path

    def post(self, endpoint: str, body: dict, credentials: Credentials) -> dict:
        path = self.route(endpoint)
        headers = {"tin": credentials.tin, "bhfId": credentials.branch_id}
        if credentials.cmc_key:
            headers["cmcKey"] = credentials.cmc_key
            if self.profile.cmc_key_in_body:  # the OSDC wants it in every body
                body = {**body, "cmcKey": credentials.cmc_key}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                response = http.post(self.base_url + path, json=body, headers=headers)
        except httpx.TimeoutException as error:
            raise VsdcUnavailable(f"The VSDC did not answer in time ({path}).") from error
        except httpx.HTTPError as error:
            raise VsdcUnavailable(f"The VSDC cannot be reached ({path}): {error}") from error
        if response.status_code >= 500:
            raise VsdcUnavailable(f"The VSDC answered HTTP {response.status_code} ({path}).")
        try:
            answer = response.json()
            code = str(answer["resultCd"])
        except (ValueError, KeyError, TypeError):
            raise VsdcUnavailable(
                f"The VSDC's answer to {path} could not be read (HTTP {response.status_code})."
            ) from None
        data = answer.get("data") or {}
        error_class = classify(code)
        if error_class is None:
            return data if isinstance(data, dict) else {"items": data}
        message = str(answer.get("resultMsg") or "")[:300]
        logger.info("VSDC %s answered %s: %s", path, code, message)
        raise error_class(f"{code}: {message}", code=code, data=data)

    # --- the endpoints ---------------------------------------------------------------------

    def initialise(self, *, tin: str, branch_id: str, serial_number: str) -> dict:
        body = {"tin": tin, "bhfId": branch_id, "dvcSrlNo": serial_number}
        return self.post(INIT, body, Credentials(tin, branch_id))

    def select(self, path: str, credentials: Credentials, *, since: str = "20180101000000"):
        body = {"tin": credentials.tin, "bhfId": credentials.branch_id, "lastReqDt": since}
        return self.post(path, body, credentials)

    def send(self, path: str, body: dict, credentials: Credentials) -> dict:
        return self.post(path, body, credentials)
