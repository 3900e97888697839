"""`{{ amount|money }}` -> `12,500 RWF`: the shop currency's places and code, thousands grouped."""

from decimal import Decimal, InvalidOperation

from django import template

from pos.models import ShopSettings
from pos.money import to_currency

register = template.Library()


@register.filter
def money(value, code: bool = True) -> str:
    if value is None or value == "":
        return ""
    shop = ShopSettings.load()
    try:
        amount = to_currency(Decimal(str(value)), shop.currency_decimal_places)
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{amount:,.{shop.currency_decimal_places}f}"
    return f"{text} {shop.currency_code}" if code else text
