"""`{% till_lock_seconds %}`: after how long idle the till locks itself (0: never)."""

from django import template

from pos.models import ShopSettings

register = template.Library()


@register.simple_tag
def till_lock_seconds() -> int:
    return ShopSettings.load().till_lock_minutes * 60
