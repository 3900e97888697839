import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from core.errors import PermissionDenied
from pos import errors
from pos.models import Customer, Invoice, Payment, Sale, ShopSettings
from pos.selectors import customer_statement
from pos.services.checkout import TenderLine
from pos.services.invoices import cancel_invoice, record_invoice_payment
from pos.services.shifts import close_shift, expected_by_tender, expected_cash, open_shift

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(db):
    return Customer.objects.create(
        name="Hotel Mille Collines",
        company="Mille Collines Ltd",
        tin="101234567",
        phone="+250788000111",
        email="accounts@millecollines.rw",
        credit_limit=D(200000),
    )


@pytest.fixture
def on_account(sell, product, customer):
    """Sell `qty` of the product (12,000 each) to the customer, `credit` of it on account."""

    def make(qty=1, credit=None, cash=0):
        credit = D(12000 * qty) if credit is None else D(credit)
        tenders = [TenderLine("account", credit)]
        if cash:
            tenders.append(TenderLine("cash", D(cash)))
        return sell((product, qty), tenders=tenders, customer=customer).invoice

    return make


def pay(invoice, amount, tender="cash", user=None, **kwargs):
    if user is None:
        user = invoice.sale.cashier
    if tender == "mobile_money":
        kwargs.setdefault("reference", "MP2411.0001.A")
    return record_invoice_payment(
        invoice=invoice, amount=amount, tender=tender, user=user, **kwargs
    )


def balances(customer, invoice):
    customer.refresh_from_db()
    invoice.refresh_from_db()
    return customer.balance, invoice.amount_paid, invoice.status


def assert_ledger_invariants(customer):
    """amount_paid is the sum of an invoice's payments; the balance is what open invoices owe."""
    customer.refresh_from_db()
    open_due = D(0)
    for invoice in Invoice.objects.filter(customer=customer):
        paid = sum((p.amount for p in invoice.payments.all()), D(0))
        assert invoice.amount_paid == paid, invoice.number
        if invoice.status in ("sent", "partly_paid"):
            open_due += invoice.balance_due
    assert customer.balance == open_due


# --- credit sale -> invoice --------------------------------------------------------------------


def test_a_credit_sale_issues_a_sent_invoice_due_after_the_payment_terms(
    on_account, customer, settings
):
    settings.INVOICE_PAYMENT_TERMS_DAYS = 14
    invoice = on_account(qty=2)

    assert invoice.number == "INV-000001"
    assert invoice.total == D(24000)
    assert invoice.status == invoice.effective_status == "sent"
    assert invoice.due_date == timezone.localdate() + datetime.timedelta(days=14)
    assert on_account().number == "INV-000002"
    customer.refresh_from_db()
    assert customer.balance == D(36000)
    assert_ledger_invariants(customer)


# --- payments ----------------------------------------------------------------------------------


def test_partial_payments_in_several_tenders_then_paid(
    on_account, customer, shift, cashier, django_capture_on_commit_callbacks
):
    invoice = on_account(qty=3)  # 36,000 on account

    with django_capture_on_commit_callbacks(execute=True):
        cash = pay(invoice, D(10000), "cash")
    assert balances(customer, invoice) == (D(26000), D(10000), "partly_paid")
    assert (cash.invoice, cash.shift, cash.sale, cash.created_by) == (invoice, shift, None, cashier)

    momo = pay(invoice, "6000", "mobile_money", reference="MP2411.7788.B")
    assert momo.reference == "MP2411.7788.B"
    assert balances(customer, invoice) == (D(20000), D(16000), "partly_paid")
    pay(invoice, 5000, "card")
    pay(invoice, D(15000), "bank_transfer", reference="BK transfer 4411")
    assert balances(customer, invoice) == (D(0), D(36000), "paid")
    assert invoice.balance_due == D(0)
    assert sorted(invoice.payments.values_list("tender", flat=True)) == [
        "bank_transfer",
        "card",
        "cash",
        "mobile_money",
    ]
    assert_ledger_invariants(customer)

    entry = AuditLog.objects.get(action="invoice.payment_recorded")
    assert (entry.actor, entry.target_repr) == (cashier, "INV-000001")
    assert entry.details["amount"] == "10000"
    assert entry.details["balance_due"] == "26000"


