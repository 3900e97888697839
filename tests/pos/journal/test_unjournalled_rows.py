"""Event rows inserted past the services, by raw SQL, have no journal entry: the check names each
row; and entries whose row was deleted are named too.

Runs on SQLite and on PostgreSQL (there with the append-only triggers dropped for the test).
"""

import uuid
from decimal import Decimal

import pytest

from pos.journal.verify import verify
from pos.models import CashMovement, JournalEntry, Payment, Refund, Sale, StockMovement
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.shifts import record_cash_movement

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def clone(raw_sql):
    """Insert a copy of a row by SQL (as someone with database access would), with `changes`;
    returns the new row's id."""

    def copy(model, pk: int, **changes):
        columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
        picked = ["%s" if c in changes else c for c in columns]
        table = model._meta.db_table
        raw_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - the model's own names
            f"SELECT {', '.join(picked)} FROM {table} WHERE id = %s",
            [*[changes[c] for c in columns if c in changes], pk],
        )
        return model.objects.order_by("-pk").values_list("pk", flat=True).first()

    return copy


@pytest.fixture
def refund_and_cash_out(sell, product, shift, cashier, manager):
    """A refund of a sale and a cash out, both through their services."""
    sale = sell((product, 2))
    refund = refund_sale(
        sale=sale, shift=shift, user=manager, lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Faulty",
    )  # fmt: skip
    movement = record_cash_movement(
        shift=shift, kind="paid_out", amount=D(500), reason="lunch", user=cashier
    )
    return refund, movement


def unrecorded(report):
    """(reference, problem) of each row no entry records."""
    return [(b.reference, b.problem) for b in report.breaks if b.seq is None]


def test_an_intact_shop_has_every_row_recorded(sell, product, shift, cashier, manager):
    sale = sell((product, 2))
    refund_sale(
        sale=sale, shift=shift, user=manager, lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Faulty",
    )  # fmt: skip
    record_cash_movement(shift=shift, kind="paid_in", amount=D(500), reason="float", user=cashier)

    report = verify()

    assert report.ok, report.breaks


def test_a_sale_inserted_by_sql_is_named(sell, product, shift, clone):
    sale = sell((product, 1))
    copied = clone(Sale, sale.pk, number="R1-999999", idempotency_key=uuid.uuid4().hex)
    clone(Payment, sale.payments.get(is_change=False).pk, sale_id=copied)

    report = verify()

    # Its payment, written at its time, is part of it: the sale is the row named.
    assert unrecorded(report) == [(f"pos.sale:{copied}", "no journal entry records this sale")]
    named = next(b for b in report.breaks if b.reference == f"pos.sale:{copied}")
    assert named.chain == f"register:{sale.register_id}"
    assert str(named) == (
        f"register:{sale.register_id} (sale pos.sale:{copied}): no journal entry records this sale"
    )


def test_a_payment_added_to_a_recorded_sale_is_named(sell, product, clone):
    sale = sell((product, 1))
    payment = sale.payments.get(is_change=False)
    extra = clone(Payment, payment.pk, created_at=payment.created_at.replace(year=2020))

    assert unrecorded(verify()) == [
        (
            f"pos.payment:{extra}",
            "this payment of a sale is in no journal entry (not written with the sale or its void)",
        )
    ]


def test_a_refund_and_a_cash_movement_inserted_by_sql_are_named(refund_and_cash_out, clone):
    refund, movement = refund_and_cash_out
    copied_refund = clone(Refund, refund.pk, number="RF-999999")
    copied_cash = clone(CashMovement, movement.pk)

    assert unrecorded(verify()) == [
        (f"pos.refund:{copied_refund}", "no journal entry records this refund"),
        (f"pos.cashmovement:{copied_cash}", "no journal entry records this cash movement"),
    ]


