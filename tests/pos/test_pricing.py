from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pos.money import to_currency as to_places
from pos.pricing import LineInput, allocate, price_cart

D = Decimal


def test_vat_inclusive_line_in_francs():
    cart = price_cart([LineInput(D(11800), 1)], vat_rate=D(18), places=0)
    line = cart.lines[0]
    assert (line.total, line.net, line.tax) == (D(11800), D(10000), D(1800))
    assert cart.total == D(11800)


def test_vat_is_rounded_half_up_per_line():
    # 7000 × 18 / 118 = 1067.79… → VAT 1068, net 5932
    cart = price_cart([LineInput(D(3500), 2)], vat_rate=D(18), places=0)
    assert cart.lines[0].total == D(7000)
    assert (cart.lines[0].tax, cart.lines[0].net) == (D(1068), D(5932))


def test_order_discount_is_shared_exactly_by_largest_remainder():
    lines = [LineInput(D(1000), 1), LineInput(D(1000), 1), LineInput(D(1000), 1)]
    cart = price_cart(lines, order_discount=D(100), vat_rate=D(18), places=0)
    assert [line.order_discount for line in cart.lines] == [D(34), D(33), D(33)]
    assert cart.total == D(2900)
    assert cart.discount_total == D(100)


def test_line_discount_comes_before_the_order_discount():
    lines = [LineInput(D(5000), 2, discount=D(1000)), LineInput(D(1000), 1)]
    cart = price_cart(lines, order_discount=D(1000), vat_rate=D(18), places=0)
    # weights 9000 and 1000 → shares 900 and 100
    assert [line.order_discount for line in cart.lines] == [D(900), D(100)]
    assert [line.total for line in cart.lines] == [D(8100), D(900)]


def test_vat_exclusive_prices_add_vat_on_top():
    cart = price_cart(
        [LineInput(D("10.00"), 3)], vat_rate=D(18), places=2, prices_include_vat=False
    )
    assert cart.lines[0].tax == D("5.40")
    assert cart.total == D("35.40")


amounts = st.integers(min_value=0, max_value=2_000_000).map(D)


@st.composite
def carts(draw):
    places = draw(st.sampled_from([0, 2]))
    scale = Decimal(1).scaleb(-places)
    n = draw(st.integers(min_value=1, max_value=20))
    lines = []
    for _ in range(n):
        price = draw(st.integers(min_value=0, max_value=500_000)) * scale
        # Whole pieces, or a weighed or measured quantity with up to 3 places (0.750 kg).
        qty = draw(
            st.integers(min_value=1, max_value=50)
            | st.integers(min_value=1, max_value=50_000).map(lambda g: D(g).scaleb(-3))
        )
        gross = to_places(price * qty, places)
        discount = draw(st.integers(min_value=0, max_value=int(gross / scale))) * scale
        lines.append(LineInput(price, qty, discount))
    after = sum((to_places(line.unit_price * line.quantity, places) - line.discount
                 for line in lines), D(0))  # fmt: skip
    order_discount = draw(st.integers(min_value=0, max_value=int(after / scale))) * scale
    rate = draw(st.sampled_from([D(0), D(18), D("16.5")]))
    include = draw(st.booleans())
    return lines, order_discount, rate, places, include


@given(carts())
def test_lines_always_sum_to_the_total(case):
    lines, order_discount, rate, places, include = case
    cart = price_cart(
        lines,
        order_discount=order_discount,
        vat_rate=rate,
        places=places,
        prices_include_vat=include,
    )
    assert sum(line.total for line in cart.lines) == cart.total
    assert sum(line.tax for line in cart.lines) == cart.tax_total
    assert sum(line.order_discount for line in cart.lines) == order_discount
    for line in cart.lines:
        assert line.total >= 0 and line.tax >= 0
        # The gross of a decimal quantity is rounded once, half-up, to the currency's places.
        assert line.gross == to_places(line.unit_price * line.quantity, places)
        assert line.total == to_places(line.total, places)
        assert line.tax == to_places(line.tax, places)
    if include:
        assert cart.total == cart.subtotal - cart.discount_total


@given(
    st.integers(min_value=0, max_value=10**9).map(D),
    st.lists(st.integers(min_value=0, max_value=10**6).map(D), min_size=1, max_size=30),
)
def test_allocate_is_exact_and_proportional(amount, weights):
    shares = allocate(amount, weights, 0)
    if sum(weights) == 0:
        assert all(s == 0 for s in shares)
        return
    assert sum(shares) == amount
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - amount * weight / sum(weights)) < 1
