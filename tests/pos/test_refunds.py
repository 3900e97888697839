import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditLog
from core.errors import NotFound
from pos import errors
from pos.models import Invoice, Payment, Refund, RefundLine, Register, StockMovement
from pos.selectors import refund_history
from pos.services.checkout import CartLine, TenderLine
from pos.services.customers import create_customer
from pos.services.refunds import (
    NoReceiptLine,
    RefundLineInput,
    refund_sale,
    refund_share,
    refund_without_receipt,
)
from pos.services.shifts import close_shift, expected_cash, open_shift, z_report
from pos.services.voids import void_sale
from tests.pos.ledger_checks import assert_ledgers_hold, snapshot

pytestmark = pytest.mark.django_db
D = Decimal


def cash(amount):
    return [TenderLine("cash", D(amount))]


def refund(sale, shift, user, *lines, reason="Faulty", **kwargs):
    """refund(sale, shift, user, (sale_line, qty[, restock]), ...)"""
    inputs = [RefundLineInput(line.pk, qty, *rest) for line, qty, *rest in lines]
    return refund_sale(sale=sale, shift=shift, user=user, lines=inputs, reason=reason, **kwargs)


def with_perms(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh permission cache


def test_a_partial_cash_refund_with_restock(
    sell, product, shift, manager, django_capture_on_commit_callbacks
):
    sale = sell((product, 3), tenders=cash(36000))
    line = sale.lines.get()
    assert expected_cash(shift) == D(56000)

    with django_capture_on_commit_callbacks(execute=True):
        done = refund(sale, shift, manager, (line, 1), reason="Does not charge")

    assert done.number == "R1-RF-000001"
    assert (done.total, done.tax_total, done.tender, done.sale) == (
        D(12000),
        D(1831),  # 12000 × 18 / 118 = 1830.5, half up
        "cash",
        sale,
    )
    refund_line = done.lines.get()
    assert (refund_line.sale_line, refund_line.quantity, refund_line.unit_price) == (
        line,
        1,
        D(12000),
    )
    payment = done.payments.get()
    assert (payment.tender, payment.amount, payment.shift, payment.sale) == (
        "cash",
        D(-12000),
        shift,
        None,
    )
    product.refresh_from_db()
    assert product.stock_on_hand == 8
    movement = StockMovement.objects.get(reference_type="pos.refund")
    assert (movement.kind, movement.quantity, movement.reference_label) == (
        "refund",
        1,
        "Refund R1-RF-000001",
    )
    # The drawer pays it out; the Z-report counts it.
    assert expected_cash(shift) == D(44000)
    report = z_report(shift)
    assert (report["refunds"]["count"], D(report["refunds"]["total"])) == (1, D(12000))
    assert D(report["by_tender"]["cash"]["net"]) == D(24000)
    closed = close_shift(shift=shift, counted={"cash": D(44000)}, user=manager)
    assert closed.over_short == 0
    assert closed.z_report["refunds"]["count"] == 1
    entry = AuditLog.objects.get(action="sale.refunded")
    assert (entry.actor, entry.target_id, entry.details["refund"]) == (
        manager,
        str(sale.pk),
        "R1-RF-000001",
    )
    assert [r.number for r in refund_history(sale)] == ["R1-RF-000001"]
    assert_ledgers_hold()


def test_partial_refunds_of_a_line_add_up_to_exactly_its_total(sell, make_product, shift, manager):
    product = make_product(stock=5)
    sale = sell(CartLine(product.pk, 3, discount=D(1000)))  # 36000 − 1000 = 35000 for 3
    line = sale.lines.get()
    assert line.total == D(35000)

    amounts = [refund(sale, shift, manager, (line, 1)).total for _ in range(3)]

    assert amounts == [D(11667), D(11666), D(11667)]  # 11666.67, 23333.33 → 23333, 35000
    assert sum(amounts) == line.total
    taxes = RefundLine.objects.filter(sale_line=line).aggregate(t=Sum("tax"))["t"]
    assert taxes == line.tax
    numbers = list(Refund.objects.order_by("id").values_list("number", flat=True))
    assert numbers == ["R1-RF-000001", "R1-RF-000002", "R1-RF-000003"]
    with pytest.raises(errors.InvalidQuantity, match=r"Only 0 .* \(3 sold, 3 already returned\)"):
        refund(sale, shift, manager, (line, 1))
    history = list(refund_history(sale))
    assert [len(r.lines.all()) for r in history] == [1, 1, 1]
    assert_ledgers_hold()


def test_refund_numbers_are_per_register(sell, product, shift, manager):
    sale = sell((product, 2))
    line = sale.lines.get()
    first = refund(sale, shift, manager, (line, 1))
    other = Register.objects.create(name="Till 2", code="R2")
    manager_shift = open_shift(register=other, cashier=manager, opening_float=D(50000))
    second = refund(sale, manager_shift, manager, (line, 1))
    assert (first.number, second.number) == ("R1-RF-000001", "R2-RF-000001")
    assert second.payments.get().shift == manager_shift


def test_a_damaged_item_is_refunded_without_going_back_on_the_shelf(
    sell, product, make_product, shift, manager
):
    cable = make_product(stock=4)
    sale = sell((product, 2), (cable, 1))
    phone_line, cable_line = sale.lines.order_by("pk")
    movements = StockMovement.objects.count()

    done = refund(sale, shift, manager, (phone_line, 2, False), (cable_line, 1, True))

    product.refresh_from_db()
    cable.refresh_from_db()
    assert (product.stock_on_hand, cable.stock_on_hand) == (8, 4)
    assert StockMovement.objects.count() == movements + 1
    assert sorted(done.lines.values_list("restock", flat=True)) == [False, True]
    assert done.total == sale.total
    assert_ledgers_hold()


def test_refund_to_account_lowers_the_customer_balance(sell, product, shift, manager):
    customer = create_customer(name="Aline", phone="0788123456", credit_limit=D(100000))
    sale = sell((product, 2), customer=customer, tenders=[TenderLine("account", D(24000))])
    line = sale.lines.get()

    refund(sale, shift, manager, (line, 1), tender="account")

    customer.refresh_from_db()
    assert (customer.balance, customer.total_spent, customer.visits) == (D(12000), D(12000), 1)
    assert expected_cash(shift) == D(20000)  # no cash left the drawer
    assert Invoice.objects.get(sale=sale).balance_due == D(12000)
    assert_ledgers_hold()


def test_returning_unpaid_credit_goods_credits_the_invoice_not_the_drawer(
    sell, product, shift, manager
):
    customer = create_customer(name="Aline", phone="0788123456", credit_limit=D(100000))
    sale = sell((product, 2), customer=customer, tenders=[TenderLine("account", D(24000))])
    line = sale.lines.get()

    first = refund(sale, shift, manager, (line, 1))  # asked for cash: but nothing was paid yet
    assert [(p.tender, p.amount) for p in first.payments.all()] == [("account", D(-12000))]
    assert expected_cash(shift) == D(20000)
    invoice = Invoice.objects.get(sale=sale)
    assert (invoice.credited, invoice.balance_due, invoice.status) == (D(12000), D(12000), "sent")
    customer.refresh_from_db()
    assert customer.balance == D(12000)

    refund(sale, shift, manager, (line, 1))
    invoice.refresh_from_db()
    customer.refresh_from_db()
    assert (invoice.balance_due, invoice.status) == (D(0), "cancelled")
    assert (customer.balance, customer.total_spent) == (D(0), D(0))
    assert expected_cash(shift) == D(20000)
    assert_ledgers_hold()


def test_a_partly_paid_credit_sale_pays_out_only_what_was_paid(sell, product, shift, manager):
    from pos.services.invoices import record_invoice_payment

    customer = create_customer(name="Aline", phone="0788123456", credit_limit=D(100000))
    sale = sell((product, 2), customer=customer, tenders=[TenderLine("account", D(24000))])
    record_invoice_payment(
        invoice=sale.invoice, amount=D(20000), tender="cash", user=manager, shift=shift
    )

    returned = refund(sale, shift, manager, (sale.lines.get(), 2))

    payouts = sorted((p.tender, p.amount) for p in returned.payments.all())
    assert payouts == [("account", D(-4000)), ("cash", D(-20000))]
    invoice = Invoice.objects.get(sale=sale)
    customer.refresh_from_db()
    assert (invoice.balance_due, invoice.status, customer.balance) == (D(0), "paid", D(0))
    assert_ledgers_hold()


def test_refund_to_account_needs_a_customer(sell, product, shift, manager):
    sale = sell((product, 1))
    before = snapshot()
    with pytest.raises(errors.InvalidTender, match="customer") as caught:
        refund(sale, shift, manager, (sale.lines.get(), 1), tender="account")
    assert "tender" in caught.value.fields
    with pytest.raises(errors.InvalidTender, match="Unknown tender"):
        refund(sale, shift, manager, (sale.lines.get(), 1), tender="bitcoin")
    assert snapshot() == before


def test_a_cash_refund_cannot_exceed_the_cash_in_the_drawer(sell, product, shift, manager):
    sale = sell((product, 3), tenders=[TenderLine("card", D(36000))])
    line = sale.lines.get()
    before = snapshot()
    with pytest.raises(errors.NotEnoughCashInDrawer, match="should hold 20,000 RWF") as caught:
        refund(sale, shift, manager, (line, 2))  # 24000 > the 20000 float
    assert "tender" in caught.value.fields
    assert snapshot() == before
    assert refund(sale, shift, manager, (line, 2), tender="card").total == D(24000)
    assert_ledgers_hold()


@pytest.mark.parametrize(
    ("quantity", "match"),
    [(3, r"Only 2 of .* \(2 sold, 0 already returned\)"), (0, "more than 0"), (-1, "more than 0")],
)
def test_bad_quantities_are_refused_and_nothing_is_written(
    sell, product, shift, manager, quantity, match
):
    sale = sell((product, 2))
    before = snapshot()
    with pytest.raises(errors.InvalidQuantity, match=match) as caught:
        refund(sale, shift, manager, (sale.lines.get(), quantity))
    assert "lines.0.quantity" in caught.value.fields
    assert snapshot() == before


def test_bad_lines_are_refused_and_nothing_is_written(sell, product, shift, manager):
    sale = sell((product, 2))
    other_sale = sell((product, 1))
    line = sale.lines.get()
    before = snapshot()
    with pytest.raises(NotFound, match="has no line") as caught:
        refund_sale(
            sale=sale, shift=shift, user=manager, lines=[RefundLineInput(999999, 1)], reason="x"
        )
    assert "lines.0.sale_line_id" in caught.value.fields
    with pytest.raises(NotFound, match="has no line"):
        refund(sale, shift, manager, (other_sale.lines.get(), 1))
    with pytest.raises(errors.InvalidQuantity, match="only once"):
        refund(sale, shift, manager, (line, 1), (line, 1))
    with pytest.raises(errors.InvalidQuantity, match="Choose what"):
        refund_sale(sale=sale, shift=shift, user=manager, lines=[], reason="x")
    with pytest.raises(errors.InvalidQuantity, match="whole number"):
        refund(sale, shift, manager, (line, 1.5))
    with pytest.raises(errors.ReasonRequired) as caught:
        refund(sale, shift, manager, (line, 1), reason=" ")
    assert "reason" in caught.value.fields
    assert snapshot() == before


def test_a_cashier_cannot_refund(sell, product, shift, cashier):
    sale = sell((product, 1))
    before = snapshot()
    with pytest.raises(errors.NotAllowed, match="Only a manager"):
        refund(sale, shift, cashier, (sale.lines.get(), 1))
    with pytest.raises(errors.NotAllowed, match="without a receipt"):
        refund_without_receipt(
            shift=shift,
            user=cashier,
            lines=[NoReceiptLine(product.pk, 1, D(12000))],
            reason="x",
        )
    assert snapshot() == before


def test_refunds_only_from_your_own_shift_unless_you_may_close_any(
    sell, product, shift, make_user, register
):
    sale = sell((product, 1))
    supervisor = with_perms(make_user("supervisor", "cashier"), "refund_sale")
    before = snapshot()
    with pytest.raises(errors.NotAllowed, match="another cashier's shift"):
        refund(sale, shift, supervisor, (sale.lines.get(), 1))
    assert snapshot() == before


def test_no_refund_from_a_closed_shift(sell, product, shift, manager):
    sale = sell((product, 1), tenders=cash(12000))
    close_shift(shift=shift, counted={"cash": D(32000)}, user=manager)
    before = snapshot()
    with pytest.raises(errors.ShiftClosed, match="open shift") as caught:
        refund(sale, shift, manager, (sale.lines.get(), 1))
    assert "shift" in caught.value.fields
    assert snapshot() == before


def test_a_voided_sale_and_a_refund_cannot_be_refunded(sell, product, shift, manager):
    sale = sell((product, 2))
    kept = sell((product, 2))
    done = refund(kept, shift, manager, (kept.lines.get(), 1))
    void_sale(sale=sale, user=manager, reason="Mistake")
    before = snapshot()
    with pytest.raises(errors.RefundNotAllowed, match="was voided"):
        refund(sale, shift, manager, (sale.lines.get(), 1))
    with pytest.raises(errors.RefundNotAllowed, match="not a refund"):
        refund_sale(
            sale=done,
            shift=shift,
            user=manager,
            lines=[RefundLineInput(done.lines.get().pk, 1)],
            reason="x",
        )
    assert snapshot() == before


def test_refund_without_a_receipt(
    product, make_product, shift, manager, django_capture_on_commit_callbacks
):
    cable = make_product(stock=0)
    with django_capture_on_commit_callbacks(execute=True):
        done = refund_without_receipt(
            shift=shift,
            user=manager,
            lines=[
                NoReceiptLine(product.pk, 2, D(4000)),
                NoReceiptLine(cable.pk, 1, D(12000), restock=False),
            ],
            reason="Returned without receipt, checked by Eric",
        )
    assert (done.number, done.sale, done.total) == ("R1-RF-000001", None, D(20000))
    assert done.tax_total == D(1220) + D(1831)  # VAT included in each line's price
    assert done.payments.get().amount == D(-20000)
    product.refresh_from_db()
    cable.refresh_from_db()
    assert (product.stock_on_hand, cable.stock_on_hand) == (12, 0)
    assert expected_cash(shift) == D(0)  # the whole float went back to the customer
    entry = AuditLog.objects.get(action="refund.without_receipt")
    assert (entry.actor, entry.target_id) == (manager, str(done.pk))
    assert entry.details["lines"][0] == {
        "product_id": product.pk,
        "quantity": 2,
        "price": "4000",
    }
    assert_ledgers_hold()


def test_refund_without_a_receipt_refuses_bad_input(
    product, shift, manager, make_user, django_capture_on_commit_callbacks
):
    def attempt(*lines, user=manager, **kwargs):
        return refund_without_receipt(
            shift=shift, user=user, lines=list(lines), reason=kwargs.pop("reason", "x"), **kwargs
        )

    only_receipts = with_perms(make_user("deputy", "cashier"), "refund_sale", "close_any_shift")
    before = snapshot()
    with pytest.raises(errors.InvalidPrice, match="above its price 12,000 RWF") as caught:
        attempt(NoReceiptLine(product.pk, 1, D(12001)))
    assert "lines.0.unit_price" in caught.value.fields
    with pytest.raises(errors.InvalidPrice, match="more than 0"):
        attempt(NoReceiptLine(product.pk, 1, D(0)))
    with pytest.raises(errors.InvalidPrice, match="decimal places"):
        attempt(NoReceiptLine(product.pk, 1, D("100.5")))
    with pytest.raises(NotFound) as caught:
        attempt(NoReceiptLine(999999, 1, D(100)))
    assert "lines.0.product_id" in caught.value.fields
    with pytest.raises(errors.InvalidQuantity):
        attempt(NoReceiptLine(product.pk, 0, D(100)))
    with pytest.raises(errors.InvalidTender):
        attempt(NoReceiptLine(product.pk, 1, D(100)), tender="account")
    with pytest.raises(errors.NotEnoughCashInDrawer):
        attempt(NoReceiptLine(product.pk, 2, D(12000)))
    with pytest.raises(errors.NotAllowed):
        attempt(NoReceiptLine(product.pk, 1, D(100)), user=only_receipts)
    assert snapshot() == before


# --- Money: refunds never exceed what was paid --------------------------------------------------


@given(
    line_total=st.integers(0, 10**7),
    sold=st.integers(1, 12),
    data=st.data(),
)
def test_refund_shares_never_exceed_the_line_and_end_exactly_on_it(line_total, sold, data):
    line_total = D(line_total)
    line_tax = line_total * 18 / 118
    line_tax = D(int(line_tax))
    returned, refunded, tax_refunded = 0, D(0), D(0)
    while returned < sold:
        qty = data.draw(st.integers(1, sold - returned))
        total, tax = refund_share(
            line_total=line_total,
            line_tax=line_tax,
            sold=sold,
            returned=returned,
            refunded_total=refunded,
            refunded_tax=tax_refunded,
            quantity=qty,
            places=0,
        )
        assert total >= 0 and tax >= 0
        returned, refunded, tax_refunded = returned + qty, refunded + total, tax_refunded + tax
        assert refunded <= line_total and tax_refunded <= line_tax
    assert (refunded, tax_refunded) == (line_total, line_tax)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    quantities=st.lists(st.integers(1, 5), min_size=2, max_size=2),
    discount=st.integers(0, 1999),
    refunds=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 3)), max_size=8),
)
def test_random_partial_refunds_never_exceed_what_was_paid(
    quantities, discount, refunds, make_product, shift, manager, sell
):
    products = [make_product(stock=10) for _ in quantities]
    sale = sell(
        *[CartLine(p.pk, q) for p, q in zip(products, quantities, strict=True)],
        order_discount=D(discount),
    )
    lines = list(sale.lines.order_by("pk"))
    for index, qty in refunds:
        line = lines[index]
        returned = RefundLine.objects.filter(sale_line=line).aggregate(q=Sum("quantity"))["q"]
        try:
            refund(sale, shift, manager, (line, qty), tender="card")
        except errors.InvalidQuantity:
            assert qty > line.quantity - (returned or 0)
    for line in lines:
        got = RefundLine.objects.filter(sale_line=line).aggregate(t=Sum("total"))["t"] or 0
        assert got <= line.total
    refunded = Refund.objects.filter(sale=sale).aggregate(t=Sum("total"))["t"] or 0
    assert refunded <= sale.total
    # Return whatever is left: the refunds then equal the sale's total exactly.
    rest = []
    for line in lines:
        returned = RefundLine.objects.filter(sale_line=line).aggregate(q=Sum("quantity"))["q"]
        if line.quantity - (returned or 0):
            rest.append((line, line.quantity - (returned or 0)))
    if rest:
        refund(sale, shift, manager, *rest, tender="card")
    assert Refund.objects.filter(sale=sale).aggregate(t=Sum("total"))["t"] == sale.total
    paid_out = Payment.objects.filter(refund__sale=sale).aggregate(t=Sum("amount"))["t"]
    assert -paid_out == sale.total
    assert_ledgers_hold()


