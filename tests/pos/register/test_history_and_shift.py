"""Receipt, sales history with reprint, voids and refunds with a manager override, the shift."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from pos.models import Refund, Sale, Shift, ShopSettings
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_receipt_offers_a_new_sale_and_reprint_says_copy(till, sell, product):
    sale = sell((product, 1))
    first = till.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    assert "New sale" in first and "COPY" not in first
    history = till.get(reverse("register:history")).content.decode()
    assert sale.number in history and "Reprint" in history
    again = till.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    assert "COPY" in again


def test_history_search_by_receipt_number(till, sell, product):
    a, b = sell((product, 1)), sell((product, 1))
    response = till.get(reverse("register:history"), {"q": b.number[-3:]})
    assert list(response.context["sales"]) == [b]
    assert a.number not in response.content.decode()


def test_cashier_refund_needs_manager_credentials_and_is_audited_with_both_names(
    till, sell, product, manager, django_capture_on_commit_callbacks
):
    sale = sell((product, 2))
    line = sale.lines.get()
    url = reverse("register:refund", args=[sale.pk])
    data = {f"qty_{line.pk}": "1", "reason": "Faulty", "tender": "cash"}
    response = till.post(url, data)
    assert "A manager must approve this" in response.content.decode()
    assert not Refund.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = till.post(
            url, {**data, "manager_username": "manager", "manager_password": PASSWORD}
        )
    refund = Refund.objects.get()
    assert response["Location"] == reverse("pos:refund_slip", args=[refund.pk])
    assert refund.total == Decimal("12000") and refund.created_by == manager
    assert "Completed · 1 refund" in till.get(reverse("register:history")).content.decode()
    entry = AuditLog.objects.get(action="sale.refund_override")
    assert entry.actor == manager and entry.details["at_the_till"] == "cashier"


def test_refund_more_than_sold_is_refused(till, sell, product, manager):
    sale = sell((product, 1))
    line = sale.lines.get()
    response = till.post(
        reverse("register:refund", args=[sale.pk]),
        {
            f"qty_{line.pk}": "2",
            "reason": "x",
            "tender": "cash",
            "manager_username": "manager",
            "manager_password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Refund.objects.exists()


def test_void_with_manager_override(
    till, sell, product, manager, cashier, django_capture_on_commit_callbacks
):
    sale = sell((product, 1))
    url = reverse("register:void", args=[sale.pk])
    response = till.post(url, {"reason": "Wrong item", "manager_username": "manager"})
    assert "Manager username or password is wrong." in response.content.decode()
    response = till.post(url, {"reason": "Wrong item"})
    assert "A manager must approve this" in response.content.decode()
    approved = {"reason": "Wrong item", "manager_username": "manager", "manager_password": PASSWORD}
    with django_capture_on_commit_callbacks(execute=True):
        till.post(url, approved)
    sale.refresh_from_db()
    assert sale.status == Sale.Status.VOIDED and sale.voided_by == manager
    # Written by void_sale in the void's own transaction: the approver and who was at the till.
    (override,) = AuditLog.objects.filter(action="sale.void_override", actor=manager)
    assert override.details["at_the_till"] == cashier.username

    # A second void is refused by the service: no approval is recorded for it.
    with django_capture_on_commit_callbacks(execute=True):
        response = till.post(url, approved)
    assert "already voided" in response.content.decode()
    assert AuditLog.objects.filter(action="sale.void_override").count() == 1


def test_cash_in_and_out_then_close_with_counts_and_z_report(till, shift, sell, product):
    shop = ShopSettings.load()
    shop.review_shift_close = False  # the cashier's count closes at once
    shop.save()
    sell((product, 1))  # 12,000 cash
    response = till.post(
        reverse("register:shift"),
        {"cash_movement": "1", "kind": "paid_out", "amount": "2000", "reason": "Airtime"},
    )
    assert response["Location"] == reverse("register:shift")
    response = till.post(
        reverse("register:shift"),
        {"cash_movement": "1", "kind": "paid_out", "amount": "999999", "reason": "Too much"},
    )
    assert "not that much cash" in response.content.decode()

    response = till.post(
        reverse("register:shift"), {"close": "1", "counted_cash": "29000"}, follow=True
    )
    shift.refresh_from_db()
    assert shift.status == Shift.Status.CLOSED
    assert shift.over_short == Decimal("-1000")  # 20,000 + 12,000 - 2,000 = 30,000 expected
    page = response.content.decode()
    assert "Z-report" in page
    assert "30,000 RWF" in page and "29,000 RWF" in page and "-1,000 RWF" in page
    assert "Open a new shift" in page


def test_close_without_counting_cash_is_refused_next_to_the_field(till, shift):
    response = till.post(reverse("register:shift"), {"close": "1", "counted_cash": ""})
    assert "counted_cash" in response.context["close_form"].errors
    shift.refresh_from_db()
    assert shift.status == Shift.Status.OPEN


def test_another_cashiers_z_report_is_refused(client, shift, make_user):
    make_user("someone", "cashier")
    client.login(username="someone", password=PASSWORD)
    response = client.get(reverse("register:z_report", args=[shift.pk]))
    assert response.status_code == 403