def test_a_cash_payment_is_counted_in_the_shifts_expected_cash(on_account, shift, cashier, manager):
    invoice = on_account(qty=2)
    before = expected_by_tender(shift)
    assert before["cash"] == D(20000)  # the float: the sale itself was all on account

    pay(invoice, D(7000), "cash")
    pay(invoice, D(3000), "mobile_money")
    after = expected_by_tender(shift)
    assert after["cash"] == D(27000)
    assert after["mobile_money"] == before["mobile_money"] + D(3000)

    closed = close_shift(shift=shift, counted={"cash": D(27000)}, user=manager)
    assert closed.over_short == D(0)
    assert D(closed.z_report["by_tender"]["cash"]["net"]) == D(7000)


def test_a_manager_may_take_cash_into_a_cashiers_shift_but_another_cashier_may_not(
    on_account, shift, manager, make_user, register
):
    invoice = on_account()
    clerk = make_user("clerk", "cashier")
    with pytest.raises(PermissionDenied) as refused:
        pay(invoice, 1000, "cash", user=clerk, shift=shift)
    assert refused.value.fields == {"shift": ["This is another cashier's shift."]}

    payment = pay(invoice, 1000, "cash", user=manager, shift=shift)
    assert payment.shift == shift
    assert expected_cash(shift) == D(21000)


def test_cash_needs_an_open_shift_other_tenders_do_not(on_account, manager, shift, cashier):
    invoice = on_account()
    # The manager has no shift of their own: cash has no drawer to go into.
    with pytest.raises(errors.ShiftClosed) as refused:
        pay(invoice, 1000, "cash", user=manager)
    assert "shift" in refused.value.fields
    assert not Payment.objects.filter(invoice=invoice).exists()

    transfer = pay(invoice, 1000, "bank_transfer", user=manager)
    assert transfer.shift is None

    close_shift(shift=shift, counted={"cash": D(20000)}, user=cashier)
    with pytest.raises(errors.ShiftClosed):
        pay(invoice, 1000, "cash", shift=shift)
    invoice.refresh_from_db()
    assert invoice.amount_paid == D(1000)


def test_a_cashier_with_a_new_shift_takes_cash_into_it(on_account, shift, cashier, register):
    invoice = on_account()
    close_shift(shift=shift, counted={"cash": D(20000)}, user=cashier)
    new_shift = open_shift(register=register, cashier=cashier, opening_float=D(5000))
    payment = pay(invoice, 2000, "cash")
    assert payment.shift == new_shift
    assert expected_cash(new_shift) == D(7000)


def test_overpayment_is_refused_and_writes_nothing(on_account, customer, shift):
    invoice = on_account()  # 12,000
    pay(invoice, D(5000))
    with pytest.raises(errors.Overpayment) as refused:
        pay(invoice, D(7001))
    assert refused.value.fields == {
        "amount": ["Invoice INV-000001 has 7,000 RWF left to pay; 7,001 RWF is more than that."]
    }
    assert balances(customer, invoice) == (D(7000), D(5000), "partly_paid")
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert expected_cash(shift) == D(25000)


@pytest.mark.parametrize(
    "amount, tender, field, message",
    [
        (D(0), "cash", "amount", "The amount must be more than zero."),
        (D(-500), "cash", "amount", "The amount must be more than zero."),
        ("abc", "cash", "amount", "Enter an amount."),
        ("NaN", "cash", "amount", "Enter an amount."),
        (D("100.50"), "cash", "amount", "The amount has too many decimal places."),
        (1000.0, "cash", "amount", "Enter the amount as a number of francs."),
        (D(1000), "bitcoin", "tender", "Unknown tender 'bitcoin'."),
        (D(1000), "", "tender", "Unknown tender ''."),
        (D(1000), 7, "tender", "Unknown tender '7'."),
        (
            D(1000),
            "account",
            "tender",
            "An invoice cannot be paid on account; choose cash, mobile money, card or bank "
            "transfer.",
        ),
    ],
)
def test_bad_payments_are_refused_with_a_reason_and_write_nothing(
    on_account, customer, shift, amount, tender, field, message
):
    invoice = on_account()
    with pytest.raises(errors.DomainError) as refused:
        record_invoice_payment(
            invoice=invoice, amount=amount, tender=tender, user=invoice.sale.cashier
        )
    assert refused.value.fields == {field: [message]}
    assert balances(customer, invoice) == (D(12000), D(0), "sent")
    assert not Payment.objects.filter(invoice=invoice).exists()
    assert not AuditLog.objects.filter(action="invoice.payment_recorded").exists()


