"""Loyalty points: earned per RWF paid at the shop's rate, taken back on refunds and voids,
credited once however many times the sale is retried."""

import uuid
from decimal import Decimal

import pytest

from pos.models import Customer, LedgerEntry, ShopSettings
from pos.services import ledger
from pos.services.checkout import TenderLine
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.voids import void_sale

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Aline", phone="+250788000444", credit_limit=D(10**6))


@pytest.fixture
def points_on(db):
    shop = ShopSettings.load()
    shop.loyalty_points_per_1000 = D(10)  # 1 point per 100 RWF
    shop.save(update_fields=["loyalty_points_per_1000"])
    return shop


def points(customer) -> Decimal:
    customer.refresh_from_db()
    return customer.points


def test_points_are_earned_on_what_is_paid_not_on_account(sell, product, customer, points_on):
    sell((product, 1), customer=customer)  # 12,000 paid
    assert points(customer) == D(120)
    sell(
        (product, 1),
        customer=customer,
        tenders=[TenderLine("account", D(7000)), TenderLine("cash", D(5000))],
    )
    assert points(customer) == D(170)
    assert ledger.mismatches() == []


def test_no_points_when_the_shop_gives_none(sell, product, customer):
    sell((product, 1), customer=customer)
    assert points(customer) == D(0)
    assert not LedgerEntry.objects.exists()


def test_points_are_credited_once_however_often_the_sale_is_retried(
    sell, product, customer, points_on
):
    key = uuid.uuid4()
    for _ in range(3):
        sale = sell((product, 1), customer=customer, key=key)
    assert points(customer) == D(120)
    assert LedgerEntry.objects.filter(key=f"sale:{sale.pk}/points").count() == 1


def test_a_refund_takes_back_its_share_and_a_void_the_rest(
    sell, product, customer, points_on, shift, manager
):
    sale = sell((product, 3), customer=customer)
    assert points(customer) == D(360)
    refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Faulty",
    )
    assert points(customer) == D(240)
    other = sell((product, 1), customer=customer)
    void_sale(sale=other, user=manager, reason="Mistake")
    assert points(customer) == D(240)
    assert ledger.mismatches() == []
