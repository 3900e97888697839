import uuid
from decimal import Decimal

import orjson
import pytest

from pos import errors
from pos.models import (
    Customer,
    JournalEntry,
    Payment,
    Product,
    Sale,
    ShopSettings,
    StockMovement,
)
from pos.services.checkout import Cart, CartLine, TenderLine, checkout

pytestmark = pytest.mark.django_db
D = Decimal


def cash(amount):
    return [TenderLine("cash", D(amount))]


def test_a_cash_sale_with_change(sell, product, shift):
    sale = sell((product, 2), tenders=cash(30000))

    assert sale.number == "R1-000001"
    assert (sale.subtotal, sale.discount_total, sale.total) == (D(24000), D(0), D(24000))
    assert sale.tax_total == D(3661)  # 24000 × 18 / 118 = 3661.02
    assert sale.change_given == D(6000)
    # Payments: 30000 in, 6000 back; paid = sum of payments = total.
    amounts = sorted(p.amount for p in sale.payments.all())
    assert amounts == [D(-6000), D(30000)]
    assert sum(amounts) == sale.total
    line = sale.lines.get()
    assert (line.product_name, line.quantity, line.unit_cost) == (product.name, 2, D(6000))
    product.refresh_from_db()
    assert product.stock_on_hand == 8
    movement = StockMovement.objects.filter(product=product).first()
    assert (movement.kind, movement.quantity, movement.reference_label) == (
        "sale",
        -2,
        "Sale R1-000001",
    )


def test_receipt_numbers_follow_on_per_register(sell, product, make_user, make_product):
    from pos.models import Register
    from pos.services.shifts import open_shift

    first = sell((product, 1))
    second = sell((product, 1))
    assert [first.number, second.number] == ["R1-000001", "R1-000002"]

    other = Register.objects.create(name="Till 2", code="R2")
    clerk = make_user("clerk", "cashier")
    other_shift = open_shift(register=other, cashier=clerk, opening_float=D(0))
    third = sell((product, 1), shift=other_shift, cashier=clerk)
    assert third.number == "R2-000001"


def test_split_tenders_must_cover_the_total_exactly_except_cash(sell, product):
    sale = sell(
        (product, 1),
        tenders=[TenderLine("mobile_money", D(5000), reference="MP2411.1234.A"), *cash(8000)],
    )
    assert sale.change_given == D(1000)

    with pytest.raises(errors.TendersDoNotCover):
        sell((product, 1), tenders=[TenderLine("card", D(5000)), *cash(5000)])
    with pytest.raises(errors.TendersDoNotCover, match="Only cash"):
        sell((product, 1), tenders=[TenderLine("card", D(13000))])


def test_manual_mobile_money_needs_the_transaction_id(sell, product):
    with pytest.raises(errors.InvalidTender) as caught:
        sell((product, 1), tenders=[TenderLine("mobile_money", D(12000))])
    assert "tenders.0.reference" in caught.value.fields


def test_out_of_stock_sells_nothing(sell, make_product):
    phone_case = make_product(stock=1)
    with pytest.raises(errors.InsufficientStock):
        sell((phone_case, 2))
    phone_case.refresh_from_db()
    assert phone_case.stock_on_hand == 1
    assert not Sale.objects.exists()
    assert not Payment.objects.exists()


def test_one_bad_line_writes_nothing_and_takes_no_receipt_number(sell, product, make_product):
    scarce = make_product(stock=0)
    with pytest.raises(errors.InsufficientStock):
        sell((product, 1), (scarce, 1))
    assert not Sale.objects.exists()
    assert sell((product, 1)).number == "R1-000001"


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2"])
def test_bad_quantities_are_refused(sell, product, quantity):
    with pytest.raises(errors.InvalidQuantity):
        sell(CartLine(product.pk, quantity))
    assert not Sale.objects.exists()


def test_unknown_product_is_refused(sell):
    with pytest.raises(errors.DomainError) as caught:
        sell(CartLine(999_999, 1))
    assert caught.value.status == 404


def test_price_override_and_discounts_never_go_below_the_minimum(sell, product):
    with pytest.raises(errors.PriceBelowMinimum):
        sell(CartLine(product.pk, 1, unit_price=D(9000)))
    with pytest.raises(errors.PriceBelowMinimum):
        sell(CartLine(product.pk, 1, discount=D(2500)))
    with pytest.raises(errors.PriceBelowMinimum):
        sell((product, 1), order_discount=D(2001))


