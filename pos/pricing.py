"""Cart arithmetic: line totals, discounts and VAT, from shelf prices, rounded once per line.

The rule, as printed on the receipt:
1. A line's gross is unit price × quantity, rounded half-up once to the currency's places (the
   quantity may be a decimal: 0.750 kg at 1,450 a kg is 1,088), or the price printed on a
   scale label.
2. Its line discount is an amount in currency units; the order discount is shared out over the
   lines in proportion to what they cost after their own discounts, by the largest-remainder
   method in the currency's smallest unit, so the shares add up exactly to the order discount.
3. The line total is gross − line discount − order-discount share.
4. VAT is computed per line from the line total and rounded half-up to the currency's places:
   with VAT-inclusive prices, VAT = total × rate / (100 + rate) (`pos.money.split_vat`); with
   VAT-exclusive prices, VAT = total × rate / 100 and the line total grows by it.
5. The sale's subtotal, discounts, VAT and total are the sums of the lines, so the lines always
   add up exactly to the total on the receipt.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from pos.money import HUNDRED, split_vat, to_currency

ZERO = Decimal(0)


def selling_price(override: Decimal | None, shelf_price: Decimal) -> Decimal:
    """The unit price a line sells at: the price typed for it, else the product's shelf price
    (the one rule the till's cart and checkout both price by)."""
    return shelf_price if override is None else override


def quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


@dataclass(frozen=True)
class LineInput:
    unit_price: Decimal
    quantity: Decimal | int
    discount: Decimal = ZERO
    amount: Decimal | None = None  # a gross fixed in advance (a scale label's printed price)


@dataclass(frozen=True)
class PricedLine:
    unit_price: Decimal
    quantity: Decimal | int
    gross: Decimal
    line_discount: Decimal
    order_discount: Decimal
    total: Decimal
    tax: Decimal

    @property
    def discount(self) -> Decimal:
        return self.line_discount + self.order_discount

    @property
    def net(self) -> Decimal:
        return self.total - self.tax


@dataclass(frozen=True)
class PricedCart:
    lines: list[PricedLine]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def allocate(amount: Decimal, weights: list[Decimal], places: int) -> list[Decimal]:
    """Split `amount` over `weights` proportionally, in whole smallest units, exactly.

    Largest remainder: each share is rounded down, then the leftover units go to the shares
    with the largest remainders (earlier lines first on ties).
    """
    unit = quantum(places)
    total_weight = sum(weights, ZERO)
    if amount == ZERO or total_weight == ZERO:
        return [ZERO for _ in weights]
    exact = [amount * w / total_weight for w in weights]
    shares = [e.quantize(unit, rounding=ROUND_DOWN) for e in exact]
    leftover_units = int((amount - sum(shares, ZERO)) / unit)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:leftover_units]:
        shares[i] += unit
    return shares


def price_cart(
    lines: list[LineInput],
    *,
    order_discount: Decimal = ZERO,
    vat_rate: Decimal,
    places: int,
    prices_include_vat: bool = True,
) -> PricedCart:
    """Price a cart. Amounts in must already be at the currency's places and not negative."""
    gross = [
        line.amount
        if line.amount is not None
        else to_currency(line.unit_price * line.quantity, places)
        for line in lines
    ]
    after_line = [g - line.discount for g, line in zip(gross, lines, strict=True)]
    shares = allocate(order_discount, after_line, places)
    priced = []
    for line, g, a, share in zip(lines, gross, after_line, shares, strict=True):
        total = a - share
        if prices_include_vat:
            tax = split_vat(total, vat_rate, places)[1]
        else:
            tax = to_currency(total * vat_rate / HUNDRED, places)
            total += tax
        priced.append(
            PricedLine(
                unit_price=line.unit_price,
                quantity=line.quantity,
                gross=g,
                line_discount=line.discount,
                order_discount=share,
                total=total,
                tax=tax,
            )
        )
    return PricedCart(
        lines=priced,
        subtotal=sum((p.gross for p in priced), ZERO),
        discount_total=sum((p.discount for p in priced), ZERO),
        tax_total=sum((p.tax for p in priced), ZERO),
        total=sum((p.total for p in priced), ZERO),
    )


def under_minimum(
    line: PricedLine, minimum_price: Decimal, *, prices_include_vat: bool, places: int
) -> bool:
    """Whether a priced line sells under its product's minimum unit price, compared with what
    the line costs after every discount and before any VAT added on top. The floor of a decimal
    quantity is rounded as its gross is (0.001 kg at a minimum of 1,003 is 1), so a line at
    the minimum price is never under it."""
    before_vat_on_top = line.total - (ZERO if prices_include_vat else line.tax)
    return before_vat_on_top < to_currency(minimum_price * line.quantity, places)
