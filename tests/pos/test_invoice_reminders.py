import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from pos.models import Customer, Invoice, InvoiceReminder
from pos.services.checkout import TenderLine
from pos.services.invoices import cancel_invoice, record_invoice_payment

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def make_customer(db):
    def make(name="Hotel Mille Collines", phone="+250788000111", email="pay@millecollines.rw"):
        return Customer.objects.create(name=name, phone=phone, email=email, credit_limit=D(10**6))

    return make


@pytest.fixture
def invoice_for(sell, product):
    """An invoice of 12,000 for `customer`, `days_overdue` days past its due date."""

    def make(customer, days_overdue):
        sale = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
        set_overdue(sale.invoice, days_overdue)
        return sale.invoice

    return make


def set_overdue(invoice, days):
    invoice.due_date = timezone.localdate() - datetime.timedelta(days=days)
    Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.due_date)


def run() -> str:
    from io import StringIO

    out = StringIO()
    call_command("send_invoice_reminders", stdout=out)
    return out.getvalue().strip()


def steps(invoice):
    return sorted(invoice.reminders.values_list("step", flat=True))


def test_one_mail_per_step_and_reruns_send_nothing(make_customer, invoice_for, settings):
    settings.INVOICE_REMINDER_DAYS = [1, 7, 30]
    invoice = invoice_for(make_customer(), days_overdue=1)

    assert run() == "Sent 1 invoice reminder(s), skipped 0."
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pay@millecollines.rw"]
    assert "INV-000001 is 1 day overdue" in message.subject
    assert "Dear Hotel Mille Collines" in message.body
    assert "Balance due:    RWF 12,000" in message.body
    assert steps(invoice) == [1]

    assert run() == "Sent 0 invoice reminder(s), skipped 1."
    assert len(mail.outbox) == 1

    set_overdue(invoice, 7)
    run()
    run()
    assert len(mail.outbox) == 2
    assert steps(invoice) == [1, 7]

    set_overdue(invoice, 30)
    run()
    run()
    assert len(mail.outbox) == 3
    assert steps(invoice) == [1, 7, 30]


def test_a_late_first_run_sends_only_the_highest_due_step(make_customer, invoice_for, settings):
    settings.INVOICE_REMINDER_DAYS = [1, 7, 30]
    invoice = invoice_for(make_customer(), days_overdue=45)
    run()
    run()
    assert len(mail.outbox) == 1
    assert "45 days overdue" in mail.outbox[0].subject
    assert steps(invoice) == [30]


def test_invoices_not_yet_late_or_not_open_get_no_reminder(
    make_customer, invoice_for, settings, manager, shift
):
    settings.INVOICE_REMINDER_DAYS = [1, 7, 30]
    customer = make_customer()
    invoice_for(customer, days_overdue=0)  # due today
    paid = invoice_for(customer, days_overdue=10)
    record_invoice_payment(invoice=paid, amount=D(12000), tender="cash", user=shift.cashier)
    cancelled = invoice_for(customer, days_overdue=10)
    cancel_invoice(invoice=cancelled, user=manager, reason="Returned")
    settings.INVOICE_REMINDER_DAYS = [3]
    invoice_for(customer, days_overdue=2)  # late, but before the first step

    assert run() == "Sent 0 invoice reminder(s), skipped 0."
    assert mail.outbox == []
    assert not InvoiceReminder.objects.exists()


def test_a_partly_paid_overdue_invoice_is_reminded_of_what_is_left(
    make_customer, invoice_for, settings, shift
):
    settings.INVOICE_REMINDER_DAYS = [1]
    invoice = invoice_for(make_customer(), days_overdue=3)
    record_invoice_payment(invoice=invoice, amount=D(5000), tender="cash", user=shift.cashier)
    run()
    assert "Balance due:    RWF 7,000" in mail.outbox[0].body


def test_customers_without_email_are_skipped(make_customer, invoice_for, settings):
    settings.INVOICE_REMINDER_DAYS = [1, 7, 30]
    with_email = make_customer()
    without = make_customer(name="Jean Bosco", phone="+250788000222", email="")
    invoice_for(with_email, days_overdue=8)
    no_mail = invoice_for(without, days_overdue=8)

    assert run() == "Sent 1 invoice reminder(s), skipped 1."
    assert [m.to for m in mail.outbox] == [["pay@millecollines.rw"]]
    assert steps(no_mail) == []  # nothing recorded: an email added later still gets reminded