def test_cashier_discount_limit_needs_a_manager(
    sell, product, manager, django_capture_on_commit_callbacks
):
    from accounts.models import AuditLog

    within = sell(CartLine(product.pk, 1, discount=D(1200)))  # 10%: the cashier's limit
    assert within.total == D(10800)

    with pytest.raises(errors.ApprovalRequired):
        sell(CartLine(product.pk, 1, discount=D(1300)))
    with django_capture_on_commit_callbacks(execute=True):
        sale = sell(CartLine(product.pk, 1, discount=D(1300)), approved_by=manager)
    assert sale.total == D(10700)
    entry = AuditLog.objects.get(action="sale.discount_approved")
    assert entry.actor == manager and entry.target_id == str(sale.pk)


def test_a_cashier_cannot_approve_their_own_discount(sell, product, make_user):
    other_cashier = make_user("other", "cashier")
    with pytest.raises(errors.ApprovalRequired):
        sell(CartLine(product.pk, 1, discount=D(1300)), approved_by=other_cashier)


def test_discount_approval_follows_the_one_approval_rule_of_voids_and_refunds(
    sell, product, manager, make_user, monkeypatch
):
    """Checkout asks pos.services.approvals, as void_sale and refund_sale do: an inactive
    manager cannot approve, the refusal names them, and a manager ringing up their own sale is
    the approver whoever else is named."""
    from pos.services import approvals

    asked = []
    real = approvals.authoriser
    monkeypatch.setattr(
        approvals, "authoriser", lambda **kw: asked.append(kw["permission"]) or real(**kw)
    )
    gone = make_user("gone", "manager")
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    with pytest.raises(errors.ApprovalRequired) as refused:
        sell(CartLine(product.pk, 1, discount=D(1300)), approved_by=gone)
    assert refused.value.message == "gone cannot approve this."
    assert asked == ["pos.approve_discount"]

    from pos.models import Register
    from pos.services.shifts import open_shift

    till = Register.objects.create(code="R2", name="Till 2")
    own = open_shift(register=till, cashier=manager, opening_float=D(0))
    sale = sell(
        CartLine(product.pk, 1, discount=D(1300)), shift=own, cashier=manager, approved_by=gone
    )
    approval = JournalEntry.objects.get(kind="discount_approval", reference=f"pos.sale:{sale.pk}")
    assert orjson.loads(approval.payload)["data"]["approved_by_id"] == manager.pk


def test_order_discount_is_shared_over_the_lines(sell, make_product):
    a = make_product(stock=5, retail_price=D(10000), minimum_price=D(5000))
    b = make_product(stock=5, retail_price=D(5000), minimum_price=D(2500))
    sale = sell((a, 1), (b, 1), order_discount=D(1000))
    shares = [line.order_discount for line in sale.lines.order_by("id")]
    assert shares == [D(667), D(333)]
    assert sale.total == D(14000) == sum(line.total for line in sale.lines.all())
    assert sale.tax_total == sum(line.tax for line in sale.lines.all())


def test_idempotent_retry_returns_the_same_sale(sell, product):
    key = uuid.uuid4()
    first = sell((product, 1), key=key)
    again = sell((product, 1), key=key)
    assert again.pk == first.pk
    assert Sale.objects.count() == 1
    product.refresh_from_db()
    assert product.stock_on_hand == 9


def test_a_retry_of_a_sale_stored_before_an_upgrade_replays_instead_of_conflicting(
    sell, product, shift
):
    """Sales stored by releases before 2026-12-05 carry the hash of every request field there
    was then; their retries after the upgrade (an offline till syncing) find them."""
    import hashlib
    import json

    key = uuid.uuid4()
    first = sell((product, 1), key=key)
    # The request as those releases hashed it: no buyer_tin, purchase_code or provider yet.
    then = {
        "cart": {
            "customer_id": None,
            "lines": [
                {"discount": "0", "product_id": product.pk, "quantity": 1, "scale_label": "",
                 "selling_unit_id": None, "unit_price": None}
            ],
            "order_discount": "0",
        },
        "register_id": shift.register_id,
        "tenders": [{"amount": "10000000", "momo_request_id": None, "reference": "",
                     "tender": "cash"}],
    }  # fmt: skip
    stored_then = hashlib.sha256(json.dumps(then, sort_keys=True).encode()).hexdigest()
    Sale.objects.filter(pk=first.pk).update(request_fingerprint=stored_then)

    again = sell((product, 1), key=key)

    assert (again.pk, again.replayed) == (first.pk, True)
    with pytest.raises(errors.IdempotencyConflict):
        sell((product, 2), key=key)
    assert Sale.objects.count() == 1


