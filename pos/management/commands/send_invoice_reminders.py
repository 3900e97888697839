"""Email customers about their overdue invoices, once per reminder step.

Run it daily (cron, a scheduler): `manage.py send_invoice_reminders`. Steps are the days past the
due date in settings.INVOICE_REMINDER_DAYS (default 1, 7, 30). An invoice gets a mail for the
highest step that is due and not yet sent; lower steps are then passed, so a first run that comes
late sends one mail, not three.

Each reminder is recorded (InvoiceReminder, unique per invoice and step) and committed BEFORE the
mail goes out: a crash or a failed mail after the commit loses at most that one mail (it is
logged), and no rerun can send the same step twice.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import ngettext

from pos.models import InvoiceReminder, ShopSettings
from pos.selectors import overdue_invoices

logger = logging.getLogger("vevurn.invoices")


class Command(BaseCommand):
    help = "Email customers with an email address about overdue invoices, once per step."

    def handle(self, *args, **options):
        today = timezone.localdate()
        steps = sorted(settings.INVOICE_REMINDER_DAYS)
        shop = ShopSettings.load()
        sent = skipped = failed = 0
        for invoice in overdue_invoices(today).prefetch_related("reminders"):
            days_overdue = (today - invoice.due_date).days
            due_steps = [step for step in steps if days_overdue >= step]
            if not due_steps:
                continue
            step = due_steps[-1]
            if not invoice.customer.email:
                skipped += 1
                continue
            if any(reminder.step >= step for reminder in invoice.reminders.all()):
                skipped += 1  # this step (or a later one) was already sent
                continue
            try:
                with transaction.atomic():
                    InvoiceReminder.objects.create(invoice=invoice, step=step)
            except IntegrityError:
                skipped += 1  # another run recorded it first
                continue
            # Committed: from here on this step counts as sent, whatever happens to the mail.
            try:
                self._send(invoice, step, days_overdue, shop)
            except Exception:
                failed += 1
                logger.exception(
                    "Reminder for invoice %s (step %s days) was recorded but not sent.",
                    invoice.number,
                    step,
                )
                continue
            sent += 1
        summary = f"Sent {sent} invoice reminder(s), skipped {skipped}"
        if failed:
            summary += f", {failed} failed (see the log)"
        self.stdout.write(summary + ".")

    def _send(self, invoice, step, days_overdue, shop):
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
