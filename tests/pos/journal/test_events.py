"""Every event that moves money or stock, or changes what a customer owes, is journalled; each
one is rebuilt from its rows by the check, and a row edited afterwards is named."""

import json
from decimal import Decimal

import pytest

from pos.journal.verify import verify
from pos.models import Customer, JournalEntry
from pos.services.checkout import CartLine, TenderLine
from pos.services.counts import post_stock_count
from pos.services.invoices import cancel_invoice, record_invoice_payment
from pos.services.purchasing import create_purchase_order, mark_ordered, receive_purchase_order
from pos.services.shifts import close_shift, open_drawer, record_cash_movement, review_close
from pos.services.stock import adjust_stock
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
D = Decimal


def last(kind: str) -> tuple[JournalEntry, dict]:
    entry = JournalEntry.objects.filter(kind=kind).order_by("-id").first()
    assert entry is not None, f"no {kind} entry"
    return entry, json.loads(entry.payload)["data"]


def only_break(report):
    assert len(report.breaks) == 1, report.breaks
    return report.breaks[0]


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Hotel Mille Collines", credit_limit=D(200000))


def test_cash_in_and_out_are_journalled_and_an_edited_amount_is_named(shift, cashier, raw_sql):
    paid_in = record_cash_movement(
        shift=shift, kind="paid_in", amount=D(5000), reason="Change from the bank", user=cashier
    )
    record_cash_movement(
        shift=shift, kind="paid_out", amount=D(2000), reason="Cleaner", user=cashier
    )

    entry, data = last("cash_out")
    assert (entry.chain, data["amount"], data["reason"]) == (
        f"register:{shift.register_id}",
        "-2000.00",
        "Cleaner",
    )
    assert last("cash_in")[0].reference == f"pos.cashmovement:{paid_in.pk}"
    assert verify().ok

    raw_sql("UPDATE pos_cashmovement SET amount = 50000 WHERE id = %s", [paid_in.pk])
    problem = only_break(verify())
    assert (problem.kind, problem.problem) == (
        "cash_in",
        "amount is 5000.00 in the journal but 50000.00 in the database",
    )


def test_closing_a_shift_journals_the_counts_and_an_edited_over_short_is_named(
    sell, product, shift, cashier, manager, raw_sql
):
    sell((product, 1), tenders=[TenderLine("cash", D(12000))])
    ended = close_shift(shift=shift, counted={"cash": D(31000)}, user=cashier)
    review_close(shift=ended, user=manager)

    entry, data = last("shift_closed")
    assert entry.reference == f"pos.shift:{shift.pk}"
    assert data["over_short"] == "-1000.00"
    assert data["counts"]["cash"] == {
        "counted": "31000",
        "expected": "32000",
        "over_short": "-1000",
    }
    assert verify().ok

    raw_sql("UPDATE pos_shift SET over_short = 0 WHERE id = %s", [shift.pk])
    problem = only_break(verify())
    assert problem.problem == "over_short is -1000.00 in the journal but 0.00 in the database"


def test_the_drawer_opened_without_a_sale_is_journalled_from_the_till(client, cashier, shift):
    client.login(username=cashier.username, password=PASSWORD)

    refused = client.post("/register/shift/no-sale/", {"reason": ""}, follow=True)
    assert "Say why the drawer is opened." in refused.content.decode()
    assert not JournalEntry.objects.filter(kind="no_sale").exists()

    response = client.post("/register/shift/no-sale/", {"reason": "Change for a 5000 note"})
    assert response.status_code == 302
    entry, data = last("no_sale")
    assert entry.chain == f"register:{shift.register_id}"
    assert data == {
        "cashier_id": cashier.pk,
        "reason": "Change for a 5000 note",
        "user_id": cashier.pk,
    }
    page = client.get("/register/shift/").content.decode()
    assert "No sale: open the drawer" in page


def test_opening_the_drawer_needs_an_open_shift(shift, cashier):
    from pos import errors

    close_shift(shift=shift, counted={"cash": D(20000)}, user=cashier)
    with pytest.raises(errors.ShiftClosed):
        open_drawer(shift=shift, user=cashier, reason="Looking")


def test_every_receipt_print_after_the_first_is_a_journalled_reprint(
    client, cashier, sell, product
):
    sale = sell((product, 1))
    client.login(username=cashier.username, password=PASSWORD)

    client.get(f"/pos/sales/{sale.pk}/receipt/")
    assert not JournalEntry.objects.filter(kind="reprint").exists()
    copy = client.get(f"/pos/sales/{sale.pk}/receipt/")
    client.get(f"/pos/sales/{sale.pk}/receipt/")

    assert copy.context["is_copy"] is True
    copies = [
        json.loads(e.payload)["data"]["copy"] for e in JournalEntry.objects.filter(kind="reprint")
    ]
    assert copies == [1, 2]
    assert verify().ok


