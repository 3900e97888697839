"""Gift cards and store credit: liabilities on the customer ledger, redeemed as tenders."""

import datetime
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import NotFound
from pos import errors
from pos.models import Customer, GiftCard, LedgerEntry, Sale
from pos.reports.queries import sales_summary
from pos.services import ledger
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.gift_cards import expire_gift_cards, liability, sell_gift_card
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.shifts import expected_cash, open_shift
from pos.services.voids import void_sale
from pos.tasks import expire_gift_cards as expire_gift_cards_job

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Aline", phone="+250788000333", credit_limit=D(0))


def card_balance(card) -> Decimal:
    card.refresh_from_db()
    return card.balance


def test_a_gift_card_is_sold_for_cash_into_the_drawer_not_as_revenue(shift, cashier):
    before = expected_cash(shift)
    card = sell_gift_card(shift=shift, user=cashier, amount=D(20000))
    assert card.code.startswith("GC-") and card.balance == D(20000)
    assert expected_cash(shift) == before + D(20000)
    assert not Sale.objects.exists()  # not a sale: the revenue reports never see it
    assert ledger.card_balance(card.code.lower()).balance == D(20000)
    with pytest.raises(NotFound):
        ledger.card_balance("GC-NOPE")


def test_a_gift_card_pays_in_part_then_wholly_and_then_is_refused(sell, product, shift, cashier):
    card = sell_gift_card(shift=shift, user=cashier, amount=D(20000))
    first = sell(
        (product, 1),
        tenders=[TenderLine("gift_card", D(12000), reference=card.code.lower())],
    )
    assert card_balance(card) == D(8000)
    assert first.payments.get().reference == card.code
    sell(
        (product, 1),
        tenders=[TenderLine("gift_card", D(8000), card.code), TenderLine("cash", D(4000))],
    )
    assert card_balance(card) == D(0)
    with pytest.raises(errors.InvalidTender, match="holds 0 RWF"):
        sell((product, 1), tenders=[TenderLine("gift_card", D(12000), card.code)])
    with pytest.raises(errors.InvalidTender, match="No gift card"):
        sell((product, 1), tenders=[TenderLine("gift_card", D(12000), "GC-UNKNOWN")])
    assert ledger.mismatches() == []


def test_revenue_excludes_gift_card_sales_and_includes_redemptions(sell, product, shift, cashier):
    card = sell_gift_card(shift=shift, user=cashier, amount=D(12000))
    today = timezone.localdate()
    assert sales_summary(today, today).total == D(0)
    sell((product, 1), tenders=[TenderLine("gift_card", D(12000), card.code)])
    assert sales_summary(today, today).total == D(12000)


def test_an_expired_card_is_refused_and_its_balance_expires(sell, product, shift, cashier):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    card = sell_gift_card(shift=shift, user=cashier, amount=D(5000), expires_on=yesterday)
    with pytest.raises(errors.InvalidTender, match="expired"):
        sell((product, 1), tenders=[TenderLine("gift_card", D(5000), card.code)])
    assert expire_gift_cards() == 1
    assert expire_gift_cards() == 0  # once
    assert card_balance(card) == D(0)


def test_a_card_a_void_re_credits_after_it_expired_is_expired_again_by_the_worker(
    sell, product, shift, cashier, manager
):
    today = timezone.localdate()
    card = sell_gift_card(shift=shift, user=cashier, amount=D(20000), expires_on=today)
    paid = sell((product, 1), tenders=[TenderLine("gift_card", D(12000), card.code)])
    tomorrow = today + datetime.timedelta(days=1)
    assert expire_gift_cards(today=tomorrow) == 1  # the 8,000 left
    assert card_balance(card) == D(0)
    void_sale(sale=paid, user=manager, reason="Wrong item")  # gives the 12,000 back
    assert card_balance(card) == D(12000)
    assert expire_gift_cards(today=tomorrow) == 1  # expired again
    assert expire_gift_cards(today=tomorrow) == 0
    assert card_balance(card) == D(0)
    report = liability()
    assert (report.issued, report.redeemed, report.expired) == (D(20000), D(0), D(20000))
    assert report.balances and ledger.mismatches() == []


def test_the_worker_expires_cards_past_their_date(sell, product, shift, cashier):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    card = sell_gift_card(shift=shift, user=cashier, amount=D(5000), expires_on=yesterday)
    assert expire_gift_cards_job.enqueue().return_value == 1
    assert card_balance(card) == D(0)


