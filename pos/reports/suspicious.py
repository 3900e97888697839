"""Suspicious activity, read from the journal (never from rows that could have been edited since).

For a period of shop dates: voids and refunds made soon after their sale, drawer openings with no
sale, price overrides and discount approvals per cashier, receipt reprints per user, and each
cashier's cash over/short shift by shift. Every figure comes from the hashed payloads of the
period's entries, read through the (kind, created_at) index.

Every entry read here is a till's (its chain is `register:<id>`), so some stores' activity is
that of their tills' chains.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from django.contrib.auth import get_user_model
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from pos.models import JournalEntry, JournalKind, Register

SOON = datetime.timedelta(minutes=15)
ZERO = Decimal(0)


@dataclass(frozen=True)
class QuickReversal:
    kind: str  # void or refund
    number: str  # the sale's receipt number
    cashier: str
    by: str
    sold_at: datetime.datetime
    at: datetime.datetime
    total: Decimal

    @property
    def minutes(self) -> int:
        return int((self.at - self.sold_at).total_seconds() // 60)


@dataclass
class CashierActivity:
    name: str
    drawer_openings: int = 0
    price_overrides: int = 0
    discount_approvals: int = 0
    reprints: int = 0
    quick_reversals: int = 0
    shifts_closed: int = 0
    shifts_short: int = 0
    over_short: Decimal = ZERO


@dataclass
class Suspicious:
    quick_reversals: list[QuickReversal] = field(default_factory=list)
    drawer_openings: list[tuple[datetime.datetime, str, str]] = field(default_factory=list)
    over_short: list[tuple[datetime.datetime, str, Decimal]] = field(default_factory=list)
    cashiers: list[CashierActivity] = field(default_factory=list)


KINDS = [
    JournalKind.VOID,
    JournalKind.REFUND,
    JournalKind.NO_SALE,
    JournalKind.PRICE_OVERRIDE,
    JournalKind.DISCOUNT_APPROVAL,
    JournalKind.REPRINT,
    JournalKind.SHIFT_CLOSED,
]


def _bounds(start: datetime.date, end: datetime.date):
    zone = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time(), zone),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), zone),
    )


def _at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _user_names(entries, sales: dict) -> dict:
    """{user id: username} of everyone the entries and the reversed sales name."""
    user_ids = set()
    for _kind, _ref, payload in entries:
        data = payload["data"]
        for key in ("cashier_id", "user_id", "voided_by_id", "created_by_id", "approved_by_id"):
            if data.get(key) is not None:
                user_ids.add(data[key])
    for sale in sales.values():
        user_ids.add(sale["data"]["cashier_id"])
    return {
        pk: user.get_username() for pk, user in get_user_model().objects.in_bulk(user_ids).items()
    }


@dataclass(frozen=True)
class _Reversal:
    seller: int
    row: QuickReversal


def _quick_reversal(kind, data, at, sale, names, soon) -> _Reversal | None:
    """A void or refund within `soon` of its sale, or None (later, or the sale is not found)."""
    if sale is None:
        return None
    sold_at = _at(sale["at"])
    if at - sold_at > soon:
        return None
    by = data["voided_by_id"] if kind == JournalKind.VOID else data["created_by_id"]
    seller = sale["data"]["cashier_id"]
    row = QuickReversal(
        kind=kind,
        number=sale["data"]["number"],
        cashier=names.get(seller, str(seller)),
        by=names.get(by, str(by)),
        sold_at=sold_at,
        at=at,
        total=Decimal(data["total"]),
    )
    return _Reversal(seller, row)


def _tills_of(stores):
    """The journal chains of the tills of `stores` (a subquery: no query of its own)."""
    chain = Concat(Value("register:"), Cast("pk", CharField()), output_field=CharField())
    return Register.objects.filter(store__in=stores).annotate(chain=chain).values("chain")


def suspicious_activity(
    start: datetime.date, end: datetime.date, *, soon=SOON, stores=None
) -> Suspicious:
    """The period's suspicious activity at the tills of `stores` (None: every till)."""
    since, until = _bounds(start, end)
    found = JournalEntry.objects.filter(kind__in=KINDS, created_at__gte=since, created_at__lt=until)
    if stores is not None:
        found = found.filter(chain__in=_tills_of(stores))
    entries = [
        (kind, reference, orjson.loads(payload))
        for kind, reference, payload in found.order_by("created_at", "id").values_list(
            "kind", "reference", "payload"
        )
    ]
    # The sales that were voided or refunded: their own entries give when and by whom.
    sale_refs = {ref for kind, ref, _p in entries if kind == JournalKind.VOID} | {
        f"pos.sale:{p['data']['sale_id']}"
        for kind, _ref, p in entries
        if kind == JournalKind.REFUND and p["data"]["sale_id"] is not None
    }
    sales = {
        ref: orjson.loads(payload)
        for ref, payload in JournalEntry.objects.filter(
            kind=JournalKind.SALE, reference__in=sale_refs
        ).values_list("reference", "payload")
    }
    names = _user_names(entries, sales)
    cashiers: dict[int, CashierActivity] = {}

    def cashier(pk) -> CashierActivity:
        if pk not in cashiers:
            cashiers[pk] = CashierActivity(names.get(pk, str(pk)))
        return cashiers[pk]

    result = Suspicious()
    for kind, ref, payload in entries:
        data, at = payload["data"], _at(payload["at"])
        if kind in (JournalKind.VOID, JournalKind.REFUND):
            sale_ref = ref if kind == JournalKind.VOID else f"pos.sale:{data['sale_id']}"
            reversal = _quick_reversal(kind, data, at, sales.get(sale_ref), names, soon)
            if reversal is not None:
                cashier(reversal.seller).quick_reversals += 1
                result.quick_reversals.append(reversal.row)
        elif kind == JournalKind.NO_SALE:
            cashier(data["user_id"]).drawer_openings += 1
            result.drawer_openings.append((at, names.get(data["user_id"], ""), data["reason"]))
        elif kind == JournalKind.PRICE_OVERRIDE:
            cashier(data["cashier_id"]).price_overrides += 1
        elif kind == JournalKind.DISCOUNT_APPROVAL:
            cashier(data["cashier_id"]).discount_approvals += 1
        elif kind == JournalKind.REPRINT:
            cashier(data["user_id"]).reprints += 1
        elif kind == JournalKind.SHIFT_CLOSED:
            activity = cashier(data["cashier_id"])
            amount = Decimal(data["over_short"])
            activity.shifts_closed += 1
            activity.over_short += amount
            activity.shifts_short += amount < ZERO
            result.over_short.append((at, activity.name, amount))
    result.cashiers = sorted(cashiers.values(), key=lambda c: c.name)
    return result
