from decimal import Decimal

import pytest

from pos import errors
from pos.models import Register, Shift
from pos.services.checkout import TenderLine
from pos.services.shifts import (
    close_shift,
    expected_by_tender,
    open_shift,
    record_cash_movement,
    review_close,
)

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_register_has_at_most_one_open_shift(register, shift, make_user):
    other = make_user("clerk", "cashier")
    with pytest.raises(errors.ShiftAlreadyOpen, match="Till 1 already has an open shift"):
        open_shift(register=register, cashier=other, opening_float=D(0))


def test_a_cashier_has_at_most_one_open_shift(shift, cashier):
    till_two = Register.objects.create(name="Till 2", code="R2")
    with pytest.raises(errors.ShiftAlreadyOpen, match="already have an open shift"):
        open_shift(register=till_two, cashier=cashier, opening_float=D(0))


def test_negative_float_is_refused(register, cashier):
    with pytest.raises(errors.InvalidPrice):
        open_shift(register=register, cashier=cashier, opening_float=D(-1))
    assert not Shift.objects.exists()


def test_expected_cash_is_float_plus_cash_taken_less_change_plus_paid_in_less_paid_out(
    sell, product, shift, cashier
):
    sell((product, 1), tenders=[TenderLine("cash", D(15000))])  # 3000 change
    sell(
        (product, 1),
        tenders=[TenderLine("mobile_money", D(12000), reference="MP.1")],
    )
    sell((product, 1), tenders=[TenderLine("card", D(2000)), TenderLine("cash", D(10000))])
    record_cash_movement(
        shift=shift, kind="paid_in", amount=D(5000), reason="Change float top-up", user=cashier
    )
    record_cash_movement(
        shift=shift,
        kind="paid_out",
        amount=D(1500),
        reason="Airtime for the shop phone",
        user=cashier,
    )

    expected = expected_by_tender(shift)
    assert expected["cash"] == D(20000) + D(12000) + D(10000) + D(5000) - D(1500)
    assert expected["mobile_money"] == D(12000)
    assert expected["card"] == D(2000)


def test_cash_out_needs_a_reason_and_cash_in_the_drawer(shift, cashier):
    with pytest.raises(errors.ReasonRequired):
        record_cash_movement(shift=shift, kind="paid_out", amount=D(100), reason=" ", user=cashier)
    with pytest.raises(errors.InvalidTender, match="not that much cash"):
        record_cash_movement(
            shift=shift, kind="paid_out", amount=D(20001), reason="x", user=cashier
        )


def test_close_computes_over_short_and_the_z_report(sell, make_product, shift, cashier, manager):
    cable = make_product(stock=10, retail_price=D(3000), minimum_price=D(2000))
    charger = make_product(stock=10)
    sell((charger, 1), (cable, 2), tenders=[TenderLine("cash", D(20000))])  # total 18000
    sell(
        (cable, 1),
        tenders=[TenderLine("mobile_money", D(3000), reference="MP.2")],
        order_discount=D(0),
    )

    ended = close_shift(
        shift=shift,
        counted={"cash": D(37500), "mobile_money": D(3000)},
        user=cashier,
        note="500 short",
    )
    assert ended.status == "ended"  # the cashier counted blind; a manager reviews
    closed = review_close(shift=ended, user=manager)
    assert closed.status == "closed"
    assert closed.over_short == D(-500)  # expected 20000 + 18000
    report = closed.z_report
    assert report["sales"]["count"] == 2
    assert report["sales"]["total"] == "21000"
    assert report["counts"]["cash"] == {
        "expected": "38000",
        "counted": "37500",
        "over_short": "-500",
    }
    assert report["by_tender"]["cash"] == {"net": "18000", "change": "-2000"}
    assert [c["total"] for c in report["by_category"]] == ["21000"]
    assert report["sales"]["tax"] == str(sum(s.tax_total for s in shift.sales.all()).quantize(D(1)))


def test_a_closed_shift_is_immutable(shift, cashier):
    close_shift(shift=shift, counted={"cash": D(20000)}, user=cashier)
    with pytest.raises(errors.ShiftClosed):
        close_shift(shift=shift, counted={"cash": D(20000)}, user=cashier)
    with pytest.raises(errors.ShiftClosed):
        record_cash_movement(shift=shift, kind="paid_in", amount=D(1), reason="x", user=cashier)


def test_only_a_manager_closes_another_cashiers_shift(
    shift, make_user, manager, django_capture_on_commit_callbacks
):
    from accounts.models import AuditLog

    other = make_user("clerk", "cashier")
    with pytest.raises(errors.NotAllowed):
        close_shift(shift=shift, counted={"cash": D(20000)}, user=other)
    with django_capture_on_commit_callbacks(execute=True):
        closed = close_shift(shift=shift, counted={"cash": D(20000)}, user=manager)
    assert closed.closed_by == manager
    assert AuditLog.objects.filter(action="shift.closed", actor=manager).exists()


def test_closing_needs_the_cash_count(shift, cashier):
    with pytest.raises(errors.InvalidTender) as caught:
        close_shift(shift=shift, counted={}, user=cashier)
    assert "counted.cash" in caught.value.fields
    shift.refresh_from_db()
    assert shift.status == "open"