def test_the_liability_report_balances_against_the_ledger(sell, product, shift, cashier, manager):
    a = sell_gift_card(shift=shift, user=cashier, amount=D(30000))
    b = sell_gift_card(
        shift=shift,
        user=cashier,
        amount=D(7000),
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    paid = sell((product, 1), tenders=[TenderLine("gift_card", D(12000), a.code)])
    voided = sell((product, 1), tenders=[TenderLine("gift_card", D(12000), a.code)])
    void_sale(sale=voided, user=manager, reason="Mistake")  # gives the 12,000 back
    expire_gift_cards()

    report = liability()
    assert (report.issued, report.redeemed, report.expired) == (D(37000), D(12000), D(7000))
    assert report.outstanding == D(18000) == card_balance(a) + card_balance(b)
    assert report.balances
    assert paid.payments.get().amount == D(12000)
    assert ledger.mismatches() == []


def test_store_credit_is_a_refund_tender_and_a_payment_tender(
    sell, product, customer, shift, manager
):
    sale = sell((product, 2), customer=customer)
    drawer = expected_cash(shift)
    refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Wrong size",
        tender="store_credit",
    )
    customer.refresh_from_db()
    assert customer.store_credit == D(12000)
    assert expected_cash(shift) == drawer  # nothing left the drawer

    with pytest.raises(errors.InvalidTender, match="has 12,000 RWF of store credit"):
        sell((product, 2), customer=customer, tenders=[TenderLine("store_credit", D(24000))])
    with pytest.raises(errors.CustomerRequired):
        sell((product, 1), tenders=[TenderLine("store_credit", D(12000))])
    paid = sell(
        (product, 2),
        customer=customer,
        tenders=[TenderLine("store_credit", D(12000)), TenderLine("cash", D(12000))],
    )
    customer.refresh_from_db()
    assert customer.store_credit == D(0)
    void_sale(sale=paid, user=manager, reason="Mistake")
    customer.refresh_from_db()
    assert customer.store_credit == D(12000)  # the void gives it back
    assert list(
        LedgerEntry.objects.filter(kind="store_credit").values_list("amount", flat=True)
    ) == [
        D(12000),
        D(-12000),
        D(12000),
    ]
    assert ledger.mismatches() == []


def test_a_walk_in_refund_cannot_be_store_credit(sell, product, shift, manager):
    sale = sell((product, 1))
    with pytest.raises(errors.InvalidTender, match="store credit"):
        refund_sale(
            sale=sale,
            shift=shift,
            user=manager,
            lines=[RefundLineInput(sale.lines.get().pk, 1)],
            reason="x",
            tender="store_credit",
        )


def test_a_sale_without_a_customer_or_these_tenders_touches_no_ledger(sell, product):
    """Its exact query count is asserted in tests/pos/register (unchanged): none of them reads
    or writes gift cards or the customer ledger."""
    sell((product, 1))
    with CaptureQueriesContext(connection) as queries:
        sell((product, 1))
    tables = (GiftCard._meta.db_table, LedgerEntry._meta.db_table)
    assert not [q for q in queries.captured_queries if any(t in q["sql"] for t in tables)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_gift_card_at_two_tills_at_once_pays_once(make_product, make_user):
    """Two tills redeem the whole card at the same moment: one sale, one refusal."""
    from pos.models import Register

    products = [make_product(stock=10), make_product(stock=10)]  # nothing else to wait on
    tills = []
    for n in (1, 2):
        register = Register.objects.create(code=f"T{n}", name=f"Till {n}")
        cashier = make_user(f"till{n}", "cashier")
        shift = open_shift(register=register, cashier=cashier, opening_float=D(0))
        tills.append((shift, cashier, products[n - 1]))
    card = sell_gift_card(shift=tills[0][0], user=tills[0][1], amount=D(12000))
    assert card.entries.count() == 1
    barrier = threading.Barrier(2)
    sold, refused, failures = [], [], []

    def till(shift, cashier, product):
        try:
            barrier.wait()
            sold.append(
                checkout(
                    shift=shift,
                    cashier=cashier,
                    cart=Cart([CartLine(product.pk, 1)]),
                    tenders=[TenderLine("gift_card", D(12000), card.code)],
                    idempotency_key=uuid.uuid4(),
                )
            )
        except errors.InvalidTender as exc:
            refused.append(exc)
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=till, args=args) for args in tills]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(sold) == 1 and len(refused) == 1
    assert "holds 0 RWF" in refused[0].message
    assert card_balance(card) == D(0)
    assert GiftCard.objects.get().entries.count() == 2
    assert ledger.mismatches() == []
