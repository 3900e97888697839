"""The till's cart, kept in the session so that an error or a page reload never loses it.

It holds only what the cashier chose: product ids, quantities, price overrides, discounts, the
customer, and the idempotency key of the checkout in progress. Prices and totals are always
computed again on the server (`priced()`), never read back from the browser.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from pos.models import Customer, Product, ShopSettings
from pos.pricing import LineInput, PricedCart, price_cart
from pos.quantities import as_json
from pos.services.checkout import MAX_QUANTITY, Cart
from pos.services.holds import cart_from_json, cart_to_json

SESSION_KEY = "register_cart"
ZERO = Decimal(0)


@dataclass(frozen=True)
class ShownLine:
    index: int
    product: Product
    quantity: Decimal
    unit_price: Decimal
    overridden: bool
    discount: Decimal
    total: Decimal
    tax: Decimal


def line_quantity(line: dict) -> Decimal:
    """A session line's quantity (kept as JSON: a number or a decimal string)."""
    return Decimal(str(line["quantity"]))


class SessionCart:
    def __init__(self, session):
        self.session = session
        self.data = session.get(SESSION_KEY) or {
            "lines": [],
            "order_discount": "0",
            "customer_id": None,
            "checkout_key": None,
        }

    def save(self) -> None:
        self.session[SESSION_KEY] = self.data
        self.session.modified = True

    # --- what the cashier chose ---------------------------------------------------------------
    @property
    def lines(self) -> list[dict]:
        return self.data["lines"]

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def customer_id(self) -> int | None:
        return self.data.get("customer_id")

    @property
    def order_discount(self) -> Decimal:
        return Decimal(self.data.get("order_discount") or "0")

    def add(self, product_id: int, quantity: Decimal | int = 1) -> None:
        """Add a product, or one more of it when it is already in the cart."""
        for line in self.lines:
            if line["product_id"] == product_id:
                line["quantity"] = as_json(min(line_quantity(line) + quantity, MAX_QUANTITY))
                break
        else:
            self.lines.append(
                {
                    "product_id": product_id,
                    "quantity": as_json(quantity),
                    "unit_price": None,
                    "discount": "0",
                }
            )
        self.save()

    def update_line(self, index: int, *, quantity: Decimal, unit_price, discount) -> None:
        line = self.lines[index]
        line["quantity"] = as_json(quantity)
        line["unit_price"] = None if unit_price is None else str(unit_price)
        line["discount"] = str(discount or ZERO)
        self.save()

    def remove(self, index: int) -> None:
        del self.lines[index]
        self.save()

    def set_customer(self, customer_id: int | None) -> None:
        self.data["customer_id"] = customer_id
        self.save()

    def set_order_discount(self, amount: Decimal) -> None:
        self.data["order_discount"] = str(amount)
        self.save()

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)
        self.data = SessionCart({}).data
        self.session.modified = True

    def load(self, cart: Cart) -> None:
        """Replace the cart with a resumed (held) one."""
        self.data = {**cart_to_json(cart), "checkout_key": None}
        self.save()

    def checkout_key(self) -> str:
        """The idempotency key of this checkout: made once, kept until the sale is done."""
        if not self.data.get("checkout_key"):
            self.data["checkout_key"] = str(uuid.uuid4())
            self.save()
        return self.data["checkout_key"]

    def as_cart(self) -> Cart:
        return cart_from_json(self.data)

    # --- what it costs, computed here ---------------------------------------------------------
    def priced(self):
        """(shown lines, priced cart, customer) with a fixed number of queries."""
        shop = ShopSettings.load()
        ids = [line["product_id"] for line in self.lines]
        products = Product.objects.select_related("category").in_bulk(ids)
        # A product deleted since it was scanned drops out of the cart.
        kept = [line for line in self.lines if line["product_id"] in products]
        if len(kept) != len(self.lines):
            self.data["lines"] = kept
            self.save()
        inputs = []
        for line in kept:
            product = products[line["product_id"]]
            price = (
                product.retail_price if line["unit_price"] is None else Decimal(line["unit_price"])
            )
            inputs.append(LineInput(price, line_quantity(line), Decimal(line["discount"] or "0")))
        priced: PricedCart = price_cart(
            inputs,
            order_discount=self.order_discount,
            vat_rate=shop.vat_rate,
            places=shop.currency_decimal_places,
            prices_include_vat=shop.prices_include_vat,
        )
        shown = [
            ShownLine(
                index=i,
                product=products[line["product_id"]],
                quantity=line_quantity(line),
                unit_price=p.unit_price,
                overridden=line["unit_price"] is not None,
                discount=p.discount,
                total=p.total,
                tax=p.tax,
            )
            for i, (line, p) in enumerate(zip(kept, priced.lines, strict=True))
        ]
        customer = None
        if self.customer_id is not None:
            customer = Customer.objects.filter(pk=self.customer_id).first()
        return shown, priced, customer
