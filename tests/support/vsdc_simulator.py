"""A local stand-in for an RRA VSDC (EBM 2.1), for tests: a threaded HTTP server on 127.0.0.1
speaking the endpoints the POS uses, their answer shape and result codes.

Switches: `down` (the connection is dropped unanswered), `delay` (seconds before each answer:
slow, or longer than the client's timeout), `queue_result(endpoint, code)` (the next call to
that endpoint answers that result code: 8xx/9xx errors, 994...), `sign_then_drop` (the next
sale is signed and the connection dropped before the answer: what a worker killed mid-request
sees). A sale whose invoice number was signed before answers 994 with the data it holds, as a
VSDC does: it is never signed twice (`signings` counts signings per invoice number). Each
branch id (device) has its own counters and invoice numbers (`branch("01")`); `signed`,
`signings` and `sales_in_order` are branch "00"'s. Stock reports are checked (registered items,
required fields) and the last stock level per item kept (`stock_levels`).

It speaks the OSDC's sale route too (`/saveTrnsSalesOsdc`, endpoint "sales_osdc"): there the
cmcKey is read from the body (refused without it), and the answer names the receipt counter
`curRcptNo` (a string) and the date `sdcDateTime`, as our sources say the OSDC does; the same
counters and invoice numbers as the VSDC route. It does not check item registration there: how
the OSDC learns items is not in our sources (docs/fiscal.md), so the simulator assumes nothing.
"""

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SDC_ID = "SDC010000123"
MRC = "WIS00012345"
CMC_KEY = "C8A2F1E0D9B7C6A5F4E3D2C1B0A9F8E7"

CODE_TABLES = [
    {
        "cdCls": "04",
        "cdClsNm": "Taxation Type",
        "dtlList": [
            {"cd": "A", "cdNm": "A-EX", "userDfnCd1": "0"},
            {"cd": "B", "cdNm": "B-18.00%", "userDfnCd1": "18"},
            {"cd": "C", "cdNm": "C", "userDfnCd1": "0"},
            {"cd": "D", "cdNm": "D", "userDfnCd1": "0"},
        ],
    },
    {
        "cdCls": "07",
        "cdClsNm": "Payment Type",
        "dtlList": [
            {"cd": "01", "cdNm": "CASH"},
            {"cd": "02", "cdNm": "CREDIT"},
            {"cd": "03", "cdNm": "CASH/CREDIT"},
            {"cd": "04", "cdNm": "BANK CHECK"},
            {"cd": "05", "cdNm": "DEBIT&CREDIT CARD"},
            {"cd": "06", "cdNm": "MOBILE MONEY"},
            {"cd": "07", "cdNm": "OTHER"},
        ],
    },
    {
        "cdCls": "10",
        "cdClsNm": "Quantity Unit",
        "dtlList": [
            {"cd": "U", "cdNm": "Pieces/item"},
            {"cd": "KG", "cdNm": "Kilo-Gramme"},
            {"cd": "GRM", "cdNm": "Gram"},
            {"cd": "L", "cdNm": "Litre"},
            {"cd": "MTR", "cdNm": "Metre"},
        ],
    },
    {"cdCls": "17", "cdClsNm": "Packing Unit", "dtlList": [{"cd": "NT", "cdNm": "NET"}]},
    {
        "cdCls": "32",
        "cdClsNm": "Refund Reason",
        "dtlList": [
            {"cd": f"{i:02d}", "cdNm": name}
            for i, name in enumerate(
                [
                    "Missing Quantity",
                    "Missed Data",
                    "Wrong Quantity",
                    "Wrong Item",
                    "Wrong Price",
                    "Wrong Customer",
                    "Wrong TIN",
                    "Wrong Payment",
                    "Returned Goods",
                    "Damaged Goods",
                    "Expired Goods",
                    "Cancelled Sale",
                    "Other",
                ],
                start=1,
            )
        ],
    },
]
ITEM_CLASSES = [
    {"itemClsCd": "5020230100", "itemClsNm": "Soft drinks", "itemClsLvl": 4, "taxTyCd": "B"},
    {"itemClsCd": "5010150100", "itemClsNm": "Fresh food", "itemClsLvl": 4, "taxTyCd": "A"},
]

ENDPOINTS = {
    "/initializer/selectInitInfo": "init",
    "/code/selectCodes": "codes",
    "/itemClass/selectItemsClass": "classes",
    "/notices/selectNotices": "notices",
    "/items/saveItems": "items",
    "/trnsSales/saveSales": "sales",
    "/saveTrnsSalesOsdc": "sales_osdc",
    "/stock/saveStockItems": "stock",
    "/stockMaster/saveStockMaster": "stock_master",
}


