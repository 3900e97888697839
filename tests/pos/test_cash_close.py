"""The reviewed close: counts by denomination, drops and pay-outs, blind count, review.

Expected cash = opening + cash sales − cash refunds − drops − pay-outs + cash in; the cases the
anchors got wrong (a zero float, a shift without sales, a float that differs from the last
close, refunds paid in cash) each have a test.
"""

import uuid
from decimal import Decimal

import pytest

from pos import errors
from pos.journal.verify import verify
from pos.models import JournalEntry, Shift, ShopSettings
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.shifts import (
    cash_breakdown,
    close_shift,
    count_cash,
    end_shift,
    expected_cash,
    open_shift,
    record_cash_movement,
    review_close,
)

pytestmark = pytest.mark.django_db
D = Decimal


def journal_kinds(shift):
    return list(
        JournalEntry.objects.filter(chain=f"register:{shift.register_id}")
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def test_a_count_by_denomination_is_totalled_and_checked_against_the_shop_list(db):
    counted = count_cash({"5000": 3, "1000": "2", "100": 7, "50": "", "1": 0})
    assert counted.total == D(17700)
    assert counted.pieces == {"5000": 3, "1000": 2, "100": 7}
    with pytest.raises(errors.InvalidTender) as caught:
        count_cash({"3000": 1})
    assert "denominations.3000" in caught.value.fields
    with pytest.raises(errors.InvalidTender, match="whole number"):
        count_cash({"500": "1.5"})
    with pytest.raises(errors.InvalidTender, match="whole number"):
        count_cash({"500": -1})

    shop = ShopSettings.load()
    shop.cash_denominations = "10000, 5000, 2000, 1000, 500, 100"
    shop.save()
    assert count_cash({"10000": 2}).total == D(20000)
    with pytest.raises(errors.InvalidTender):
        count_cash({"1": 5})  # no longer counted in this shop


def test_the_float_is_counted_note_by_note(register, cashier):
    shift = open_shift(
        register=register, cashier=cashier, opening_count={"5000": 2, "1000": 4, "100": 10}
    )
    assert shift.opening_float == D(15000)
    assert shift.opening_count == {"5000": 2, "1000": 4, "100": 10}
    entry = JournalEntry.objects.get(kind="shift_opened")
    assert '"opening_float":"15000.00"' in entry.payload


def test_a_typed_float_that_disagrees_with_its_count_is_refused(register, cashier):
    with pytest.raises(errors.InvalidPrice, match="differs"):
        open_shift(register=register, cashier=cashier, opening_float=D(1), opening_count={"500": 1})
    assert not Shift.objects.exists()


def test_expected_cash_is_opening_plus_sales_less_refunds_drops_and_pay_outs_plus_cash_in(
    sell, product, shift, cashier, manager
):
    sale = sell((product, 2), tenders=[TenderLine("cash", D(30000))])  # 24000, 6000 change
    sell((product, 1), tenders=[TenderLine("mobile_money", D(12000), reference="MP1")])
    refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Faulty",
    )  # 12000 back in cash
    record_cash_movement(shift=shift, kind="paid_in", amount=D(3000), reason="Top-up", user=cashier)
    record_cash_movement(
        shift=shift, kind="drop", amount=D(20000), reason="To the safe", user=cashier
    )
    record_cash_movement(shift=shift, kind="paid_out", amount=D(1500), reason="Water", user=cashier)

    parts = cash_breakdown(shift)
    assert parts == {
        "opening_float": D(20000),
        "sales": D(24000),
        "invoice_payments": D(0),
        "refunds": D(-12000),
        "paid_in": D(3000),
        "paid_out": D(-1500),
        "drops": D(-20000),
        "expected": D(20000 + 24000 - 12000 - 20000 - 1500 + 3000),
    }
    assert expected_cash(shift) == parts["expected"] == D(13500)

    ended = end_shift(
        shift=shift, counted={"cash": D(13500), "mobile_money": D(12000)}, user=cashier
    )
    closed = review_close(shift=ended, user=manager)
    assert closed.over_short == D(0)
    assert closed.z_report["cash"]["drops"] == "-20000"
    assert closed.z_report["cash"]["refunds"] == "-12000"
    assert closed.z_report["counts"]["mobile_money"]["over_short"] == "0"


def test_a_drop_cannot_take_more_than_the_drawer_holds(shift, cashier):
    with pytest.raises(errors.InvalidTender, match="not that much cash"):
        record_cash_movement(shift=shift, kind="drop", amount=D(20001), reason="Bank", user=cashier)
    movement = record_cash_movement(
        shift=shift, kind="drop", amount=D(20000), reason="Bank", user=cashier
    )
    assert movement.amount == D(-20000)
    entry = JournalEntry.objects.get(kind="cash_out")
    assert '"kind":"drop"' in entry.payload


def test_a_shift_without_sales_and_a_zero_float_balances_at_zero(register, cashier, manager):
    shift = open_shift(register=register, cashier=cashier, opening_float=D(0))
    ended = end_shift(shift=shift, counted={"cash": D(0)}, user=cashier)
    closed = review_close(shift=ended, user=manager)
    assert closed.over_short == D(0)
    assert closed.z_report["counts"]["cash"] == {"expected": "0", "counted": "0", "over_short": "0"}
    assert closed.z_report["sales"]["count"] == 0


def test_a_zero_float_does_not_book_the_takings_as_a_difference(
    register, cashier, manager, make_product
):
    shift = open_shift(register=register, cashier=cashier, opening_float=D(0))
    product = make_product(stock=5)
    checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(product.pk, 1)], D(0), None),
        tenders=[TenderLine("cash", D(12000))],
        idempotency_key=uuid.uuid4(),
    )
    closed = close_shift(shift=shift, counted={"cash": D(12000)}, user=manager)
    assert closed.over_short == D(0)