def test_stock_movements_inserted_by_sql_are_named(sell, product, clone):
    sale = sell((product, 1))
    sold = StockMovement.objects.get(reference_type="pos.sale", reference_id=str(sale.pk))
    opening = StockMovement.objects.filter(product=product, kind="adjustment").get()
    # Stock taken out "for a sale" that does not exist, and stock adjusted past the services.
    for_nothing = clone(StockMovement, sold.pk, reference_id="999999")
    adjusted = clone(StockMovement, opening.pk)

    assert unrecorded(verify()) == [
        (
            f"pos.stockmovement:{for_nothing}",
            "no journal entry records the sale or refund of this stock movement",
        ),
        (
            f"pos.stockmovement:{adjusted}",
            "no stock entry of the journal lists this stock movement",
        ),
    ]


def test_entries_whose_refund_or_cash_movement_was_deleted_are_named(refund_and_cash_out, raw_sql):
    refund, movement = refund_and_cash_out
    raw_sql("DELETE FROM pos_payment WHERE refund_id = %s", [refund.pk])
    raw_sql("DELETE FROM pos_stockmovement WHERE reference_type = 'pos.refund'")
    raw_sql("DELETE FROM pos_refundline WHERE refund_id = %s", [refund.pk])
    raw_sql("DELETE FROM pos_refund WHERE id = %s", [refund.pk])
    raw_sql("DELETE FROM pos_cashmovement WHERE id = %s", [movement.pk])

    problems = [(b.kind, b.reference, b.problem) for b in verify().breaks]

    assert problems == [
        ("refund", f"pos.refund:{refund.pk}", "the refund it records is no longer in the database"),
        (
            "cash_out",
            f"pos.cashmovement:{movement.pk}",
            "the cash out it records is no longer in the database",
        ),
    ]


def test_an_extra_sale_movement_for_a_recorded_sale_is_named_by_its_entry(sell, product, clone):
    sale = sell((product, 2))
    sold = StockMovement.objects.get(reference_type="pos.sale", reference_id=str(sale.pk))
    # Stock taken out once more "for" a sale the journal already holds, past the services.
    clone(StockMovement, sold.pk, quantity=D(-3))

    (problem,) = verify().breaks

    entry = JournalEntry.objects.get(kind="sale", reference=f"pos.sale:{sale.pk}")
    assert (problem.chain, problem.seq, problem.kind, problem.reference) == (
        entry.chain,
        entry.seq,
        "sale",
        f"pos.sale:{sale.pk}",
    )
    assert problem.problem == (
        f"the stock movements of product {product.pk} add up to -5.000, the lines it records "
        "to -2.000"
    )


def test_a_changed_or_removed_void_or_refund_movement_is_named_by_its_entry(
    sell, product, shift, manager, raw_sql
):
    from pos.services.voids import void_sale

    voided = sell((product, 1))
    void_sale(sale=voided, user=manager, reason="Wrong item")
    refunded = sell((product, 3))
    refund = refund_sale(
        sale=refunded, shift=shift, user=manager,
        lines=[RefundLineInput(refunded.lines.get().pk, 2)], reason="Faulty",
    )  # fmt: skip
    raw_sql(
        "UPDATE pos_stockmovement SET quantity = 4 WHERE kind = 'refund' AND reference_type = "
        "'pos.refund' AND reference_id = %s",
        [str(refund.pk)],
    )
    raw_sql(
        "DELETE FROM pos_stockmovement WHERE kind = 'refund' AND reference_type = 'pos.sale' "
        "AND reference_id = %s",
        [str(voided.pk)],
    )

    problems = [(b.kind, b.reference, b.seq is not None, b.problem) for b in verify().breaks]

    assert problems == [
        (
            "refund",
            f"pos.refund:{refund.pk}",
            True,
            f"the stock movements of product {product.pk} add up to 4.000, the lines it "
            "records to 2.000",
        ),
        (
            "void",
            f"pos.sale:{voided.pk}",
            True,
            f"the stock movements of product {product.pk} add up to 0.000, the lines it "
            "records to 1.000",
        ),
    ]
