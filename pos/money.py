"""Money helpers. Amounts are Decimal, rounded once, ROUND_HALF_UP, to the currency's places.

ROUND_HALF_UP (0.5 rounds away from zero) is what shoppers and the tax office expect on a
receipt; Python's default banker's rounding would turn 2.5 into 2.
"""

from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def currency_places() -> int:
    from pos.models import ShopSettings

    return ShopSettings.load().currency_decimal_places


def to_currency(amount, places: int | None = None) -> Decimal:
    """`amount` rounded half-up to `places` decimals (default: the shop currency's places)."""
    if places is None:
        places = currency_places()
    if isinstance(amount, float):
        raise TypeError("Money must not be a float; pass a Decimal, int or str.")
    quantum = Decimal(1).scaleb(-places)
    return Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)


def split_vat(gross, rate, places: int | None = None) -> tuple[Decimal, Decimal]:
    """Split a VAT-inclusive `gross` at `rate` percent into (net, vat); net + vat == gross."""
    gross = to_currency(gross, places)
    vat = to_currency(gross * Decimal(rate) / (HUNDRED + Decimal(rate)), places)
    return gross - vat, vat


def format_money(amount, *, code: bool = True) -> str:
    """`12,500 RWF` in English, `12 500 RWF` in French and Kinyarwanda (the active language's
    formats, vevurn/formats): rounded to the shop currency's places, thousands grouped, the code
    after. For screens and printouts; CSV and the API write plain numbers."""
    from django.utils.formats import number_format

    from pos.models import ShopSettings

    shop = ShopSettings.load()
    places = shop.currency_decimal_places
    text = number_format(to_currency(amount, places), places, use_l10n=True, force_grouping=True)
    return f"{text} {shop.currency_code}" if code else text
