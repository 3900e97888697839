"""The day's summary for the owner, mailed at closing time (pos.tasks.send_daily_summary):
sales, tenders, over/short of the shifts closed that day, refunds, voids and low stock."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from accounts.models import Role, User
from pos.models import Shift, ShopSettings
from pos.money import format_money
from pos.quantities import normalised
from pos.reports.queries import bounds, sales_breakdown, sales_summary
from pos.services.stock import low_stock


def owner_emails() -> list[str]:
    """DAILY_SUMMARY_EMAILS, else every active user with the admin role who has an address."""
    if settings.DAILY_SUMMARY_EMAILS:
        return list(settings.DAILY_SUMMARY_EMAILS)
    return list(
        User.objects.filter(role=Role.ADMIN, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )


def summary_text(day: datetime.date) -> tuple[str, str]:
    """(subject, body) of `day`'s summary."""
    shop = ShopSettings.load()
    summary = sales_summary(day, day)
    lines = [
        _("%(shop)s: the day of %(day)s") % {"shop": shop.name, "day": f"{day:%d %B %Y}"},
        "",
        _("Sales: %(count)s, %(total)s (VAT %(tax)s)")
        % {
            "count": summary.count,
            "total": format_money(summary.total),
            "tax": format_money(summary.tax),
        },
        _("Refunds: %(count)s, %(total)s")
        % {"count": summary.refund_count, "total": format_money(summary.refund_total)},
        _("Voids: %(count)s, %(total)s")
        % {"count": summary.void_count, "total": format_money(summary.void_total)},
        _("Net: %(total)s") % {"total": format_money(summary.net_total)},
        "",
        _("Tenders:"),
    ]
    tenders = sales_breakdown(day, day, "tender")
    none = "  " + _("none")
    lines += [f"  {row['label']}: {format_money(row['net'])}" for row in tenders] or [none]
    start, end = bounds(day, day)
    shifts = Shift.objects.filter(
        status=Shift.Status.CLOSED, closed_at__gte=start, closed_at__lt=end
    ).select_related("register", "cashier")
    lines += ["", _("Shifts closed (cash over/short):")]
    lines += [
        f"  {s.register.name}, {s.cashier.get_username()}: {format_money(s.over_short)}"
        for s in shifts.order_by("closed_at")
    ] or [none]
    low = low_stock().order_by("product__name", "store_id")
    lines += ["", "Low stock:"]
    lines += [
        f"  {level.product.name} ({level.product.sku}), {level.store}: "
        f"{normalised(level.on_hand)} left"
        for level in low
    ] or ["  none"]
    subject = (
        f"{shop.name}: {day:%d %b %Y}, {summary.count} sales, {format_money(summary.net_total)}"
    )
    return subject, "\n".join(lines) + "\n"


def send_daily_summary(day: datetime.date) -> int:
    """Mail `day`'s summary to the owner; returns how many addresses it went to."""
    recipients = owner_emails()
    if not recipients:
        return 0
    subject, body = summary_text(day)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
    return len(recipients)
