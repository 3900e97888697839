"""`{{ amount|money }}` -> `12,500 RWF`: the shop currency's places and code, thousands grouped."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import get_format

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


@register.simple_tag
def thousands_separator() -> str:
    """The active language's thousands separator, for scripts that format money as it changes."""
    return get_format("THOUSAND_SEPARATOR")


@register.simple_tag
def decimal_separator() -> str:
    """The active language's decimal mark, for scripts that write amounts and quantities."""
    return get_format("DECIMAL_SEPARATOR")


@register.filter
def qty(value):
    """`{{ line.quantity|qty }}` -> `2`, `0.75`: a stored quantity without trailing zeros."""
    if value is None or value == "":
        return ""
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    # A number, not text: a page shows it in its language's format (0,75 in French); a form
    # field's value takes `|unlocalize`.
    return normalised(summed(quantity))
