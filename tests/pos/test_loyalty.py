"""Loyalty points: earned per RWF paid at the shop's rate, taken back on refunds and voids,
credited once however many times the sale is retried."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from pos import errors
from pos.models import Customer, LedgerEntry, ShopSettings
from pos.services import ledger
from pos.services.checkout import TenderLine
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.voids import void_sale
from pos.tasks import expire_loyalty_points

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


@pytest.fixture
def points_pay(points_on):
    points_on.points_value = D(10)  # one point pays 10 RWF
    points_on.save(update_fields=["points_value"])
    return points_on


def test_points_pay_at_the_shops_value_and_earn_nothing_on_what_they_paid(
    sell, product, customer, points_pay, manager
):
    sell((product, 3), customer=customer)
    assert points(customer) == D(360)
    for tenders, refusal in [
        ([TenderLine("points", D(3605)), TenderLine("cash", D(8395))], "whole points of 10 RWF"),
        ([TenderLine("points", D(3610)), TenderLine("cash", D(8390))], "has 360 points"),
    ]:
        with pytest.raises(errors.InvalidTender, match=refusal):
            sell((product, 1), customer=customer, tenders=tenders)
    with pytest.raises(errors.CustomerRequired):
        sell((product, 1), tenders=[TenderLine("points", D(3000)), TenderLine("cash", D(9000))])

    paid = sell(
        (product, 1),
        customer=customer,
        tenders=[TenderLine("points", D(3000)), TenderLine("cash", D(9000))],
    )
    assert points(customer) == D(360 - 300 + 90)  # 90 earned on the 9,000 paid in cash
    void_sale(sale=paid, user=manager, reason="Mistake")
    assert points(customer) == D(360)  # the 300 given back, the 90 taken back
    assert ledger.mismatches() == []


def test_points_do_not_pay_where_the_shop_gives_them_no_value(sell, product, customer, points_on):
    sell((product, 1), customer=customer)
    with pytest.raises(errors.InvalidTender, match="Points do not pay"):
        sell((product, 1), customer=customer, tenders=[TenderLine("points", D(12000))])


def test_points_expire_after_the_shops_validity_the_oldest_spent_first(
    sell, product, customer, points_pay
):
    shop = points_pay
    shop.points_valid_days = 30
    shop.save(update_fields=["points_valid_days"])
    old = sell((product, 3), customer=customer)  # 360 points, 40 days ago
    LedgerEntry.objects.filter(sale=old).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    sell((product, 1), customer=customer)  # 120 points today
    sell(  # 100 points spent: taken from the oldest
        (product, 1),
        customer=customer,
        tenders=[TenderLine("points", D(1000)), TenderLine("cash", D(11000))],
    )
    assert points(customer) == D(360 + 120 - 100 + 110)

    assert expire_loyalty_points.enqueue().return_value == 1
    assert points(customer) == D(230)  # 260 of the old 360 unspent: expired
    assert expire_loyalty_points.enqueue().return_value == 0  # once a day
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert ledger.expire_points(today=tomorrow) == 0  # nothing old left
    assert ledger.mismatches() == []


def test_the_receipt_shows_the_points_earned_and_held(client, sell, product, customer, points_on):
    from tests.conftest import PASSWORD

    sell((product, 1), customer=customer)
    sale = sell((product, 2), customer=customer)
    client.login(username=sale.cashier.username, password=PASSWORD)
    page = client.get(f"/pos/sales/{sale.pk}/receipt/").content.decode()
    assert "<dt>Points earned</dt><dd>240</dd>" in page
    assert "<dt>Points balance</dt><dd>360</dd>" in page
