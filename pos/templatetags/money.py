"""`{{ amount|money }}` -> `12,500 RWF`: the shop currency's places and code, thousands grouped."""

from decimal import Decimal, InvalidOperation

from django import template

from pos.money import format_money
from pos.quantities import normalised, summed

register = template.Library()


@register.filter
def money(value, code: bool = True) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return format_money(amount, code=code)


@register.filter
def qty(value) -> str:
    """`{{ line.quantity|qty }}` -> `2`, `0.75`: a stored quantity without trailing zeros."""
    if value is None or value == "":
        return ""
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return str(normalised(summed(quantity)))