def test_a_price_override_is_journalled_beside_its_sale(sell, product, raw_sql):
    sale = sell(CartLine(product.pk, 2, unit_price=D(11000)))

    entry, data = last("price_override")
    assert entry.reference == f"pos.sale:{sale.pk}"
    assert data["lines"] == [
        {
            "product_id": product.pk,
            "quantity": "2.000",
            "shelf_price": "12000.00",
            "unit_price": "11000.00",
        }
    ]
    assert verify().ok

    raw_sql("UPDATE pos_saleline SET unit_price = 12000 WHERE sale_id = %s", [sale.pk])
    named = {(p.kind, p.problem) for p in verify().breaks}
    assert (
        "sale",
        "lines.0.unit_price is 11000.00 in the journal but 12000.00 in the database",
    ) in named
    assert ("price_override", "the price override it records is no longer in the database") in named


def test_a_discount_approval_names_the_manager(sell, product, manager, cashier):
    sale = sell(CartLine(product.pk, 1, discount=D(2000)), approved_by=manager)

    entry, data = last("discount_approval")
    assert entry.reference == f"pos.sale:{sale.pk}"
    assert (data["approved_by_id"], data["cashier_id"], data["discount_total"]) == (
        manager.pk,
        cashier.pk,
        "2000.00",
    )
    assert not JournalEntry.objects.filter(kind="price_override").exists()
    assert verify().ok


def test_payments_on_account_and_a_cancelled_invoice_are_journalled(
    sell, product, customer, shift, cashier, manager, raw_sql
):
    paid = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    record_invoice_payment(invoice=paid.invoice, amount=D(2000), tender="cash", user=cashier)
    record_invoice_payment(invoice=paid.invoice, amount=D(1000), tender="card", user=manager)
    cancelled = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    cancel_invoice(invoice=cancelled.invoice, user=manager, reason="Goods never left")

    till_payment, back_office_payment = JournalEntry.objects.filter(
        kind="account_payment"
    ).order_by("id")
    assert till_payment.chain == f"register:{shift.register_id}"
    assert back_office_payment.chain == "back_office"  # the manager has no shift
    entry, data = last("invoice_cancelled")
    assert (data["number"], data["status"], data["reason"]) == (
        cancelled.invoice.number,
        "cancelled",
        "Goods never left",
    )
    assert verify().ok

    raw_sql("UPDATE pos_invoice SET status = 'sent' WHERE id = %s", [cancelled.invoice.pk])
    problem = only_break(verify())
    assert problem.problem == "status is cancelled in the journal but sent in the database"


def test_stock_adjustments_counts_and_goods_received_are_journalled(
    product, make_product, supplier, manager, raw_sql
):
    movement = adjust_stock(
        product=product, quantity=-2, reason="Dropped", user=manager, kind="damaged"
    )
    post_stock_count(counted={product.pk: 5}, user=manager, name="Shelf A")
    order = mark_ordered(
        order=create_purchase_order(supplier=supplier, lines=[(product, 4, D(6000))], user=manager),
        user=manager,
    )
    receive_purchase_order(order=order, quantities={order.lines.get().pk: 4}, user=manager)

    kinds = list(
        JournalEntry.objects.filter(chain="back_office")
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == ["stock_adjustment", "stock_adjustment", "stock_count", "goods_receipt"]
    adjusted = json.loads(JournalEntry.objects.filter(kind="stock_adjustment").last().payload)
    assert adjusted["ref"] == f"pos.stockmovement:{movement.pk}"
    assert [
        (m["quantity"], m["stock_before"], m["stock_after"]) for m in adjusted["data"]["movements"]
    ] == [("-2.000", "10.000", "8.000")]
    counted = last("stock_count")[1]["movements"]
    assert [(m["kind"], m["quantity"], m["stock_after"]) for m in counted] == [
        ("count_correction", "-3.000", "5.000")
    ]
    received = last("goods_receipt")[1]["movements"]
    assert [(m["reference_type"], m["reference_id"], m["quantity"]) for m in received] == [
        ("pos.purchaseorder", str(order.pk), "4.000")
    ]
    assert verify().ok

    raw_sql("UPDATE pos_stockmovement SET quantity = -1 WHERE id = %s", [movement.pk])
    problem = only_break(verify())
    assert (problem.kind, problem.problem) == (
        "stock_adjustment",
        "movements.0.quantity is -2.000 in the journal but -1.000 in the database",
    )
