"""The till's cart, kept in the session so that an error or a page reload never loses it.

It holds only what the cashier chose: product ids, quantities, price overrides, discounts, the
customer, and the idempotency key of the checkout in progress. Prices and totals are always
computed again on the server (`priced()`), never read back from the browser.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from pos.errors import InvalidQuantity
from pos.models import Customer, Product, ShopSettings
from pos.pricing import LineInput, PricedCart, price_cart, under_minimum
from pos.quantities import as_json, check_places
from pos.services.checkout import MAX_QUANTITY, Cart
from pos.services.holds import cart_from_json, cart_to_json
from pos.services.selling_lines import load_units, rules_for, sold_lines

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
    unit_label: str = ""  # "Carton (24)", "kg"; blank for pieces
    price_source: str = ""  # which price list rule applied ("Wholesale, from 10")
    fixed: bool = False  # a scale label's line: its quantity and price are the label's
    unit_id: int | None = None  # the selling unit's (the offline till carries the line over)
    scale_label: str = ""


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

    def add(
        self,
        product_id: int,
        quantity: Decimal | int = 1,
        *,
        selling_unit_id: int | None = None,
        scale_label: str = "",
    ) -> None:
        """Add a product (in a selling unit), or one more of it when it is already in the cart;
        a scale label is always a line of its own."""
        for line in self.lines:
            same = (line["product_id"], line.get("selling_unit_id")) == (
                product_id,
                selling_unit_id,
            )
            if same and not scale_label and not line.get("scale_label"):
                line["quantity"] = as_json(min(line_quantity(line) + quantity, MAX_QUANTITY))
                break
        else:
            self.lines.append(
                {
                    "product_id": product_id,
                    "quantity": as_json(quantity),
                    "unit_price": None,
                    "discount": "0",
                    "selling_unit_id": selling_unit_id,
                    "scale_label": scale_label,
                }
            )
        self.save()

    def update_line(self, index: int, *, quantity: Decimal, unit_price, discount) -> str | None:
        """Change a line; refused (a message, nothing changed) if the line or the sale would
        then cost less than nothing, or if the quantity has more places than its unit."""
        line = self.lines[index]
        product = Product.objects.filter(pk=line["product_id"]).first()
        if line.get("scale_label"):
            quantity = line_quantity(line)  # a label's weight is what the scale printed
        if product is not None:
            try:
                check_places(
                    Decimal(quantity),
                    0 if line.get("selling_unit_id") else product.quantity_places,
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
        """Why the cart as it stands would cost less than nothing, or None (priced as checkout
        prices it: selling units, labels, price lists)."""
        bill = self.priced()
        after_lines = ZERO
        for shown, p in zip(bill.lines, bill.priced.lines, strict=True):
            if p.line_discount > p.gross:
                return _("The discount on %(name)s is more than its price.") % {
                    "name": shown.product.name
                }
            after_lines += p.gross - p.line_discount
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
        Call it once per request and pass the bill along. Priced as checkout prices them
        (pos.services.selling_lines): selling units, scale labels, the customer's price list."""
        shop = ShopSettings.load()
        places = shop.currency_decimal_places
        ids = [line["product_id"] for line in self.lines]
        products = Product.objects.select_related("category").in_bulk(ids)
        # A product deleted since it was scanned drops out of the cart.
        kept = [line for line in self.lines if line["product_id"] in products]
        if len(kept) != len(self.lines):
            self.data["lines"] = kept
            self.save()
        customer = None
        if self.customer_id is not None:
            customer = Customer.objects.filter(pk=self.customer_id).first()
        cart_lines = cart_from_json({"lines": kept}).lines
        rules = rules_for(ids, customer.price_list_id if customer else None, timezone.localdate())
        sold = sold_lines(cart_lines, products, load_units(cart_lines), rules, places=places)
        priced: PricedCart = price_cart(
            [
                LineInput(s.price, s.count, line.discount, s.amount)
                for line, s in zip(cart_lines, sold, strict=True)
            ],
            order_discount=self.order_discount,
            vat_rate=shop.vat_rate,
            places=places,
            prices_include_vat=shop.prices_include_vat,
        )
        shown = [
            ShownLine(
                index=i,
                product=s.product,
                quantity=s.count,
                unit_price=p.unit_price,
                overridden=line["unit_price"] is not None,
                discount=p.discount,
                total=p.total,
                tax=p.tax,
                minimum_price=s.minimum,
                below_minimum=under_minimum(
                    p, s.minimum, prices_include_vat=shop.prices_include_vat, places=places
                ),
                unit_label=s.unit.label if s.unit else _stock_unit(s.product),
                price_source=s.source,
                fixed=bool(line.get("scale_label")),
                unit_id=s.unit.pk if s.unit else None,
                scale_label=line.get("scale_label") or "",
            )
            for i, (line, p, s) in enumerate(zip(kept, priced.lines, sold, strict=True))
        ]
        return Bill(shown, priced, customer)


def _stock_unit(product) -> str:
    return "" if product.unit == "piece" else product.get_unit_display()
