"""Goods sold by weight or length: decimal quantities in the product's stock unit."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from pos import errors
from pos.models import Product, RefundLine, Sale, StockMovement
from pos.quantities import summed
from pos.services.checkout import CartLine
from pos.services.counts import post_stock_count
from pos.services.purchasing import (
    create_purchase_order,
    mark_ordered,
    receive_purchase_order,
)
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.stock import adjust_stock
from tests.pos.ledger_checks import assert_ledgers_hold, snapshot

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def sugar(make_product):
    """Sugar at 1,450 RWF a kg, 5 kg on the shelf, weighed to the gram."""
    return make_product(
        name="Sugar",
        unit="kg",
        quantity_places=3,
        cost_price=D(1100),
        retail_price=D(1450),
        minimum_price=D(1300),
        stock=D(5),
    )


def ledger(product) -> Decimal:
    return summed(StockMovement.objects.filter(product=product).aggregate(s=Sum("quantity"))["s"])


def test_a_weighed_line_is_priced_once_and_takes_its_weight_from_stock(sell, sugar):
    sale = sell(CartLine(sugar.pk, D("0.750")))

    line = sale.lines.get()
    assert line.quantity == D("0.750")
    assert line.total == D(1088)  # 1,450 × 0.750 = 1,087.50, rounded half-up once
    assert sale.total == D(1088)
    sugar.refresh_from_db()
    assert sugar.stock_on_hand == D("4.250") == ledger(sugar)
    assert sugar.format_quantity(sugar.stock_on_hand) == "4.250 kg"
    assert_ledgers_hold()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (D("0.0004"), "Sugar is counted in kg to at most 3 decimal places"),
        (D(0), "more than 0"),
        (D("-0.5"), "more than 0"),
        (0.5, "whole number or a decimal"),
    ],
)
def test_a_quantity_the_unit_cannot_hold_is_refused_and_nothing_is_written(
    sell, sugar, quantity, message
):
    before = snapshot()
    with pytest.raises(errors.InvalidQuantity, match=message) as caught:
        sell(CartLine(sugar.pk, quantity))
    assert "lines.0.quantity" in caught.value.fields
    assert snapshot() == before and not Sale.objects.exists()


def test_half_a_piece_is_refused(sell, product):
    with pytest.raises(errors.InvalidQuantity, match="must be a whole number") as caught:
        sell((product, 1), CartLine(product.pk, D("0.5")))
    assert "lines.1.quantity" in caught.value.fields
    assert not Sale.objects.exists()


def test_refunds_of_a_weighed_line_are_capped_in_kilograms(sell, sugar, shift, manager):
    sale = sell(CartLine(sugar.pk, D("0.750")))
    line = sale.lines.get()

    first = refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(line.pk, D("0.250"))],
        reason="Too much",
    )
    assert first.total == D(363)  # 1,088 × 0.250 / 0.750 = 362.67
    with pytest.raises(errors.RefundExceedsSold, match=r"Only 0\.500 kg of Sugar"):
        refund_sale(
            sale=sale,
            shift=shift,
            user=manager,
            lines=[RefundLineInput(line.pk, D("0.501"))],
            reason="Too much",
        )
    with pytest.raises(errors.InvalidQuantity, match="3 decimal places"):
        refund_sale(
            sale=sale,
            shift=shift,
            user=manager,
            lines=[RefundLineInput(line.pk, D("0.0005"))],
            reason="Too much",
        )
    last = refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(line.pk, D("0.500"))],
        reason="Too much",
    )
    assert first.total + last.total == line.total  # the whole line, to the franc
    assert summed(RefundLine.objects.aggregate(s=Sum("quantity"))["s"]) == D("0.750")
    sugar.refresh_from_db()
    assert sugar.stock_on_hand == D(5) == ledger(sugar)
    assert_ledgers_hold()


def test_counts_purchases_and_adjustments_take_decimals(sugar, manager, supplier):
    adjust_stock(product=sugar, quantity=D("-0.125"), reason="Spilt", user=manager)
    order = create_purchase_order(
        supplier=supplier, lines=[(sugar, D("25.5"), D(1000))], user=manager
    )
    mark_ordered(order=order, user=manager)
    line = order.lines.get()
    receive_purchase_order(order=order, quantities={line.pk: D("12.25")}, user=manager)
    line.refresh_from_db()
    assert line.quantity_outstanding == D("13.25")
    sugar.refresh_from_db()
    assert sugar.stock_on_hand == D("17.125") == ledger(sugar)

    count = post_stock_count(counted={sugar.pk: D("17.1")}, user=manager)
    assert count.lines.get().difference == D("-0.025")
    sugar.refresh_from_db()
    assert sugar.stock_on_hand == D("17.100") == ledger(sugar)

    with pytest.raises(errors.InvalidQuantity, match="3 decimal places"):
        post_stock_count(counted={sugar.pk: D("17.0001")}, user=manager)
    with pytest.raises(errors.InvalidQuantity, match="3 decimal places"):
        create_purchase_order(
            supplier=supplier, lines=[(sugar, D("0.0004"), D(1000))], user=manager
        )


def test_existing_products_are_whole_pieces(product):
    assert (product.unit, product.quantity_places) == ("piece", 0)
    assert product.format_quantity(product.stock_on_hand) == "10"
    product.quantity_places = 4
    with pytest.raises(Exception, match="3"):
        product.full_clean()
    assert Product.objects.get(pk=product.pk).quantity_places == 0


def test_an_adjustment_the_unit_cannot_hold_names_the_unit(sugar, manager):
    before = snapshot()
    with pytest.raises(errors.InvalidQuantity, match="Sugar is counted in kg to at most 3"):
        adjust_stock(product=sugar, quantity=D("0.0004"), reason="Found", user=manager)
    assert snapshot() == before