def test_a_request_field_at_its_default_is_not_in_the_fingerprint():
    """So that a field added later, with a default, keeps the fingerprints of earlier sales."""
    from pos.services.checkout import CheckoutRequest

    def request(**cart):
        return CheckoutRequest(1, Cart([CartLine(7, 1)], **cart), [TenderLine("cash", D(5))])

    assert request().fingerprint() == request(buyer_tin="").fingerprint()
    assert request().fingerprint() != request(buyer_tin="123456789").fingerprint()
    assert request().fingerprint() != request(customer_id=3).fingerprint()


def test_same_key_with_a_different_cart_is_a_conflict(sell, product):
    key = uuid.uuid4()
    sell((product, 1), key=key)
    with pytest.raises(errors.IdempotencyConflict):
        sell((product, 2), key=key)
    assert Sale.objects.count() == 1


def test_closed_shift_cannot_sell(sell, shift, cashier, product):
    from pos.services.shifts import close_shift

    close_shift(shift=shift, counted={"cash": D(20000)}, user=cashier)
    with pytest.raises(errors.ShiftClosed):
        sell((product, 1))
    assert not Sale.objects.exists()


def test_inactive_products_are_not_sold(sell, make_product):
    old = make_product(stock=3, status="discontinued")
    with pytest.raises(errors.ProductNotForSale):
        sell((old, 1))


def test_customer_totals_follow_the_sale(sell, product):
    customer = Customer.objects.create(name="Jean", phone="+250788123456")
    sell((product, 1), customer=customer)
    customer.refresh_from_db()
    assert (customer.total_spent, customer.visits) == (D(12000), 1)
    assert customer.last_purchase_at is not None


def test_credit_sale_needs_a_customer_and_room_under_the_limit(sell, product):
    with pytest.raises(errors.CustomerRequired):
        sell((product, 1), tenders=[TenderLine("account", D(12000))])

    customer = Customer.objects.create(
        name="Hotel Mille Collines", phone="+250788000111", credit_limit=D(20000)
    )
    sale = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    customer.refresh_from_db()
    assert customer.balance == D(12000)
    assert sale.invoice.total == D(12000)
    assert sale.invoice.number == "INV-000001"

    with pytest.raises(errors.CreditLimitExceeded):
        sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    # Part cash, part credit fits.
    sell(
        (product, 1),
        tenders=[TenderLine("account", D(8000)), *cash(4000)],
        customer=customer,
    )
    customer.refresh_from_db()
    assert customer.balance == D(20000)


def test_vat_exclusive_shop_adds_vat(sell, product):
    shop = ShopSettings.load()
    shop.prices_include_vat = False
    shop.save()
    sale = sell((product, 1))
    assert (sale.tax_total, sale.total) == (D(2160), D(14160))


def test_amounts_with_too_many_places_are_refused(sell, product):
    with pytest.raises(errors.InvalidPrice):
        sell((product, 1), tenders=cash("12000.50"))


def test_query_count_does_not_grow_with_lines(
    sell, make_product, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    products = [make_product(stock=100) for _ in range(20)]
    ShopSettings.load()

    def count(n):
        with CaptureQueriesContext(connection) as ctx:
            sell(*[(p, 1) for p in products[:n]])
        return len(ctx.captured_queries)

    one, twenty = count(1), count(20)
    assert one == twenty


def test_checkout_never_trusts_client_totals(product, shift, cashier):
    # There is no way to pass a total: the server prices the cart itself.
    sale = checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(product.pk, 1)]),
        tenders=cash(12000),
        idempotency_key=uuid.uuid4(),
    )
    assert sale.total == Product.objects.get(pk=product.pk).retail_price


def test_every_bad_field_of_a_checkout_is_reported_at_once(shift, cashier, product):
    import uuid

    from pos.services.checkout import Cart, CartLine, TenderLine, checkout

    with pytest.raises(errors.InvalidPrice) as refused:
        checkout(
            shift=shift,
            cashier=cashier,
            cart=Cart(
                [CartLine(product.pk, 1, discount=Decimal("0.001")), CartLine(product.pk, 0)]
            ),
            tenders=[TenderLine("cash", Decimal(0)), TenderLine("mobile_money", Decimal(12000))],
            idempotency_key=uuid.uuid4(),
        )
    assert set(refused.value.fields) == {
        "lines.0.discount",
        "lines.1.quantity",
        "tenders.0.amount",
        "tenders.1.reference",
    }
