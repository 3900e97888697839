"""The suspicious-activity report, read from the journal."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from pos.reports.suspicious import suspicious_activity
from pos.services.checkout import CartLine
from pos.services.receipt_prints import record_receipt_print
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.shifts import close_shift, open_drawer, review_close
from pos.services.voids import void_sale
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def a_day(sell, product, shift, cashier, manager):
    voided = sell((product, 1))
    void_sale(sale=voided, user=manager, reason="Customer left")
    refunded = sell((product, 2))
    refund_sale(
        sale=refunded,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(refunded.lines.get().pk, 1)],
        reason="Changed mind",
    )
    open_drawer(shift=shift, user=cashier, reason="Change for a note")
    sell(CartLine(product.pk, 1, unit_price=D(11000)))
    sell(CartLine(product.pk, 1, discount=D(3000)), approved_by=manager)
    printed = sell((product, 1))
    record_receipt_print(sale=printed, user=cashier)
    record_receipt_print(sale=printed, user=cashier)  # the copy
    review_close(
        shift=close_shift(shift=shift, counted={"cash": D(1000)}, user=cashier), user=manager
    )
    return voided


def test_each_kind_of_suspicious_activity_is_found(a_day, cashier):
    today = timezone.localdate()

    found = suspicious_activity(today, today)

    assert [(r.kind, r.number, r.cashier, r.by, r.minutes) for r in found.quick_reversals] == [
        ("void", "R1-000001", "cashier", "manager", 0),
        ("refund", "R1-000002", "cashier", "manager", 0),
    ]
    assert [(who, reason) for _at, who, reason in found.drawer_openings] == [
        ("cashier", "Change for a note")
    ]
    (grace,) = found.cashiers
    assert (grace.name, grace.drawer_openings, grace.price_overrides) == ("cashier", 1, 1)
    assert (grace.discount_approvals, grace.reprints, grace.quick_reversals) == (1, 1, 2)
    assert (grace.shifts_closed, grace.shifts_short) == (1, 1)
    assert grace.over_short < 0
    assert [(who, amount) for _at, who, amount in found.over_short] == [
        ("cashier", grace.over_short)
    ]


def test_a_reversal_long_after_the_sale_is_not_listed(a_day):
    today = timezone.localdate()

    found = suspicious_activity(today, today, soon=datetime.timedelta(0))

    assert found.quick_reversals == []


def test_another_period_shows_nothing(a_day):
    last_year = timezone.localdate() - datetime.timedelta(days=365)

    found = suspicious_activity(last_year, last_year)

    assert (found.quick_reversals, found.cashiers, found.over_short) == ([], [], [])


def test_managers_see_the_page_and_download_its_tables(a_day, client, manager, cashier):
    client.login(username=manager.username, password=PASSWORD)

    page = client.get("/reports/suspicious/")
    csv = client.get("/reports/suspicious/?format=csv&table=by-cashier")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Voids and refunds within 15 minutes of the sale" in text
    assert "Change for a note" in text
    assert csv.status_code == 200
    assert "cashier" in csv.content.decode()
    client.logout()
    client.login(username=cashier.username, password=PASSWORD)
    assert client.get("/reports/suspicious/").status_code == 403