@dataclass
class Received:
    endpoint: str
    body: dict
    headers: dict


@dataclass
class Branch:
    """What one device (a branch id, bhfId) has signed: its own counters and invoice numbers."""

    signed: dict = field(default_factory=dict)  # invcNo -> the answer's data
    signings: dict = field(default_factory=dict)  # invcNo -> how many times it was signed
    sales_in_order: list = field(default_factory=list)  # invoice numbers, in signing order
    counters: dict = field(default_factory=lambda: {"S": 0, "R": 0})
    total_counter: int = 0
    # Other sales types (P proforma, T training): numbered and counted apart from N's.
    other: dict = field(default_factory=dict)  # (salesTyCd, invcNo) -> the answer's data
    items: dict = field(default_factory=dict)  # itemCd -> the body registered with this branch


OK = ("000", "It is succeeded")


class VsdcSimulator:
    def __init__(self, *, tin: str = "100600570", last_invoice_number: int = 0):
        self.tin = tin
        self.last_invoice_number = last_invoice_number
        self.down = False
        self.delay = 0.0
        self.sign_then_drop = False
        self.received: list[Received] = []
        self.items: dict[str, dict] = {}
        self.stock_levels: dict[str, object] = {}  # itemCd -> rsdQty (saveStockMaster)
        self.branches: dict[str, Branch] = {}
        self.clock = None  # a callable giving the VSDC's time; default now
        self._results: dict[str, list[str]] = {name: [] for name in ENDPOINTS.values()}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def branch(self, branch_id: str = "00") -> Branch:
        return self.branches.setdefault(branch_id, Branch())

    # The main branch's (bhfId "00"), which most tests use.
    signed = property(lambda self: self.branch().signed)
    signings = property(lambda self: self.branch().signings)
    sales_in_order = property(lambda self: self.branch().sales_in_order)
    counters = property(lambda self: self.branch().counters)

    # --- scripting --------------------------------------------------------------------------

    def queue_result(self, endpoint: str, code: str, message: str = "Refused") -> None:
        assert endpoint in self._results, endpoint
        with self._lock:
            self._results[endpoint].append((code, message))

    def received_for(self, endpoint: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.endpoint == endpoint]

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "VsdcSimulator":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- behaviour ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now()

    def answer(self, endpoint: str, body: dict, headers: dict) -> tuple[str, str, object]:
        with self._lock:
            self.received.append(Received(endpoint, body, headers))
            if self._results[endpoint]:
                code, message = self._results[endpoint].pop(0)
                return code, message, None
        if endpoint == "sales_osdc":
            if body.get("cmcKey") != CMC_KEY:  # the OSDC reads it from every body
                return "899", "Invalid cmcKey", None
        elif endpoint != "init" and headers.get("cmckey") != CMC_KEY:
            return "899", "Invalid cmcKey", None
        return getattr(self, f"_{endpoint}")(body)

    def _init(self, body: dict):
        if body.get("tin") != self.tin:
            return "901", "It is not valid device", None
        with self._lock:  # the branch's last invoice, as its VSDC knows it
            signed = self.branch(str(body.get("bhfId") or "00")).signed
            last = max([self.last_invoice_number, *signed])
        info = {
            "tin": self.tin,
            "bhfId": body.get("bhfId"),
            "dvcId": "9999911",
            "sdcId": SDC_ID,
            "mrcNo": MRC,
            "cmcKey": CMC_KEY,
            "lastSaleInvcNo": last,
            "lastSaleRcptNo": 0,
            "lastInvcNo": last,
            "lastTrainInvcNo": 0,
            "lastProfrmInvcNo": 0,
            "lastCopyInvcNo": 0,
        }
        return *OK, {"info": info}

    def _codes(self, body: dict):
        return *OK, {"clsList": CODE_TABLES}

    def _classes(self, body: dict):
        return *OK, {"itemClsList": ITEM_CLASSES}

    def _notices(self, body: dict):
        return "001", "There is no search result", None

    def _missing(self, body: dict, *keys: str):
        missing = [k for k in keys if body.get(k) in (None, "")]
        return ("910", f"Request parameter error: {', '.join(missing)}", None) if missing else None

    def _branch_items(self, body: dict) -> dict:
        """The items registered with the branch (bhfId) of `body`: each branch has its own."""
        return self.branch(str(body.get("bhfId") or "00")).items

    def _unknown_items(self, body: dict):
        known = self._branch_items(body)
        unknown = [i["itemCd"] for i in body.get("itemList", []) if i.get("itemCd") not in known]
        return ("910", f"Unregistered item: {', '.join(unknown)}", None) if unknown else None

    def _items(self, body: dict):
        refused = self._missing(body, "itemCd", "itemClsCd", "taxTyCd", "qtyUnitCd")
        if refused:
            return refused
        with self._lock:
            self.items[body["itemCd"]] = body
            self._branch_items(body)[body["itemCd"]] = body
        return *OK, None

    def _stock(self, body: dict):
        return self._missing(body, "sarNo", "sarTyCd") or self._unknown_items(body) or (*OK, None)

    def _stock_master(self, body: dict):
        refused = self._missing(body, "itemCd", "rsdQty")
        if refused:
            return refused
        if body["itemCd"] not in self._branch_items(body):
            return "910", f"Unregistered item: {body['itemCd']}", None
        with self._lock:
            self.stock_levels[body["itemCd"]] = body["rsdQty"]
        return *OK, None

    def _sales_osdc(self, body: dict):
        code, message, data = self._sales(body, check_items=False)
        if data:
            data = {k: v for k, v in data.items() if k not in ("rcptNo", "vsdcRcptPbctDate")}
            signed = self._signed_data(body)
            data.update(curRcptNo=str(signed["rcptNo"]), sdcDateTime=signed["vsdcRcptPbctDate"])
        return code, message, data

    def _signed_data(self, body: dict) -> dict:
        branch = self.branch(str(body.get("bhfId") or "00"))
        number = int(body.get("invcNo") or 0)
        if body.get("salesTyCd", "N") != "N":
            return branch.other[(body["salesTyCd"], number)]
        return branch.signed[number]

    def _sales(self, body: dict, *, check_items: bool = True):
        refused = self._unknown_items(body) if check_items else None
        if refused:
            return refused
        number = int(body.get("invcNo") or 0)
        sales_type = body.get("salesTyCd", "N")
        with self._lock:
            branch = self.branch(str(body.get("bhfId") or "00"))
            if sales_type != "N":
                return self._sign_other(branch, sales_type, number, body)
            if number in branch.signed:
                return "994", "Duplicate data: it was saved before", branch.signed[number]
            kind = body.get("rcptTyCd", "S")
            branch.counters[kind] = branch.counters.get(kind, 0) + 1
            branch.total_counter += 1
            data = self._signature(body, branch.counters[kind], branch.total_counter)
            branch.signed[number] = data
            branch.signings[number] = branch.signings.get(number, 0) + 1
            branch.sales_in_order.append(number)
        return *OK, data

    def _signature(self, body: dict, counter: int, total: int) -> dict:
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
        text = base64.b32encode(digest).decode()
        return {
            "rcptNo": counter,
            "totRcptNo": total,
            "intrlData": text[:26],
            "rcptSign": text[26:42],
            "vsdcRcptPbctDate": self.now().strftime("%Y%m%d%H%M%S"),
            "sdcId": SDC_ID,
            "mrcNo": MRC,
        }

    def _sign_other(self, branch: Branch, sales_type: str, number: int, body: dict):
        """A proforma (P) or training (T) receipt: its own numbers and counter (held); a
        training sale (TS) and a training refund (TR) each count on their own."""
        key = (sales_type, number)
        if key in branch.other:
            return "994", "Duplicate data: it was saved before", branch.other[key]
        label = sales_type + body.get("rcptTyCd", "S") if sales_type == "T" else sales_type
        branch.counters[label] = branch.counters.get(label, 0) + 1
        branch.total_counter += 1
        data = self._signature(body, branch.counters[label], branch.total_counter)
        branch.other[key] = data
        return *OK, data


def _handler_for(simulator: VsdcSimulator):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _drop(self):
            """Close the connection unanswered (down, or signed and then lost)."""
            self.close_connection = True
            self.connection.shutdown(2)

        def _reply(self, status: int, payload: bytes = b"") -> None:
            self.send_response(status)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if simulator.down:
                return self._drop()
            endpoint = ENDPOINTS.get(self.path)
            if endpoint is None:
                return self._reply(404)
            if simulator.delay:
                time.sleep(simulator.delay)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            headers = {k.lower(): v for k, v in self.headers.items()}
            code, message, data = simulator.answer(endpoint, body, headers)
            if endpoint == "sales" and simulator.sign_then_drop and code == "000":
                simulator.sign_then_drop = False
                return self._drop()  # signed, but the answer never arrives
            answer = {
                "resultCd": code,
                "resultMsg": message,
                "resultDt": simulator.now().strftime("%Y%m%d%H%M%S"),
                "data": data,
            }
            return self._reply(200, json.dumps(answer).encode())

    return Handler