# --- Concurrency --------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_tills_refunding_one_unit_of_a_line_of_three_refund_exactly_three(
    sell, product, shift, manager
):
    sale = sell((product, 3), tenders=cash(36000))
    line = sale.lines.get()
    done, refused, failures = [], [], []
    barrier = threading.Barrier(10)

    def till():
        try:
            barrier.wait()
            done.append(refund(sale, shift, manager, (line, 1)))
        except errors.InvalidQuantity:
            refused.append(1)
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=till) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert (len(done), len(refused)) == (3, 7)
    assert RefundLine.objects.filter(sale_line=line).aggregate(q=Sum("quantity"))["q"] == 3
    assert Refund.objects.filter(sale=sale).aggregate(t=Sum("total"))["t"] == line.total
    numbers = sorted(Refund.objects.values_list("number", flat=True))
    assert numbers == ["R1-RF-000001", "R1-RF-000002", "R1-RF-000003"]
    product.refresh_from_db()
    assert product.stock_on_hand == 10
    assert_ledgers_hold()


def test_the_receipt_lists_the_sales_refunds(client, sell, product, shift, manager):
    from django.urls import reverse

    sale = sell((product, 3), tenders=cash(36000))
    line = sale.lines.get()
    refund(sale, shift, manager, (line, 1))
    refund(sale, shift, manager, (line, 1), tender="card")
    client.force_login(manager)

    page = client.get(reverse("pos:receipt", args=[sale.pk])).content.decode()

    assert "Refunds" in page
    first, second = page.index("R1-RF-000001"), page.index("R1-RF-000002")
    assert first < second  # oldest first
    assert page.count("−12,000") == 2


def test_the_statement_shows_returns_credited_to_an_invoice(sell, product, shift, manager):
    from pos.selectors import customer_statement

    customer = create_customer(name="Aline", phone="0788123456", credit_limit=D(100000))
    sale = sell((product, 2), customer=customer, tenders=[TenderLine("account", D(24000))])
    refund(sale, shift, manager, (sale.lines.get(), 1))

    statement = customer_statement(customer)
    assert [(row.debit, row.credit) for row in statement.rows] == [(D(24000), 0), (0, D(12000))]
    assert "credited" in statement.rows[1].description
    customer.refresh_from_db()
    assert statement.closing_balance == customer.balance == D(12000)