def test_mobile_money_needs_the_transaction_id(on_account, shift):
    invoice = on_account()
    with pytest.raises(errors.InvalidTender) as refused:
        pay(invoice, 1000, "mobile_money", reference="  ")
    assert "reference" in refused.value.fields


def test_paid_and_cancelled_invoices_take_no_payments(on_account, customer, manager, shift):
    paid = on_account()
    pay(paid, D(12000))
    with pytest.raises(errors.InvoiceNotPayable) as refused:
        pay(paid, D(1))
    assert refused.value.message == "Invoice INV-000001 is paid; it cannot take payments."

    cancelled = cancel_invoice(invoice=on_account(), user=manager, reason="Wrong customer")
    with pytest.raises(errors.InvoiceNotPayable) as refused:
        pay(cancelled, D(1000))
    assert refused.value.message == "Invoice INV-000002 is cancelled; it cannot take payments."
    assert Payment.objects.filter(invoice__in=[paid, cancelled]).count() == 1
    customer.refresh_from_db()
    assert customer.balance == D(0)


def test_a_stale_invoice_object_cannot_overpay(on_account, shift):
    """The service reads the invoice again under its lock; the caller's copy may be old."""
    invoice = on_account()
    stale = Invoice.objects.get(pk=invoice.pk)
    pay(invoice, D(12000))
    with pytest.raises(errors.InvoiceNotPayable):
        pay(stale, D(12000))


def test_someone_without_selling_or_invoice_rights_cannot_take_payments(
    on_account, make_user, shift
):
    invoice = on_account()
    nobody = make_user("nobody", "cashier")
    nobody.groups.clear()
    with pytest.raises(PermissionDenied):
        pay(invoice, D(1000), "bank_transfer", user=nobody)


def test_the_ledger_invariants_hold_over_many_invoices(
    on_account, customer, shift, manager, make_product, sell
):
    invoices = [on_account(qty=q) for q in (1, 2, 3, 1)]
    invoices.append(on_account(qty=2, credit=14000, cash=10000))  # part paid at the till
    pay(invoices[0], D(12000))
    pay(invoices[1], D(4000), "card")
    pay(invoices[1], D(5000))
    pay(invoices[2], D(35999), "bank_transfer")
    cancel_invoice(invoice=invoices[3], user=manager, reason="Goods returned")
    pay(invoices[4], D(14000), "mobile_money")
    assert_ledger_invariants(customer)
    customer.refresh_from_db()
    assert customer.balance == D(15000 + 1)


# --- cancelling --------------------------------------------------------------------------------


def test_a_manager_cancels_an_unpaid_invoice(
    on_account, customer, manager, django_capture_on_commit_callbacks
):
    invoice = on_account(qty=2)
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = cancel_invoice(invoice=invoice, user=manager, reason="Agreed with the client")
    assert cancelled.status == cancelled.effective_status == "cancelled"
    assert balances(customer, invoice) == (D(0), D(0), "cancelled")
    # The sale stays as it was: voiding or refunding it is a separate step.
    assert invoice.sale.status == Sale.Status.COMPLETED
    entry = AuditLog.objects.get(action="invoice.cancelled")
    assert entry.actor == manager
    assert entry.details == {"reason": "Agreed with the client", "total": "24000"}


def test_cancelling_rules(on_account, customer, manager, cashier, shift):
    invoice = on_account()
    with pytest.raises(PermissionDenied):
        cancel_invoice(invoice=invoice, user=cashier, reason="Please")
    with pytest.raises(errors.ReasonRequired) as refused:
        cancel_invoice(invoice=invoice, user=manager, reason="  ")
    assert "reason" in refused.value.fields

    pay(invoice, D(1000))
    with pytest.raises(errors.InvoiceNotCancellable) as refused:
        cancel_invoice(invoice=invoice, user=manager, reason="Too late")
    assert refused.value.message == "Invoice INV-000001 has payments; it cannot be cancelled."
    assert balances(customer, invoice) == (D(11000), D(1000), "partly_paid")

    other = cancel_invoice(invoice=on_account(), user=manager, reason="Duplicate")
    with pytest.raises(errors.InvoiceNotCancellable):
        cancel_invoice(invoice=other, user=manager, reason="Again")
    customer.refresh_from_db()
    assert customer.balance == D(11000)


