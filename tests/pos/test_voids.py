import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import AuditLog
from pos import errors
from pos.models import Invoice, Payment, Sale, StockMovement
from pos.services.checkout import TenderLine
from pos.services.customers import create_customer
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.shifts import close_shift, expected_cash, z_report
from pos.services.voids import void_sale
from tests.pos.ledger_checks import assert_ledgers_hold, snapshot

pytestmark = pytest.mark.django_db
D = Decimal


def cash(amount):
    return [TenderLine("cash", D(amount))]


def test_a_manager_voids_a_sale_and_everything_comes_back(
    sell, product, make_product, shift, manager, django_capture_on_commit_callbacks
):
    cable = make_product(stock=5)
    sale = sell((product, 2), (cable, 1), tenders=cash(40000))
    assert expected_cash(shift) == D(20000 + 36000)

    with django_capture_on_commit_callbacks(execute=True):
        voided = void_sale(sale=sale, user=manager, reason="Rang up the wrong items")

    sale.refresh_from_db()
    assert voided.status == sale.status == Sale.Status.VOIDED
    assert (sale.voided_by, sale.void_reason) == (manager, "Rang up the wrong items")
    assert sale.voided_at is not None
    product.refresh_from_db()
    cable.refresh_from_db()
    assert (product.stock_on_hand, cable.stock_on_hand) == (10, 5)
    back = StockMovement.objects.filter(reference_type="pos.sale", reference_id=str(sale.pk))
    back = back.filter(kind="refund")
    assert sorted(back.values_list("quantity", flat=True)) == [1, 2]
    assert set(back.values_list("reason", flat=True)) == {"Void of R1-000001"}
    # 40000 in and 4000 change, then −40000 and +4000: the sale's payments sum to 0.
    amounts = sorted(sale.payments.values_list("amount", flat=True))
    assert amounts == [D(-40000), D(-4000), D(4000), D(40000)]
    assert set(sale.payments.values_list("shift", flat=True)) == {shift.pk}
    assert expected_cash(shift) == D(20000)
    report = z_report(shift)
    assert (report["voids"]["count"], D(report["voids"]["total"])) == (1, D(36000))
    assert report["sales"]["count"] == 0
    assert D(report["by_tender"]["cash"]["net"]) == D(report["by_tender"]["cash"]["change"]) == 0
    entry = AuditLog.objects.get(action="sale.voided")
    assert (entry.actor, entry.target_id) == (manager, str(sale.pk))
    assert_ledgers_hold()


def test_voiding_a_customer_sale_on_account_cancels_its_invoice(sell, product, manager):
    customer = create_customer(name="Aline", phone="0788123456", credit_limit=D(100000))
    sale = sell(
        (product, 2), customer=customer, tenders=[*cash(4000), TenderLine("account", D(20000))]
    )
    customer.refresh_from_db()
    assert (customer.balance, customer.total_spent, customer.visits) == (D(20000), D(24000), 1)

    void_sale(sale=sale, user=manager, reason="Customer changed their mind")

    customer.refresh_from_db()
    assert (customer.balance, customer.total_spent) == (D(0), D(0))
    assert Invoice.objects.get(sale=sale).status == Invoice.Status.CANCELLED
    assert Payment.objects.filter(sale=sale).aggregate(t=Sum("amount"))["t"] == 0
    assert_ledgers_hold()


def test_a_sale_whose_invoice_is_partly_paid_cannot_be_voided(sell, product, manager):
    customer = create_customer(name="Aline", phone="0788123456", credit_limit=D(100000))
    sale = sell((product, 1), customer=customer, tenders=[TenderLine("account", D(12000))])
    Invoice.objects.filter(sale=sale).update(amount_paid=D(5000), status=Invoice.Status.PARTLY_PAID)
    before = snapshot()
    with pytest.raises(errors.VoidNotAllowed, match="has payments against it"):
        void_sale(sale=sale, user=manager, reason="Wrong customer")
    assert snapshot() == before


def test_a_cashier_cannot_void(sell, product, cashier):
    sale = sell((product, 1))
    before = snapshot()
    with pytest.raises(errors.NotAllowed, match="Only a manager"):
        void_sale(sale=sale, user=cashier, reason="Oops")
    assert snapshot() == before