def test_a_float_that_differs_from_the_last_close_is_not_a_difference_of_this_shift(
    register, cashier, manager
):
    first = open_shift(register=register, cashier=cashier, opening_float=D(20000))
    review_close(
        shift=end_shift(shift=first, counted={"cash": D(20000)}, user=cashier), user=manager
    )
    # The next cashier finds (and counts) 15000: 5000 went to the safe between shifts.
    second = open_shift(register=register, cashier=cashier, opening_count={"5000": 3})
    closed = review_close(
        shift=end_shift(shift=second, counted={}, denominations={"5000": 3}, user=cashier),
        user=manager,
    )
    assert closed.over_short == D(0)
    assert closed.z_report["count"]["opening"] == {"5000": 3}
    first.refresh_from_db()
    assert first.over_short == D(0)  # stored once, never recomputed


def test_the_cashier_counts_blind_and_a_manager_reviews_and_closes(
    sell, product, shift, cashier, manager
):
    sell((product, 1), tenders=[TenderLine("cash", D(12000))])
    ended = close_shift(
        shift=shift,
        counted={"card": D(0)},
        denominations={"5000": 6, "1000": 1, "500": 1},  # 31500: 500 short
        user=cashier,
        note="Counted twice",
    )
    assert ended.status == Shift.Status.ENDED
    assert ended.over_short is None and ended.z_report == {}
    assert ended.closing_count == {
        "counted": {"cash": "31500", "card": "0"},
        "denominations": {"5000": 6, "1000": 1, "500": 1},
    }
    assert ended.expected["cash"] == "32000"
    # Ended: nothing more lands on it.
    with pytest.raises(errors.ShiftClosed):
        record_cash_movement(shift=shift, kind="paid_in", amount=D(1), reason="x", user=cashier)
    with pytest.raises(errors.ShiftClosed):
        end_shift(shift=shift, counted={"cash": D(1)}, user=cashier)
    # A cashier cannot review (their own or anyone's).
    with pytest.raises(errors.NotAllowed):
        review_close(shift=ended, user=cashier)

    closed = review_close(shift=ended, user=manager, note="Accepted")
    assert closed.status == Shift.Status.CLOSED
    assert closed.over_short == D(-500)
    assert closed.closed_by == manager and closed.ended_by == cashier
    assert closed.z_report["counts"]["cash"] == {
        "expected": "32000",
        "counted": "31500",
        "over_short": "-500",
    }
    assert closed.z_report["count"]["closing"] == {"5000": 6, "1000": 1, "500": 1}
    assert journal_kinds(shift) == ["shift_opened", "sale", "shift_ended", "shift_closed"]
    assert verify().ok
    with pytest.raises(errors.ShiftClosed):
        review_close(shift=closed, user=manager)


def test_a_recount_with_a_second_person_stands_and_keeps_the_first_count(
    shift, cashier, manager, make_user
):
    ended = end_shift(shift=shift, counted={"cash": D(18000)}, user=cashier)
    with pytest.raises(errors.NotAllowed, match="second person"):
        review_close(shift=ended, user=manager, recount={"cash": D(20000)})
    with pytest.raises(errors.NotAllowed, match="second person"):
        review_close(shift=ended, user=manager, recount={"cash": D(20000)}, witness=manager)
    witness = make_user("witness", "cashier")
    closed = review_close(
        shift=ended,
        user=manager,
        recount_denominations={"5000": 4},
        witness=witness,
    )
    assert closed.over_short == D(0)
    assert closed.closing_count["counted"] == {"cash": "18000"}  # the cashier's, kept
    assert closed.z_report["count"]["recount"]["witness"] == "witness"
    entry = JournalEntry.objects.get(kind="shift_closed")
    assert f'"witness_id":{witness.pk}' in entry.payload
    assert verify().ok


def test_an_edited_count_after_the_end_is_caught_by_the_journal(shift, cashier):
    end_shift(shift=shift, counted={"cash": D(18000)}, user=cashier)
    assert verify().ok
    Shift.objects.filter(pk=shift.pk).update(
        closing_count={"counted": {"cash": "20000"}, "denominations": {}}
    )
    assert not verify().ok


def test_without_review_the_cashiers_count_closes_at_once(shift, cashier):
    shop = ShopSettings.load()
    shop.review_shift_close = False
    shop.save()
    closed = close_shift(shift=shift, counted={"cash": D(19000)}, user=cashier)
    assert closed.status == Shift.Status.CLOSED
    assert closed.over_short == D(-1000)


def test_shifts_closed_before_the_reviewed_close_are_migrated_from_their_z_report(
    shift, cashier, manager
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("pos.migrations.0021_reviewed_close")
    closed = close_shift(shift=shift, counted={"cash": D(19500), "card": D(0)}, user=manager)
    # As a shift closed before migration 0021 stands: no end, no stored count.
    Shift.objects.filter(pk=shift.pk).update(
        ended_at=None, ended_by=None, closing_count={}, expected={}
    )
    migration.closed_shifts_were_counted_at_close(apps, None)

    migrated = Shift.objects.get(pk=shift.pk)
    assert migrated.ended_at == closed.closed_at and migrated.ended_by == manager
    assert migrated.closing_count == {
        "counted": {"cash": "19500", "card": "0"},
        "denominations": {},
    }
    assert migrated.expected["cash"] == "20000"
    assert migrated.over_short == D(-500) and migrated.z_report == closed.z_report
