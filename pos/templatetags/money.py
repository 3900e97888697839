"""`{{ amount|money }}` -> `12,500 RWF`: the shop currency's places and code, thousands grouped."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import get_format

from pos.money import format_money

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
