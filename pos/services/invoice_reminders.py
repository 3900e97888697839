"""Email customers about their overdue invoices, once per reminder step.

Steps are the days past the due date in settings.INVOICE_REMINDER_DAYS (default 1, 7, 30). An
invoice gets a mail for the highest step that is due and not yet recorded; lower steps are then
passed, so a first run that comes late sends one mail, not three.

A reminder is recorded (InvoiceReminder, unique per invoice and step) before its mail goes out,
and marked sent after. Sending first claims the row for today with a conditional UPDATE, which
commits at once; no transaction is open while the mail server is called. So:
- a mail that fails is released and sent again by the next run (the job retries with back-off);
- two runs at once never send the same reminder: one of them wins the claim;
- a run killed between sending and marking leaves the claim: nothing more is sent that day, and
  the next day's run sends it again (the one case where the customer may get it twice, never on
  the same day).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, time

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import ngettext

from pos.models import InvoiceReminder, ShopSettings
from pos.selectors import overdue_invoices
from pos.services import customer_messages

logger = logging.getLogger("vevurn.invoices")


class ReminderMailFailed(Exception):
    """Some reminders could not be mailed; they stay unsent and the next run tries again."""


@dataclasses.dataclass
class Outcome:
    sent: int = 0
    skipped: int = 0
    failed: int = 0

    def summary(self) -> str:
        text = f"Sent {self.sent} invoice reminder(s), skipped {self.skipped}"
        if self.failed:
            text += f", {self.failed} failed (see the log)"
        return text + "."


def send_due_reminders(today=None) -> Outcome:
    """Record the reminders that are due, then mail every recorded one not yet sent."""
    today = today or timezone.localdate()
    outcome = Outcome()
    _record_due(today, outcome)
    shop = ShopSettings.load()
    start_of_day = timezone.make_aware(datetime.combine(today, time.min))
    unsent = InvoiceReminder.objects.filter(sent_at__isnull=True).select_related(
        "invoice__customer"
    )
    for reminder in unsent.order_by("pk"):
        claimed = (
            InvoiceReminder.objects.filter(pk=reminder.pk, sent_at__isnull=True)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=start_of_day))
            .update(claimed_at=timezone.now(), attempts=F("attempts") + 1)
        )
        if not claimed:
            continue  # another run is sending it, or one was cut off while sending it today
        invoice = reminder.invoice
        try:
            _send(invoice, reminder.step, (today - invoice.due_date).days, shop)
        except Exception as error:
            outcome.failed += 1
            logger.exception(
                "Reminder for invoice %s (step %s days) not sent; the next run tries again.",
                invoice.number,
                reminder.step,
            )
            InvoiceReminder.objects.filter(pk=reminder.pk).update(
                claimed_at=None, last_error=f"{type(error).__name__}: {error}"[:200]
            )
            continue
        InvoiceReminder.objects.filter(pk=reminder.pk).update(sent_at=timezone.now())
        outcome.sent += 1
    return outcome


def _record_due(today, outcome: Outcome) -> None:
    steps = sorted(settings.INVOICE_REMINDER_DAYS)
    for invoice in overdue_invoices(today).prefetch_related("reminders"):
        days_overdue = (today - invoice.due_date).days
        due_steps = [step for step in steps if days_overdue >= step]
        if not due_steps:
            continue
        step = due_steps[-1]
        customer_messages.send_payment_reminder(invoice, step=step, days_overdue=days_overdue)
        if not invoice.customer.email:
            outcome.skipped += 1
            continue
        if any(reminder.step >= step for reminder in invoice.reminders.all()):
            outcome.skipped += 1  # this step (or a later one) was already recorded
            continue
        try:
            with transaction.atomic():
                InvoiceReminder.objects.create(invoice=invoice, step=step, sent_at=None)
        except IntegrityError:
            outcome.skipped += 1  # another run recorded it first


def _send(invoice, step, days_overdue, shop):
    context = {
        "invoice": invoice,
        "customer": invoice.customer,
        "shop": shop,
        "step": step,
        "days_overdue": days_overdue,
    }
    # In the customer's language, else the shop's receipt language.
    with translation.override(shop.document_language(invoice.customer)):
        subject = ngettext(
            "%(shop)s: invoice %(number)s is %(days)s day overdue",
            "%(shop)s: invoice %(number)s is %(days)s days overdue",
            days_overdue,
        ) % {"shop": shop.name, "number": invoice.number, "days": days_overdue}
        message = render_to_string("pos/email/invoice_reminder.txt", context)
    send_mail(
        subject=subject,
        message=message,
        from_email=None,
        recipient_list=[invoice.customer.email],
    )
