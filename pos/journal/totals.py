"""A period's totals, summed from journal payloads: the one sum the closings and the check share.

`Totals.add(kind, data)` takes one entry's kind and parsed data; `merge` adds another period's
totals (a month is the sum of its days). Amounts are Decimals summed exactly and written with
two places. Sales are counted by their totals: net sales = sales - voids - refunds, and the
perpetual grand total is the sum of net sales since the first sale.
- by tender: every payment of a sale (change as negative cash), of a void (reversed), of a
  refund (paid out) and of a payment on account;
- by VAT rate: the lines of sales, less the VAT of voids and of refunded lines;
- cash in and out; the number of entries of each kind (drawer openings, reprints, overrides).
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from pos.models import JournalKind

ZERO = Decimal(0)


def _add_to(sums: dict, key: str, amount: Decimal) -> None:
    sums[key] = sums.get(key, ZERO) + amount


@dataclass
class Totals:
    sales_count: int = 0
    sales_total: Decimal = ZERO
    voids_count: int = 0
    voids_total: Decimal = ZERO
    refunds_count: int = 0
    refunds_total: Decimal = ZERO
    account_payments: Decimal = ZERO
    cash_in: Decimal = ZERO
    cash_out: Decimal = ZERO
    by_tender: dict = field(default_factory=dict)
    vat_total: dict = field(default_factory=dict)  # rate -> total (VAT included)
    vat_tax: dict = field(default_factory=dict)  # rate -> VAT
    events: Counter = field(default_factory=Counter)

    @property
    def net_sales(self) -> Decimal:
        return self.sales_total - self.voids_total - self.refunds_total

    def add(self, kind: str, data: dict) -> None:
        self.events[kind] += 1
        if kind == JournalKind.SALE:
            self.sales_count += 1
            self.sales_total += Decimal(data["total"])
            self._payments(data["payments"])
            for line in data["lines"]:
                self._vat(line.get("tax_rate"), line["total"], line["tax"], 1)
        elif kind == JournalKind.VOID:
            self.voids_count += 1
            self.voids_total += Decimal(data["total"])
            self._payments(data["payments"])
            for rate, sums in data["vat"].items():
                self._vat(rate, sums["total"], sums["tax"], -1)
        elif kind == JournalKind.REFUND:
            self.refunds_count += 1
            self.refunds_total += Decimal(data["total"])
            self._payments(data["payments"])
            for line in data["lines"]:
                self._vat(line.get("tax_rate"), line["total"], line["tax"], -1)
        elif kind == JournalKind.ACCOUNT_PAYMENT:
            self.account_payments += Decimal(data["amount"])
            _add_to(self.by_tender, data["tender"], Decimal(data["amount"]))
        elif kind == JournalKind.CASH_IN:
            self.cash_in += Decimal(data["amount"])
        elif kind == JournalKind.CASH_OUT:
            self.cash_out += Decimal(data["amount"])

    def add_sales(self, count: int, total: Decimal) -> None:
        """`count` sales whose totals add up to `total`, summed elsewhere (the check sums
        intact sales in SQL): as `count` calls of add() would count them. Their payments and
        lines go through add_tender and add_vat."""
        self.events[JournalKind.SALE] += count
        self.sales_count += count
        self.sales_total += total

    def add_tender(self, tender: str, amount: Decimal) -> None:
        _add_to(self.by_tender, tender, amount)

    def add_vat(self, key: str, total: Decimal, tax: Decimal) -> None:
        """Lines' totals and VAT at one rate (`key`: the rate's text, or "none")."""
        _add_to(self.vat_total, key, total)
        _add_to(self.vat_tax, key, tax)

    def _payments(self, payments) -> None:
        for payment in payments:
            _add_to(self.by_tender, payment["tender"], Decimal(payment["amount"]))

    def _vat(self, rate, total, tax, sign: int) -> None:
        key = "none" if rate is None else str(rate)
        _add_to(self.vat_total, key, sign * Decimal(total))
        _add_to(self.vat_tax, key, sign * Decimal(tax))

    def merge(self, other: "Totals") -> None:
        for name in (
            "sales_count",
            "sales_total",
            "voids_count",
            "voids_total",
            "refunds_count",
            "refunds_total",
            "account_payments",
            "cash_in",
            "cash_out",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in (
            (self.by_tender, other.by_tender),
            (self.vat_total, other.vat_total),
            (self.vat_tax, other.vat_tax),
        ):
            for key, amount in theirs.items():
                _add_to(mine, key, amount)
        self.events.update(other.events)

    def as_dict(self) -> dict:
        return {
            "sales": {"count": self.sales_count, "total": self.sales_total},
            "voids": {"count": self.voids_count, "total": self.voids_total},
            "refunds": {"count": self.refunds_count, "total": self.refunds_total},
            "net_sales": self.net_sales,
            "account_payments": self.account_payments,
            "cash_in": self.cash_in,
            "cash_out": self.cash_out,
            "by_tender": dict(self.by_tender),
            "by_vat_rate": {
                rate: {"total": self.vat_total[rate], "tax": self.vat_tax[rate]}
                for rate in self.vat_total
            },
            "events": dict(self.events),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Totals":
        """The totals a stored closing holds (to sum days into a month)."""
        rates = data["by_vat_rate"]
        return cls(
            sales_count=data["sales"]["count"],
            sales_total=Decimal(data["sales"]["total"]),
            voids_count=data["voids"]["count"],
            voids_total=Decimal(data["voids"]["total"]),
            refunds_count=data["refunds"]["count"],
            refunds_total=Decimal(data["refunds"]["total"]),
            account_payments=Decimal(data["account_payments"]),
            cash_in=Decimal(data["cash_in"]),
            cash_out=Decimal(data["cash_out"]),
            by_tender={k: Decimal(v) for k, v in data["by_tender"].items()},
            vat_total={k: Decimal(v["total"]) for k, v in rates.items()},
            vat_tax={k: Decimal(v["tax"]) for k, v in rates.items()},
            events=Counter(data["events"]),
        )