# --- overdue -----------------------------------------------------------------------------------


def test_overdue_follows_from_the_due_date(on_account, shift):
    invoice = on_account()
    today = timezone.localdate()
    invoice.due_date = today
    assert invoice.effective_status == "sent"  # due today is not late yet
    invoice.due_date = today - datetime.timedelta(days=1)
    assert invoice.effective_status == "overdue"
    assert invoice.status == "sent"  # nothing stored changed

    invoice.save()
    pay(invoice, D(2000))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.effective_status) == ("partly_paid", "overdue")
    pay(invoice, D(10000))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.effective_status) == ("paid", "paid")


def test_overdue_uses_the_shops_day_not_utcs(on_account, monkeypatch):
    invoice = on_account()
    invoice.due_date = datetime.date(2026, 3, 10)
    # 22:30 UTC on the 10th is 00:30 on the 11th in Kigali (UTC+2): the invoice is a day late.
    late_evening_utc = datetime.datetime(2026, 3, 10, 22, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: late_evening_utc)
    assert invoice.effective_status == "overdue"
    monkeypatch.setattr(timezone, "now", lambda: late_evening_utc - datetime.timedelta(hours=1))
    assert invoice.effective_status == "sent"  # 23:30 on the 10th in Kigali


# --- statement ---------------------------------------------------------------------------------


def _at(day: datetime.date, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def history(on_account, shift, customer):
    """Three invoices and three payments over March 2026, dated by hand."""
    first, second, third = on_account(qty=1), on_account(qty=2), on_account(qty=1)
    p1 = pay(first, D(5000))
    p2 = pay(first, D(7000), "mobile_money", reference="MP2403.1")
    p3 = pay(second, D(4000), "card")
    dates = {
        first: datetime.date(2026, 3, 1),
        second: datetime.date(2026, 3, 10),
        third: datetime.date(2026, 3, 20),
    }
    for invoice, day in dates.items():
        Invoice.objects.filter(pk=invoice.pk).update(issued_at=_at(day))
    for payment, day in [(p1, 5), (p2, 12), (p3, 25)]:
        Payment.objects.filter(pk=payment.pk).update(created_at=_at(datetime.date(2026, 3, day)))
    return first, second, third


def test_statement_has_a_running_balance_oldest_first(history, customer):
    statement = customer_statement(customer)
    assert statement.opening_balance == D(0)
    assert [(r.reference, r.kind, r.debit, r.credit, r.balance) for r in statement.rows] == [
        ("INV-000001", "invoice", D(12000), D(0), D(12000)),
        ("INV-000001", "payment", D(0), D(5000), D(7000)),
        ("INV-000002", "invoice", D(24000), D(0), D(31000)),
        ("INV-000001", "payment", D(0), D(7000), D(24000)),
        ("INV-000003", "invoice", D(12000), D(0), D(36000)),
        ("INV-000002", "payment", D(0), D(4000), D(32000)),
    ]
    customer.refresh_from_db()
    assert statement.closing_balance == customer.balance == D(32000)
    assert statement.rows[3].description == "Payment, MTN MoMo (MP2403.1)"


def test_statement_for_a_period_starts_from_an_opening_balance(history, customer, manager):
    statement = customer_statement(
        customer, start=datetime.date(2026, 3, 10), end=datetime.date(2026, 3, 20)
    )
    assert statement.opening_balance == D(7000)  # 12,000 invoiced − 5,000 paid before the 10th
    assert [(r.reference, r.balance) for r in statement.rows] == [
        ("INV-000002", D(31000)),
        ("INV-000001", D(24000)),
        ("INV-000003", D(36000)),
    ]
    assert (statement.total_debits, statement.total_credits) == (D(36000), D(7000))
    assert statement.closing_balance == D(36000)

    # Cancelled invoices were never owed: they leave the statement.
    cancel_invoice(invoice=history[2], user=manager, reason="Returned")
    assert customer_statement(customer).closing_balance == D(20000)


def test_statement_days_are_kigali_days(on_account, customer):
    invoice = on_account()
    # 23:30 UTC on 31 March is 01:30 on 1 April in Kigali.
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_at=datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC)
    )
    april = customer_statement(customer, start=datetime.date(2026, 4, 1))
    assert [r.reference for r in april.rows] == ["INV-000001"]
    march = customer_statement(customer, end=datetime.date(2026, 3, 31))
    assert march.rows == []


