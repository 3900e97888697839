"""The customer ledger: each balance is the sum of its entries, and an event posts once."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from pos.models import Customer, Invoice, LedgerEntry, LedgerKind, ShopSettings
from pos.services import gift_cards, ledger
from pos.services.checkout import TenderLine
from pos.services.gift_cards import expire_gift_cards, sell_gift_card
from pos.services.invoices import cancel_invoice, pay_on_account, record_invoice_payment
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.voids import void_sale

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Aline", phone="+250788000222", credit_limit=D(10**7))


def debt_entries(customer) -> Decimal:
    total = LedgerEntry.objects.filter(customer=customer, kind=LedgerKind.DEBT).aggregate(
        s=Sum("amount")
    )["s"]
    return total or D(0)


def test_a_credit_sale_a_payment_and_a_cancellation_each_leave_one_keyed_entry(
    sell, product, customer, manager
):
    sale = sell((product, 2), tenders=[TenderLine("account", D(24000))], customer=customer)
    record_invoice_payment(invoice=sale.invoice, amount=D(5000), tender="card", user=manager)
    other = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    cancel_invoice(invoice=other.invoice, user=manager, reason="Wrong customer")

    entries = list(LedgerEntry.objects.filter(customer=customer).values_list("key", "amount"))
    payment = sale.invoice.payments.get()
    assert entries == [
        (f"sale:{sale.pk}/debt", D(24000)),
        (f"payment:{payment.pk}/debt", D(-5000)),
        (f"sale:{other.pk}/debt", D(12000)),
        (f"invoice-cancelled:{other.invoice.pk}/debt", D(-12000)),
    ]
    customer.refresh_from_db()
    assert customer.balance == D(19000) == debt_entries(customer)
    assert ledger.mismatches() == []


def test_a_cash_sale_to_a_customer_leaves_no_entry(sell, product, customer):
    sell((product, 1), customer=customer)
    assert not LedgerEntry.objects.exists()


def test_posting_the_same_event_again_changes_nothing(sell, product, customer):
    sale = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        again = ledger.apply(
            kind=LedgerKind.DEBT, key=f"sale:{sale.pk}/debt", amount=D(12000), customer=locked
        )
    assert again is None
    customer.refresh_from_db()
    assert customer.balance == D(12000) == debt_entries(customer)
    assert LedgerEntry.objects.count() == 1


def test_a_retried_checkout_posts_its_debt_once(sell, product, customer):
    key = uuid.uuid4()
    tenders = [TenderLine("account", D(12000))]
    first = sell((product, 1), tenders=tenders, customer=customer, key=key)
    second = sell((product, 1), tenders=tenders, customer=customer, key=key)
    assert first.pk == second.pk
    customer.refresh_from_db()
    assert customer.balance == D(12000) == debt_entries(customer)


def test_an_entry_needs_its_account(customer):
    with transaction.atomic(), pytest.raises(ValueError, match="gift card"):
        ledger.post(kind=LedgerKind.GIFT_CARD, key="x/gift", amount=D(1), customer=customer)


# --- the property: any sequence of sales, refunds, voids and repayments ------------------------

operation = st.one_of(
    # (kind, qty, part of the total on account in quarters)
    st.tuples(st.just("sell"), st.integers(1, 3), st.integers(0, 4)),
    # (kind, which sale, refund tender)
    st.tuples(
        st.just("refund"), st.integers(0, 9), st.sampled_from(["cash", "account", "store_credit"])
    ),
    # (kind, value of a gift card in thousands, bought for the customer or not)
    st.tuples(st.just("card"), st.integers(1, 30), st.booleans()),
    # (kind, which card, with what the customer holds): a sale paid (partly) with it
    st.tuples(
        st.just("spend"),
        st.integers(0, 9),
        st.sampled_from(["gift_card", "store_credit", "points"]),
    ),  # fmt: skip
    # (kind, days from today): gift cards and points past their validity expired
    st.tuples(st.just("expire"), st.integers(0, 400), st.just(None)),
    st.tuples(st.just("void"), st.integers(0, 9), st.just(None)),
    # (kind, amount in thousands, per invoice or on account)
    st.tuples(st.just("repay"), st.integers(1, 30), st.sampled_from(["invoice", "account"])),
    st.tuples(st.just("cancel"), st.integers(0, 9), st.just(None)),
)

# A refusal (voiding a paid sale, overpaying, refunding a voided sale...) writes nothing.
EXPECTED_REFUSALS = (DomainError,)


def _run(op, arg, extra, *, sell, product, customer, shift, manager, sales, cards):
    if op == "card":
        cards.append(
            sell_gift_card(
                shift=shift,
                user=manager,
                amount=D(1000 * arg),
                customer=customer if extra else None,
                expires_on=timezone.localdate() + datetime.timedelta(days=arg * 10),
            )
        )
    elif op == "spend":
        _spend(arg, extra, sell=sell, product=product, customer=customer, cards=cards, sales=sales)
    elif op == "expire":
        day = timezone.localdate() + datetime.timedelta(days=arg)
        expire_gift_cards(today=day)
        ledger.expire_points(today=day)
    elif op == "sell":
        total = D(12000 * arg)
        credit = total * extra / 4
        tenders = [TenderLine("account", credit)] if credit else []
        if credit < total:
            tenders.append(TenderLine("cash", total - credit))
        sales.append(sell((product, arg), tenders=tenders, customer=customer))
    elif op == "refund" and sales:
        sale = sales[arg % len(sales)]
        line = sale.lines.get()
        refund_sale(
            sale=sale,
            shift=shift,
            user=manager,
            lines=[RefundLineInput(line.pk, 1)],
            reason="Returned",
            tender=extra,
        )
    elif op == "void" and sales:
        void_sale(sale=sales[arg % len(sales)], user=manager, reason="Mistake")
    elif op == "repay":
        amount = D(1000 * arg)
        invoice = Invoice.objects.filter(customer=customer, status__in=Invoice.OPEN_STATUSES)
        if extra == "invoice" and invoice.exists():
            record_invoice_payment(
                invoice=invoice.first(), amount=amount, tender="card", user=manager
            )
        else:
            pay_on_account(customer=customer, amount=amount, tender="card", user=manager)
    elif op == "cancel" and sales:
        invoice = Invoice.objects.filter(sale=sales[arg % len(sales)]).first()
        if invoice is not None:
            cancel_invoice(invoice=invoice, user=manager, reason="Agreed")


def _spend(which, tender, *, sell, product, customer, cards, sales):
    """A sale of 12,000 paid with as much of `tender` as the customer (or the card) holds,
    the rest in cash."""
    customer.refresh_from_db()
    if tender == "gift_card":
        if not cards:
            return
        card = cards[which % len(cards)]
        card.refresh_from_db()
        amount, reference = min(card.balance, D(12000)), card.code
    elif tender == "store_credit":
        amount, reference = min(customer.store_credit, D(12000)), ""
    else:  # points, worth 10 RWF each
        amount, reference = min(customer.points * 10, D(12000)), ""
    tenders = [TenderLine(tender, amount, reference)] if amount else []
    if amount < D(12000):
        tenders.append(TenderLine("cash", D(12000) - amount))
    sales.append(sell((product, 1), tenders=tenders, customer=customer))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, max_size=10))
def test_every_balance_equals_the_sum_of_its_entries(ops, sell, make_product, shift, manager):
    """Sales (on account, with gift cards, store credit and points), refunds (to cash, the
    account, store credit), voids, repayments, cancellations, cards sold and expiry, in any
    order: every cached balance (debt, store credit, points, each card) is its entries' sum."""
    shop = ShopSettings.load()
    shop.loyalty_points_per_1000, shop.points_value, shop.points_valid_days = D(10), D(10), 90
    shop.save(update_fields=["loyalty_points_per_1000", "points_value", "points_valid_days"])
    product = make_product(stock=1000)
    customer = Customer.objects.create(
        name="Prop", phone=f"+25078{uuid.uuid4().int % 10**7:07d}", credit_limit=D(10**7)
    )
    sales, cards = [], []
    for op, arg, extra in ops:
        try:
            _run(
                op,
                arg,
                extra,
                sell=sell,
                product=product,
                customer=customer,
                shift=shift,
                manager=manager,
                sales=sales,
                cards=cards,
            )
        except EXPECTED_REFUSALS:
            pass
        customer.refresh_from_db()
        assert customer.balance == debt_entries(customer), (op, arg, extra)
        assert ledger.mismatches() == []
        assert gift_cards.liability().balances
    # What the customer owes on open invoices never exceeds the debt on the ledger's account
    # (a refund to the account can leave them in credit: a negative balance).
    open_due = sum(
        (
            i.balance_due
            for i in Invoice.objects.filter(customer=customer, status__in=["sent", "partly_paid"])
        ),
        D(0),
    )
    assert customer.balance <= open_due
