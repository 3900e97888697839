"""Issue 20, point 7: a customer pays what they owe on account at the till (cash or Mobile
Money), gets a payment receipt, and the till shows their statement."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from pos import errors
from pos.models import Customer, Invoice, Payment
from pos.services.checkout import TenderLine
from pos.services.invoices import pay_on_account
from pos.services.shifts import expected_cash

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Aline", phone="+250788000111", credit_limit=D(100000))


@pytest.fixture
def two_invoices(sell, product, customer):
    """12,000 then 24,000 on account (the first due first)."""
    first = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    second = sell((product, 2), tenders=[TenderLine("account", D(24000))], customer=customer)
    return first.invoice, second.invoice


def owed(customer) -> Decimal:
    customer.refresh_from_db()
    open_invoices = Invoice.objects.filter(customer=customer, status__in=["sent", "partly_paid"])
    assert customer.balance == sum((i.balance_due for i in open_invoices), D(0))
    return customer.balance


def test_a_payment_pays_the_oldest_invoice_first_then_part_of_the_next(
    customer, two_invoices, shift, cashier, django_capture_on_commit_callbacks
):
    first, second = two_invoices
    before = expected_cash(shift)
    with django_capture_on_commit_callbacks(execute=True):
        payments = pay_on_account(
            customer=customer, amount="20000", tender="cash", user=cashier, shift=shift
        )
    assert [(p.invoice, p.amount) for p in payments] == [(first, D(12000)), (second, D(8000))]
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("paid", "partly_paid")
    assert owed(customer) == D(16000)
    assert expected_cash(shift) == before + D(20000)  # in this shift's drawer
    entry = AuditLog.objects.get(action="customer.paid_on_account")
    assert entry.details["payment_ids"] == [p.pk for p in payments]


def test_more_than_owed_is_refused_whole(customer, two_invoices, shift, cashier):
    with pytest.raises(errors.Overpayment) as refused:
        pay_on_account(customer=customer, amount="36001", tender="cash", user=cashier, shift=shift)
    assert "Aline owes 36,000 RWF on account" in refused.value.message
    assert not Payment.objects.filter(invoice__isnull=False).exists()
    assert owed(customer) == D(36000)


def test_mobile_money_needs_its_transaction_id(customer, two_invoices, shift, cashier):
    with pytest.raises(errors.InvalidTender):
        pay_on_account(
            customer=customer, amount="1000", tender="mobile_money", user=cashier, shift=shift
        )
    payments = pay_on_account(
        customer=customer,
        amount="12000",
        tender="mobile_money",
        reference="MP2411.0001.A",
        user=cashier,
        shift=shift,
    )
    assert payments[0].reference == "MP2411.0001.A"


# --- The till screen --------------------------------------------------------------------------


def test_the_till_finds_the_customer_shows_the_statement_and_takes_the_payment(
    till, customer, two_invoices
):
    found = till.get(reverse("register:account"), {"q": "0788000111"})
    url = reverse("register:account_payment", args=[customer.pk])
    assert found["Location"] == url
    page = till.get(url)
    text = page.content.decode()
    assert page.context["invoices"] == list(two_invoices)
    assert "36,000 RWF" in text  # owed
    assert len(page.context["rows"]) == 2  # the statement: two invoices

    refused = till.post(url, {"amount": "50000", "tender": "cash"})
    assert refused.status_code == 400
    assert "owes 36,000 RWF on account" in refused.content.decode()
    assert refused.context["form"]["amount"].value() == "50000"  # kept

    done = till.post(url, {"amount": "30000", "tender": "cash"})
    payment = Payment.objects.filter(invoice__isnull=False).order_by("pk").first()
    assert done["Location"] == reverse("pos:account_payment_receipt", args=[payment.pk])
    receipt = till.get(done["Location"])
    slip = receipt.content.decode()
    assert receipt.context["total"] == D(30000)
    assert receipt.context["owed"] == D(6000)
    for text in ("PAYMENT ON ACCOUNT", "Aline", two_invoices[0].number, "30,000", "6,000"):
        assert text in slip, text
    after = till.get(url)
    assert len(after.context["rows"]) == 4  # two invoices, two payments
    assert after.context["statement"].closing_balance == D(6000)


def test_a_mobile_money_payment_without_its_id_is_refused_by_the_field(
    till, customer, two_invoices
):
    url = reverse("register:account_payment", args=[customer.pk])
    response = till.post(url, {"amount": "1000", "tender": "mobile_money"})
    assert response.status_code == 400
    assert response.context["form"].errors["reference"]


def test_another_cashiers_payment_receipt_is_refused(
    client, make_user, customer, two_invoices, shift, cashier
):
    payments = pay_on_account(
        customer=customer, amount="1000", tender="cash", user=cashier, shift=shift
    )
    client.force_login(make_user("other", "cashier"))
    url = reverse("pos:account_payment_receipt", args=[payments[0].pk])
    assert client.get(url).status_code == 403
