import math

from django import template

from monitoring.ratelimit import wait_message

register = template.Library()


@register.filter
def wait_time(seconds) -> str:
    """Seconds until a retry, said the way a cashier reads it: "45 seconds", "2 minutes"."""
    try:
        seconds = max(1, math.ceil(float(seconds)))
    except (TypeError, ValueError):
        return ""
    return wait_message(seconds)