def test_a_failed_mail_is_sent_by_the_next_run_and_never_twice(
    make_customer, invoice_for, settings, monkeypatch, caplog
):
    """The reminder is recorded before the mail goes out and marked sent after: a mail that
    failed is sent by the next run (the job's retry), and a sent one is never sent again."""
    settings.INVOICE_REMINDER_DAYS = [1]
    invoice = invoice_for(make_customer(), days_overdue=2)

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("pos.services.invoice_reminders.send_mail", broken, raising=True)
    assert run() == "Sent 0 invoice reminder(s), skipped 0, 1 failed (see the log)."
    assert "INV-000001 (step 1 days) not sent; the next run tries again" in caplog.text
    reminder = invoice.reminders.get()
    assert reminder.sent_at is None
    assert reminder.last_error == "ConnectionRefusedError: SMTP down"

    monkeypatch.undo()
    assert run() == "Sent 1 invoice reminder(s), skipped 1."
    assert len(mail.outbox) == 1
    assert run() == "Sent 0 invoice reminder(s), skipped 1."
    assert len(mail.outbox) == 1
    reminder.refresh_from_db()
    assert (reminder.attempts, reminder.sent_at is not None) == (2, True)


def test_a_run_cut_off_while_mailing_sends_nothing_more_that_day(
    make_customer, invoice_for, settings
):
    """Claimed today and never marked (the worker was killed mid-send): not again today,
    but the next day's run sends it."""
    settings.INVOICE_REMINDER_DAYS = [1]
    invoice = invoice_for(make_customer(), days_overdue=2)
    InvoiceReminder.objects.create(invoice=invoice, step=1, claimed_at=timezone.now())

    assert run() == "Sent 0 invoice reminder(s), skipped 1."
    assert mail.outbox == []

    InvoiceReminder.objects.update(claimed_at=timezone.now() - datetime.timedelta(days=1))
    assert run() == "Sent 1 invoice reminder(s), skipped 1."
    assert len(mail.outbox) == 1


def test_the_daily_job_fails_on_a_mail_failure_and_its_retry_sends_it(
    make_customer, invoice_for, settings, monkeypatch
):
    from pos.tasks import send_invoice_reminders

    settings.INVOICE_REMINDER_DAYS = [1]
    invoice_for(make_customer(), days_overdue=2)
    monkeypatch.setattr(
        "pos.services.invoice_reminders.send_mail",
        lambda *a, **k: (_ for _ in ()).throw(ConnectionRefusedError("SMTP down")),
    )
    result = send_invoice_reminders.enqueue()  # at once in tests
    assert result.status == "FAILED"
    assert "ReminderMailFailed" in result.errors[0].exception_class_path

    monkeypatch.undo()
    assert send_invoice_reminders.enqueue().status == "SUCCESSFUL"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "value, expected",
    [("", [1, 7, 30]), ("14, 3,3", [3, 14]), ("1,week", "whole numbers"), ("0,7", "1 day or more")],
)
def test_reminder_days_come_from_the_environment(value, expected):
    from tests.test_settings import load_settings, run

    env = {"DEBUG": "1"} if value == "" else {"DEBUG": "1", "INVOICE_REMINDER_DAYS": value}
    if isinstance(expected, list):
        assert load_settings(env, "INVOICE_REMINDER_DAYS") == {"INVOICE_REMINDER_DAYS": expected}
    else:
        code = "import django; django.setup()"
        result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "vevurn.settings", **env})
        assert result.returncode != 0
        assert "INVOICE_REMINDER_DAYS" in result.stderr and expected in result.stderr


def test_reminder_time_comes_from_the_environment():
    from tests.test_settings import load_settings, run

    env = {"DEBUG": "1", "INVOICE_REMINDER_TIME": "18:30"}
    assert load_settings(env, "INVOICE_REMINDER_TIME") == {"INVOICE_REMINDER_TIME": "18:30:00"}
    code = "import django; django.setup()"
    bad = {
        "DJANGO_SETTINGS_MODULE": "vevurn.settings",
        "DEBUG": "1",
        "INVOICE_REMINDER_TIME": "6pm",
    }
    result = run(["-c", code], bad)
    assert result.returncode != 0
    assert "INVOICE_REMINDER_TIME must be a time as HH:MM" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_a_reminder_is_mailed(
    make_customer, invoice_for, settings, monkeypatch
):
    from django.db import connection

    from pos.services import invoice_reminders

    settings.INVOICE_REMINDER_DAYS = [1]
    invoice_for(make_customer(), days_overdue=2)
    seen = []
    real_send_mail = invoice_reminders.send_mail

    def send_mail(**kwargs):
        seen.append(connection.in_atomic_block)
        return real_send_mail(**kwargs)

    monkeypatch.setattr(invoice_reminders, "send_mail", send_mail)
    assert run() == "Sent 1 invoice reminder(s), skipped 0."
    assert seen == [False]