# --- pages -------------------------------------------------------------------------------------


def test_the_invoice_page_shows_what_is_owed(client, manager, on_account, shift, product):
    shop = ShopSettings.load()
    shop.name, shop.tin, shop.address, shop.phone = (
        "Vevurn Phone Accessories",
        "102345678",
        "KN 4 Ave, Kigali",
        "+250788999000",
    )
    shop.save()
    invoice = on_account(qty=3, credit=26000, cash=10000)  # 36,000 sale, 26,000 on account
    pay(invoice, D(6000), "mobile_money", reference="MP2411.5555.C")
    client.force_login(manager)

    page = client.get(reverse("pos:invoice", args=[invoice.pk])).content.decode()
    for text in [
        "Vevurn Phone Accessories",
        "TIN 102345678",
        "KN 4 Ave, Kigali",
        "Tel +250788999000",
        "Hotel Mille Collines",
        "Mille Collines Ltd",
        "TIN 101234567",
        "+250788000111",
        "INV-000001",
        f"{timezone.localdate():%Y-%m-%d}",
        f"{invoice.due_date:%Y-%m-%d}",
        product.name,
        "12,000",  # unit price
        "36,000",  # sale total
        "5,492",  # VAT included: 36000 × 18 / 118
        "−10,000",  # paid at the till
        "26,000",  # invoice total
        "20,000",  # balance due
        "MP2411.5555.C",
        "PARTLY PAID",
    ]:
        assert text in page, text
    assert "OVERDUE" not in page


def test_the_invoice_page_shows_overdue(client, cashier, on_account):
    invoice = on_account()
    Invoice.objects.filter(pk=invoice.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=3)
    )
    # A cashier prints the invoice right after the sale on account.
    client.force_login(cashier)
    response = client.get(reverse("pos:invoice", args=[invoice.pk]))
    assert response.status_code == 200
    assert "OVERDUE" in response.content.decode()


def test_the_receipt_of_a_credit_sale_links_to_its_invoice(client, cashier, on_account):
    invoice = on_account()
    client.force_login(cashier)
    page = client.get(reverse("pos:receipt", args=[invoice.sale_id])).content.decode()
    assert f'href="{reverse("pos:invoice", args=[invoice.pk])}"' in page
    assert "Invoice INV-000001" in page


