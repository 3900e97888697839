"""The till's cart, kept in the session so that an error or a page reload never loses it.

It holds only what the cashier chose: product ids, quantities, price overrides, discounts, the
customer, and the idempotency key of the checkout in progress. Prices and totals are always
computed again on the server (`priced()`), never read back from the browser.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _

from pos.errors import InvalidQuantity
from pos.models import Customer, Product, ShopSettings
from pos.pricing import LineInput, PricedCart, price_cart, under_minimum
from pos.quantities import as_json, check_places
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
    minimum_price: Decimal
    below_minimum: bool  # sold under the product's minimum: a manager approves it at payment


class Bill(NamedTuple):
    """The cart priced once: what the register and the payment screen show."""

    lines: list[ShownLine]
    priced: PricedCart
    customer: Customer | None

    @property
    def below_minimum(self) -> bool:
        return any(line.below_minimum for line in self.lines)


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

    def update_line(self, index: int, *, quantity: Decimal, unit_price, discount) -> str | None:
        """Change a line; refused (a message, nothing changed) if the line or the sale would
        then cost less than nothing, or if the quantity has more places than its unit."""
        line = self.lines[index]
        product = Product.objects.filter(pk=line["product_id"]).first()
        if product is not None:
            try:
                check_places(
                    Decimal(quantity),
                    product.quantity_places,
                    name=product.name,
                    unit=product.get_unit_display(),
                    field="quantity",
                )
            except InvalidQuantity as exc:
                return exc.message
        before = dict(line)
        line["quantity"] = as_json(quantity)
        line["unit_price"] = None if unit_price is None else str(unit_price)
        line["discount"] = str(discount or ZERO)
        problem = self.negative_total()
        if problem:
            line.update(before)
            return problem
        self.save()
        return None

    def step_line(self, index: int, step: int) -> str | None:
        """One more (step=1) or one fewer (step=-1) of a line; never below one."""
        line = self.lines[index]
        quantity = min(max(line_quantity(line) + step, 1), MAX_QUANTITY)
        return self.update_line(
            index, quantity=quantity, unit_price=line["unit_price"], discount=line["discount"]
        )

    def remove(self, index: int) -> None:
        del self.lines[index]
        self.save()

    def set_customer(self, customer_id: int | None) -> None:
        self.data["customer_id"] = customer_id
        self.save()

    def set_order_discount(self, amount: Decimal) -> str | None:
        """Set the discount on the whole sale; refused (a message) if it is more than the sale."""
        before = self.data.get("order_discount")
        self.data["order_discount"] = str(amount)
        problem = self.negative_total()
        if problem:
            self.data["order_discount"] = before
            return problem
        self.save()
        return None

    def negative_total(self) -> str | None:
        """Why the cart as it stands would cost less than nothing, or None."""
        products = Product.objects.in_bulk([line["product_id"] for line in self.lines])
        after_lines = ZERO
        for line in self.lines:
            product = products.get(line["product_id"])
            if product is None:
                continue
            price = Decimal(line["unit_price"]) if line["unit_price"] else product.retail_price
            gross = price * line_quantity(line)
            if Decimal(line["discount"] or "0") > gross:
                return _("The discount on %(name)s is more than its price.") % {
                    "name": product.name
                }
            after_lines += gross - Decimal(line["discount"] or "0")
        if self.order_discount > after_lines:
            return _("The discount cannot be more than the sale.")
        return None

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)
        self.data = SessionCart({}).data
        self.session.modified = True

    def finish(self) -> None:
        """The sale is done: empty the cart, but remember what was sold under its key, so that
        a second click on "Complete" reaches the checkout with the same request (which answers
        with the sale already made)."""
        done = {"key": self.data.get("checkout_key"), "cart": cart_to_json(self.as_cart())}
        self.clear()
        self.data["done"] = done
        self.save()

    def for_key(self, key) -> Cart | None:
        """The cart to check out under idempotency key `key`: this one, or the one just sold
        under that key; None when there is nothing to sell."""
        done = self.data.get("done")
        if done and done["key"] == str(key):
            return cart_from_json(done["cart"])
        return self.as_cart() if len(self) else None

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
    def priced(self) -> Bill:
        """The lines as shown, the priced cart and the customer, in a fixed number of queries.
        Call it once per request and pass the bill along."""
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
                product=product,
                quantity=line_quantity(line),
                unit_price=p.unit_price,
                overridden=line["unit_price"] is not None,
                discount=p.discount,
                total=p.total,
                tax=p.tax,
                minimum_price=product.minimum_price,
                below_minimum=under_minimum(
                    p,
                    product.minimum_price,
                    prices_include_vat=shop.prices_include_vat,
                    places=shop.currency_decimal_places,
                ),
            )
            for i, (line, p) in enumerate(zip(kept, priced.lines, strict=True))
            for product in [products[line["product_id"]]]
        ]
        customer = None
        if self.customer_id is not None:
            customer = Customer.objects.filter(pk=self.customer_id).first()
        return Bill(shown, priced, customer)
