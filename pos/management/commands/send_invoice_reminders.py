"""Email customers about their overdue invoices, once per reminder step:
`manage.py send_invoice_reminders`. The worker runs the same service daily at
INVOICE_REMINDER_TIME (pos.tasks.send_invoice_reminders); see pos/services/invoice_reminders.py
for the rules."""

from django.core.management.base import BaseCommand

from pos.services.invoice_reminders import send_due_reminders


class Command(BaseCommand):
    help = "Email customers with an email address about overdue invoices, once per step."

    def handle(self, *args, **options):
        self.stdout.write(send_due_reminders().summary())
