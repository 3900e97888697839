"""Where alerts go: email (Django's mail) and a Slack-compatible webhook. Never raises."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError
from django.utils import timezone

from monitoring import registry

if TYPE_CHECKING:
    from monitoring.alert_rules import Rule, Transition

logger = logging.getLogger("vevurn.alerts")


def shop_name() -> str:
    """The shop's name (as the shop registered it), for subjects."""
    return registry.shop_name()


def message(rule: Rule, firing: bool, items: list[Transition], shop: str) -> tuple[str, str]:
    """(subject, text) of one message: one rule, one direction, every key that changed."""
    state = "FIRING" if firing else "RESOLVED"
    subject = f"[{shop}] {state}: {rule.title}"
    if rule.is_event:
        subject = f"[{shop}] {rule.title}"
    lines = [subject, ""]
    for item in items:
        prefix = "- " if len(items) > 1 or item.key else ""
        lines.append(f"{prefix}{item.summary}")
    lines += ["", f"At {timezone.localtime(items[0].at):%Y-%m-%d %H:%M %Z}."]
    return subject, "\n".join(lines)


def notify(transitions: list[Transition]) -> None:
    """One message per rule and direction, on every channel. Never raises."""
    if not transitions:
        return
    groups: dict[tuple[str, bool], list[Transition]] = {}
    for transition in transitions:
        groups.setdefault((transition.rule.name, transition.firing), []).append(transition)
    shop = shop_name()
    recipients = email_recipients()
    for (_, firing), items in groups.items():
        subject, text = message(items[0].rule, firing, items, shop)
        logger.warning("Alert: %s", subject)
        send_email(subject, text, recipients)
        post_webhook(text)


def email_recipients() -> list[str]:
    if settings.ALERT_EMAILS:
        return list(settings.ALERT_EMAILS)
    from accounts.models import Role, User

    try:
        return list(
            User.objects.filter(role=Role.ADMIN, is_active=True)
            .exclude(email="")
            .order_by("pk")
            .values_list("email", flat=True)
        )
    except DatabaseError:
        logger.warning("No alert email: the database is down and ALERT_EMAILS is not set")
        return []


def send_email(subject: str, text: str, recipients: list[str]) -> None:
    if not recipients:
        return
    try:
        send_mail(subject=subject, message=text, from_email=None, recipient_list=recipients)
    except Exception:
        logger.exception("Could not send the alert email %r", subject)


def post_webhook(text: str) -> None:
    url = settings.ALERT_WEBHOOK_URL
    if not url:
        return
    try:
        response = httpx.post(
            url, json={"text": text}, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS
        )
        response.raise_for_status()
    except httpx.HTTPError as error:
        logger.warning("Could not post the alert to the webhook: %s", error)
