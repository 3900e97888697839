"""RRA's refund reasons (code class 32), in the shop's languages: the till offers them when
fiscal signing is on (registered with pos.hooks.refund_reason_sources)."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from fiscal.models import Code

REFUND_REASON_CLASS = "32"
REFUND_REASONS = {
    "01": _("Missing quantity"),
    "02": _("Missed data"),
    "03": _("Wrong quantity"),
    "04": _("Wrong item"),
    "05": _("Wrong price"),
    "06": _("Wrong customer"),
    "07": _("Wrong TIN"),
    "08": _("Wrong payment"),
    "09": _("Returned goods"),
    "10": _("Damaged goods"),
    "11": _("Expired goods"),
    "12": _("Cancelled sale"),
    "13": _("Other"),
}


def refund_reason_choices() -> list[tuple[str, str]]:
    """(code, translated label) of the refund reasons in the synced code table (RRA's names for
    codes we do not know), or RRA's 01-13 before the tables are synced; none without fiscal
    signing."""
    if settings.FISCAL_BACKEND == "none":
        return []
    synced = list(
        Code.objects.filter(class_code=REFUND_REASON_CLASS, is_used=True).values_list(
            "code", "name"
        )
    )
    if not synced:
        return [(code, str(label)) for code, label in REFUND_REASONS.items()]
    return [(code, str(REFUND_REASONS.get(code, name))) for code, name in synced]