def test_pages_need_the_view_invoice_permission(client, make_user, on_account, customer):
    invoice = on_account()
    nobody = make_user("nobody", "cashier")
    nobody.groups.clear()
    client.force_login(nobody)
    assert client.get(reverse("pos:invoice", args=[invoice.pk])).status_code == 403
    url = reverse("pos:customer_statement", args=[customer.pk])
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_the_statement_page_and_its_csv(client, manager, history, customer):
    client.force_login(manager)
    url = reverse("pos:customer_statement", args=[customer.pk])

    page = client.get(url, {"start": "2026-03-10", "end": "2026-03-20"}).content.decode()
    assert "Statement of account: Hotel Mille Collines" in page
    assert "Opening balance" in page
    for text in ["7,000", "31,000", "24,000", "36,000", "INV-000003"]:
        assert text in page, text
    assert "2026-03-25" not in page  # the card payment is after the period
    assert reverse("pos:invoice", args=[history[1].pk]) in page  # rows link to their invoice

    response = client.get(url, {"start": "2026-03-10", "end": "2026-03-20", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "date,reference,description,debit,credit,balance"
    assert lines[1] == ",,Opening balance,,,7000"
    assert lines[2].startswith("2026-03-10 10:00,INV-000002,")
    assert lines[2].endswith(",24000,,31000")
    assert lines[-1] == ",,Closing balance,,,36000"


def test_the_statement_page_refuses_bad_dates(client, manager, customer):
    client.force_login(manager)
    url = reverse("pos:customer_statement", args=[customer.pk])
    response = client.get(url, {"start": "2026-13-45"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    response = client.get(url, {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert client.get(reverse("pos:customer_statement", args=[999999])).status_code == 404


# --- concurrency (PostgreSQL, real threads with their own connections) ---------------------


def _in_threads(workers):
    import threading

    from django.db import connection

    failures = []
    barrier = threading.Barrier(len(workers))

    def run(work):
        try:
            barrier.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_payments_never_overpay(on_account, customer, manager):
    invoice = on_account(qty=2)  # 24,000
    refused = []

    def work():
        try:
            pay(invoice, D(5000), "bank_transfer", user=manager)
        except errors.Overpayment:
            refused.append(1)

    assert _in_threads([work] * 8) == []
    assert len(refused) == 4  # four payments of 5,000 fit in 24,000
    assert balances(customer, invoice) == (D(4000), D(20000), "partly_paid")
    assert_ledger_invariants(customer)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_credit_sales_and_payments_for_one_customer_in_parallel(
    on_account, customer, shift, manager, sell, make_product
):
    """Checkout locks the customer, then the register; a payment the customer, the invoice, then
    the register: the same order, so no deadlock, and the balance adds up."""
    stocked = make_product(stock=100)
    invoice = on_account(qty=3)  # 36,000

    def credit_sales():
        for _ in range(3):
            sell((stocked, 1), tenders=[TenderLine("account", D(12000))], customer=customer)

    def cash_payments():
        for _ in range(3):
            pay(invoice, D(1000), "cash", user=shift.cashier, shift=shift)

    def transfers():
        for _ in range(3):
            pay(invoice, D(1000), "bank_transfer", user=manager)

    failures = _in_threads([credit_sales] * 3 + [cash_payments] * 2 + [transfers] * 2)
    assert failures == []
    assert Invoice.objects.filter(customer=customer).count() == 1 + 9
    assert balances(customer, invoice) == (D(36000 - 12000 + 9 * 12000), D(12000), "partly_paid")
    assert_ledger_invariants(customer)
    assert expected_cash(shift) == D(20000 + 6000)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_cash_payment_lands_in_a_shift_after_its_close(on_account, shift, manager):
    invoice = on_account(qty=2)
    refused = []

    def payments():
        for _ in range(4):
            try:
                pay(invoice, D(1000), "cash", shift=shift)
            except errors.ShiftClosed:
                refused.append(1)

    def close():
        # A manager's count closes at once (a cashier's would leave the shift for review).
        close_shift(shift=shift, counted={"cash": D(20000)}, user=manager)

    assert _in_threads([payments, payments, close]) == []
    shift.refresh_from_db()
    cash = Payment.objects.filter(shift=shift, tender="cash")
    taken = sum(cash.values_list("amount", flat=True), D(0))
    # Whatever got in before the close is in the Z-report's expected cash; nothing came after.
    assert D(shift.z_report["counts"]["cash"]["expected"]) == D(20000) + taken
    assert taken == D(1000) * (8 - len(refused))


def test_overdue_has_one_definition_for_the_model_the_reminders_and_the_report(on_account, cashier):
    from pos import selectors
    from pos.reports import queries

    today = timezone.localdate()
    due_today, late, paid_late = on_account(), on_account(), on_account()
    Invoice.objects.filter(pk__in=[late.pk, paid_late.pk]).update(
        due_date=today - datetime.timedelta(days=3)
    )
    record_invoice_payment(
        invoice=Invoice.objects.get(pk=paid_late.pk),
        amount=Decimal(12000),
        tender="bank_transfer",
        user=cashier,
    )

    by_model = {i.pk for i in Invoice.objects.all() if i.effective_status == "overdue"}
    assert by_model == {late.pk}
    assert {i.pk for i in Invoice.objects.overdue(today)} == by_model
    assert {i.pk for i in selectors.overdue_invoices(today)} == by_model
    assert {i.pk for i in queries.overdue_invoices(today)} == by_model
    assert due_today.pk not in by_model