def test_a_reason_is_required(sell, product, manager):
    sale = sell((product, 1))
    before = snapshot()
    with pytest.raises(errors.ReasonRequired) as caught:
        void_sale(sale=sale, user=manager, reason="   ")
    assert "reason" in caught.value.fields
    assert snapshot() == before


def test_a_sale_is_voided_once(sell, product, manager):
    sale = sell((product, 1))
    void_sale(sale=sale, user=manager, reason="Mistake")
    before = snapshot()
    with pytest.raises(errors.VoidNotAllowed, match="already voided"):
        void_sale(sale=sale, user=manager, reason="Mistake again")
    assert snapshot() == before
    assert_ledgers_hold()


def test_after_the_shift_closed_a_sale_can_only_be_refunded(sell, product, manager, shift):
    sale = sell((product, 1), tenders=cash(12000))
    close_shift(shift=shift, counted={"cash": D(32000)}, user=manager)
    before = snapshot()
    with pytest.raises(errors.VoidNotAllowed, match="Refund it instead"):
        void_sale(sale=sale, user=manager, reason="Too late")
    assert snapshot() == before


def test_a_sale_with_refunds_cannot_be_voided(sell, product, manager, shift):
    sale = sell((product, 2))
    refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Faulty",
    )
    before = snapshot()
    with pytest.raises(errors.VoidNotAllowed, match="has refunds"):
        void_sale(sale=sale, user=manager, reason="Whole sale")
    assert snapshot() == before
    assert_ledgers_hold()


def _race(*jobs):
    """Run the callables at once in threads with their own connections; (results, errors)."""
    results, refusals, failures = [], [], []
    barrier = threading.Barrier(len(jobs))

    def run(job):
        try:
            barrier.wait()
            results.append(job())
        except errors.DomainError as exc:
            refusals.append(exc)
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    return results, refusals


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_managers_voiding_the_same_sale_void_it_once(sell, product, manager):
    sale = sell((product, 2), tenders=cash(30000))
    voided, refused = _race(
        *[lambda: void_sale(sale=sale, user=manager, reason="Mistake") for _ in range(5)]
    )
    assert (len(voided), len(refused)) == (1, 4)
    assert all(isinstance(exc, errors.VoidNotAllowed) for exc in refused)
    product.refresh_from_db()
    assert product.stock_on_hand == 10
    assert Payment.objects.filter(sale=sale).count() == 4
    assert_ledgers_hold()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_void_and_a_refund_of_the_same_sale_at_once_one_wins(sell, product, manager, shift):
    sale = sell((product, 2), tenders=cash(24000))
    line = sale.lines.get()
    done, refused = _race(
        lambda: void_sale(sale=sale, user=manager, reason="Mistake"),
        lambda: refund_sale(
            sale=sale,
            shift=shift,
            user=manager,
            lines=[RefundLineInput(line.pk, 1)],
            reason="Faulty",
        ),
    )
    assert (len(done), len(refused)) == (1, 1)
    sale.refresh_from_db()
    if sale.status == Sale.Status.VOIDED:
        assert not sale.refunds.exists()
        assert "was voided" in refused[0].message
    else:
        assert sale.refunds.count() == 1
        assert "has refunds" in refused[0].message
    assert_ledgers_hold()


@pytest.mark.django_db
def test_a_void_at_the_till_is_approved_inside_the_service(
    sell, product, cashier, manager, make_user, django_capture_on_commit_callbacks
):
    sale = sell((product, 1))
    other = make_user("other", "cashier")
    before = snapshot()

    with pytest.raises(errors.NotAllowed):
        void_sale(sale=sale, user=cashier, reason="Wrong item")
    with pytest.raises(errors.ApprovalRequired):
        void_sale(sale=sale, user=cashier, reason="Wrong item", approved_by=other)
    assert snapshot() == before

    with django_capture_on_commit_callbacks(execute=True):
        void_sale(sale=sale, user=cashier, reason="Wrong item", approved_by=manager)
    sale.refresh_from_db()
    assert sale.voided_by == manager
    (override,) = AuditLog.objects.filter(action="sale.void_override")
    assert (override.actor, override.details["at_the_till"]) == (manager, cashier.username)
