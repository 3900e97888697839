"""Quantities: decimals in a product's stock unit, with at most the unit's decimal places.

A product is counted in one stock unit (piece, kg, g, l, m) with 0 to 3 decimal places: pieces
are whole, sugar is sold to the gram (0.750 kg). Every quantity the shop stores (sale, refund,
movement, count and purchase lines, stock on hand) is a Decimal in that unit, so stock on hand
is the exact sum of the movements. Input is checked here, once, against the product's places:
"0.0004 kg" on a 3-place unit is refused, never rounded.

PostgreSQL adds numerics exactly. SQLite adds decimal columns as floats and Django does not
round an aggregate back to the column's places (0.001 × 3 − 0.003 comes back as 4.4e-16), so
every SUM of quantities read from the database goes through `summed`, which restores the
exact value (exact while the float error stays below half a gram, i.e. below 10^11).
"""

from collections.abc import Callable
from decimal import Decimal

from django.utils.translation import gettext as _

from pos.errors import InvalidQuantity

MAX_PLACES = 3
STORED = {"max_digits": 14, "decimal_places": MAX_PLACES}
ZERO = Decimal(0)
STORED_QUANTUM = Decimal(1).scaleb(-MAX_PLACES)


def to_decimal(value, *, field: str) -> Decimal:
    """`value` (an int or a Decimal, as forms and serializers give them) as a Decimal.

    Anything else (a float, text, a bool) is refused, as money is: a float cannot hold 0.1 kg.
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidQuantity(_("Quantity must be a whole number or a decimal."), field=field)
    number = Decimal(value)
    if not number.is_finite():
        raise InvalidQuantity(_("Quantity must be a whole number or a decimal."), field=field)
    return number


def check_places(
    quantity: Decimal, places: int, *, name: str, unit: str | Callable[[], str], field: str
) -> Decimal:
    """Refuse more decimal places than the product's unit allows; return the quantity.

    `unit`: the unit's name, or a function giving it, called only to word a refusal (checkout
    checks every line: `product.get_unit_display()` costs ~55 µs, its translation each time)."""
    if quantity != quantity.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            message = _("The quantity of %(name)s must be a whole number.") % {"name": name}
        else:
            message = _("%(name)s is counted in %(unit)s to at most %(places)s decimal places.") % {
                "name": name,
                "unit": unit() if callable(unit) else unit,
                "places": places,
            }
        raise InvalidQuantity(message, field=field)
    return quantity


def summed(value) -> Decimal:
    """A SUM of stored quantities as the exact Decimal with the stored places (None: 0)."""
    if value is None:
        return Decimal(0).quantize(STORED_QUANTUM)
    return Decimal(value).quantize(STORED_QUANTUM)


def normalised(quantity: Decimal) -> Decimal | int:
    """A whole quantity as an int, any other as a Decimal without trailing zeros: one value per
    amount, so that 2, "2" and 2.000 fingerprint alike (and as they did before decimals)."""
    if quantity == quantity.to_integral_value():
        return int(quantity)
    return quantity.normalize()


def as_json(quantity) -> int | str:
    """A quantity for a JSON document (audit rows): a whole one as a number, others as text."""
    value = normalised(summed(quantity))
    return value if isinstance(value, int) else str(value)


def format_quantity(quantity, places: int = 0) -> str:
    """`0.750`, `12`: a stored quantity with its unit's places, machine-readable (stored notes,
    CSV). Screens and printouts use `show_quantity`."""
    if quantity is None:
        return ""
    return f"{Decimal(quantity):.{places}f}"


def show_quantity(quantity, places: int | None = None) -> str:
    """A quantity for a screen or a printout, in the active language's format (vevurn/formats):
    `0.75` in English, `0,75` in French and Kinyarwanda; with `places`, that many decimals
    (`0,750`), else without trailing zeros. CSV and the API's numbers stay plain."""
    from django.utils.formats import number_format

    if quantity is None:
        return ""
    value = normalised(summed(quantity)) if places is None else Decimal(quantity)
    return number_format(value, places, use_l10n=True, force_grouping=True)
