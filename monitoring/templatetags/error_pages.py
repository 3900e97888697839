import math

from django import template

register = template.Library()


@register.filter
def wait_time(seconds) -> str:
    """Seconds until a retry, said the way a cashier reads it: "45 seconds", "2 minutes"."""
    try:
        seconds = max(1, math.ceil(float(seconds)))
    except (TypeError, ValueError):
        return ""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
