"""Cash counted note by note: the shop's list of denominations and the total of a count.

A count is {denomination: number of pieces}, the denominations written as the shop's setting
writes them ("5000", "500", "0.50"). Pure: no Django imports, so a count can be checked and
summed anywhere (the till's form, the API, the close service) the same way.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Rwandan francs in circulation: notes of 5000, 2000, 1000 and 500; coins of 100 to 1.
RWF = "5000,2000,1000,500,100,50,20,10,5,1"
MOST_PIECES = 100_000  # of one denomination: a typing slip, not a drawer


class CountError(ValueError):
    """A count that is not one: `denomination` names the faulty entry ("" for the list)."""

    def __init__(self, message: str, denomination: str = ""):
        super().__init__(message)
        self.denomination = denomination


def parse_list(text: str) -> list[Decimal]:
    """The shop's denominations, largest first, from "5000,2000,...,1".

    :raises CountError: an entry is not a positive amount, or one appears twice.
    """
    found: list[Decimal] = []
    for raw in (text or "").replace(";", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            value = Decimal(entry)
        except InvalidOperation:
            raise CountError("not an amount", entry) from None
        if not value.is_finite() or value <= 0:
            raise CountError("not a positive amount", entry)
        if value in found:
            raise CountError("listed twice", entry)
        found.append(value)
    if not found:
        raise CountError("no denominations")
    return sorted(found, reverse=True)


def key(value: Decimal) -> str:
    """A denomination as a count's key: "5000", "0.5" (no exponent, no trailing zeros)."""
    text = f"{value.normalize():f}"
    return text


@dataclass(frozen=True)
class Count:
    """Pieces per denomination (only those counted, largest first) and their total."""

    pieces: dict[str, int]
    total: Decimal

    def as_json(self) -> dict[str, int]:
        return dict(self.pieces)


def count(pieces: Mapping[str, object], denominations: list[Decimal]) -> Count:
    """Check a count against the shop's `denominations` and total it. Blank or zero entries are
    left out; an unknown denomination, a negative, fractional or absurd number of pieces is an
    error.

    :raises CountError: naming the first faulty denomination.
    """
    allowed = {key(value): value for value in denominations}
    kept: dict[str, int] = {}
    for raw_key, raw_number in pieces.items():
        name = _known(str(raw_key).strip(), allowed)
        if raw_number in (None, ""):
            continue
        number = _pieces(raw_number, name)
        if number:
            kept[name] = number
    ordered = {key(v): kept[key(v)] for v in denominations if key(v) in kept}
    total = sum((allowed[name] * number for name, number in ordered.items()), Decimal(0))
    return Count(pieces=ordered, total=total)


def _known(name: str, allowed: dict[str, Decimal]) -> str:
    try:
        normal = key(Decimal(name))
    except InvalidOperation:
        raise CountError("not a denomination of the shop", name) from None
    if normal not in allowed:
        raise CountError("not a denomination of the shop", name)
    return normal


def _pieces(raw, name: str) -> int:
    if isinstance(raw, bool):
        raise CountError("not a number of pieces", name)
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise CountError("not a number of pieces", name) from None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise CountError("not a number of pieces", name)
    if number > MOST_PIECES:
        raise CountError("too many pieces", name)
    return int(number)
