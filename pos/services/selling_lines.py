"""What a cart line sells: the product, the unit it is sold in, the quantity in stock units and
the price that applies. Shared by checkout and the till's cart, so both price a line alike.

- A line sold in a selling unit (a carton of 24) counts whole units; it takes count × factor
  stock units; its shelf price is the unit's price, or factor × the retail price.
- A scale label names the product by its scale item code and carries a weight (the line is
  that weight at the current price) or a price (the line costs that price; the weight is the
  price over the price per stock unit, to the product's places).
- Price lists: the lowest of the shelf price and the prices of the rules that apply (the
  customer's list or no list; this unit; from a quantity the line reaches; between dates) is
  charged, and the line says which rule it was. A price typed by the cashier overrides it all.
  Discount limits and the minimum price are checked by checkout on top of the price charged.
"""

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils.translation import gettext as _

from core.errors import NotFound
from pos import errors
from pos.models import PriceList, PriceRule, Product, ScaleLabelTemplate, SellingUnit
from pos.money import to_currency
from pos.pricing import selling_price
from pos.quantities import check_places, show_quantity
from pos.scale_labels import looks_like_label, parse_label
from pos.services import rows

ZERO = Decimal(0)


@dataclass(frozen=True)
class SoldLine:
    product: Product
    unit: SellingUnit | None
    count: Decimal  # how many of the unit sold (cartons), or the stock quantity
    stock_quantity: Decimal
    shelf_price: Decimal  # per unit sold, before any price list
    price: Decimal  # per unit sold: the override, the price list's or the shelf price
    source: str  # which price list rule applied ("" for the shelf price or an override)
    amount: Decimal | None  # the line's gross as printed on a price label
    minimum: Decimal  # the minimum price per unit sold

    @property
    def unit_label(self) -> str:
        return self.unit.label if self.unit is not None else self.product.get_unit_display()


def labels_to_lines(lines: list, places: int) -> list:
    """Cart lines whose `scale_label` is set, with the product (by its scale item code) and,
    for a weight label, the weight as quantity; price labels keep quantity 1 until priced.

    :raises NotFound: a code that is no label of an active template, or no product has its
        item code.
    """
    coded = [(i, line) for i, line in enumerate(lines) if line.scale_label]
    if not coded:
        return lines
    templates = list(ScaleLabelTemplate.objects.filter(is_active=True))
    parsed = {}
    for i, line in coded:
        label = parse_label(line.scale_label, templates)
        if label is None:
            raise NotFound(
                _("%(code)s is not a scale label this shop reads.") % {"code": line.scale_label},
                field=f"lines.{i}.scale_label",
            )
        parsed[i] = label
    by_code = dict(
        Product.objects.filter(scale_code__in={p.item_code for p in parsed.values()}).values_list(
            "scale_code", "pk"
        )
    )
    out = list(lines)
    for i, label in parsed.items():
        if label.item_code not in by_code:
            raise NotFound(
                _("No product has the scale item code %(code)s.") % {"code": label.item_code},
                field=f"lines.{i}.scale_label",
            )
        quantity = label.weight if label.weight is not None else Decimal(1)
        out[i] = replace(lines[i], product_id=by_code[label.item_code], quantity=quantity)
    return out


def load_units(lines: list) -> dict[int, SellingUnit]:
    ids = {line.selling_unit_id for line in lines if line.selling_unit_id is not None}
    return SellingUnit.objects.in_bulk(ids) if ids else {}


def rules_for(product_ids, price_list_id: int | None, day) -> list[PriceRule]:
    """The price rules that may apply today: of no list or the customer's (active) list, in the
    models' order (product, list name, minimum quantity), each with its list.

    Every checkout and cart reads them: one plain statement (pos.services.rows), whose rows
    come without the query compiler's work (compiling the ORM's ORed conditions cost more CPU
    than the rest of this read, and `raw()`'s own column mapping half of it; bench/README.md)."""
    product_ids = list(product_ids)
    if not product_ids:
        return []
    quote = connection.ops.quote_name
    rule, price_list = (quote(m._meta.db_table) for m in (PriceRule, PriceList))
    day = connection.ops.adapt_datefield_value(day)
    with rows.cursor() as cursor:
        cursor.execute(
            f"""SELECT {rows.columns(PriceRule, "r")}, l.name, l.is_active
                FROM {rule} r LEFT JOIN {price_list} l ON l.id = r.price_list_id
                WHERE r.product_id IN ({", ".join(["%s"] * len(product_ids))})
                  AND (r.price_list_id IS NULL OR (r.price_list_id = %s AND l.is_active))
                  AND (r.starts_on IS NULL OR r.starts_on <= %s)
                  AND (r.ends_on IS NULL OR r.ends_on >= %s)
                ORDER BY r.product_id, l.name, r.min_quantity""",  # noqa: S608 - own names
            [*product_ids, price_list_id, day, day],
        )
        found = cursor.fetchall()
    width = rows.width(PriceRule)
    rules = []
    for row in found:
        loaded = rows.loaded(PriceRule, row)
        if loaded.price_list_id is not None:
            loaded.price_list = PriceList.from_db(
                loaded._state.db,
                ["id", "name", "is_active"],
                [loaded.price_list_id, row[width], bool(row[width + 1])],
            )
        rules.append(loaded)
    return rules


def best_rule(rules: list[PriceRule], product_id: int, unit_id: int | None, count: Decimal):
    """The rule with the lowest price that this line reaches, or None."""
    reached = [
        r
        for r in rules
        if r.product_id == product_id and r.selling_unit_id == unit_id and count >= r.min_quantity
    ]
    return min(reached, key=lambda r: (r.price, -r.min_quantity), default=None)


def rule_source(rule: PriceRule) -> str:
    name = rule.price_list.name if rule.price_list is not None else _("Retail")
    if rule.min_quantity > 1:
        return _("%(list)s, from %(n)s") % {"list": name, "n": show_quantity(rule.min_quantity)}
    return str(name)


def sold_lines(lines: list, products: dict, units: dict, rules: list, *, places: int) -> list:
    """A SoldLine per cart line (the products locked or read, the units and rules loaded).

    :raises InvalidQuantity: a quantity the unit cannot hold (a part of a carton, 0.0004 kg).
    :raises NotFound: a selling unit that is not the product's.
    """
    labels_templates = None
    out = []
    for i, line in enumerate(lines):
        product = products[line.product_id]
        unit = None
        if line.selling_unit_id is not None:
            unit = units.get(line.selling_unit_id)
            if unit is None or unit.product_id != product.pk or not unit.is_active:
                raise NotFound(
                    _("%(name)s is not sold in that unit.") % {"name": product.name},
                    field=f"lines.{i}.selling_unit",
                )
        count = Decimal(line.quantity)
        amount = None
        if line.scale_label and unit is None and not looks_like_label(line.scale_label):
            raise NotFound(_("Not a scale label."), field=f"lines.{i}.scale_label")
        if line.scale_label:
            if labels_templates is None:
                labels_templates = list(ScaleLabelTemplate.objects.filter(is_active=True))
            label = parse_label(line.scale_label, labels_templates)
            if label is not None and label.price is not None:
                amount = to_currency(label.price, places)
                count = _weight_for(amount, product, i)
        if unit is not None:
            check_places(count, 0, name=unit.label, unit=unit.name, field=f"lines.{i}.quantity")
        stock_quantity = count * (unit.factor if unit is not None else 1)
        check_places(
            stock_quantity,
            product.quantity_places,
            name=product.name,
            unit=product.get_unit_display,
            field=f"lines.{i}.quantity",
        )
        shelf = unit.shelf_price(product.retail_price) if unit else product.retail_price
        price, source = shelf, ""
        rule = best_rule(rules, product.pk, unit.pk if unit else None, count)
        if rule is not None and rule.price < shelf:
            price, source = rule.price, rule_source(rule)
        if line.unit_price is not None:  # typed by the cashier: it overrides any list
            price, source = selling_price(line.unit_price, price), ""
        factor = unit.factor if unit is not None else Decimal(1)
        out.append(
            SoldLine(
                product=product,
                unit=unit,
                count=count,
                stock_quantity=stock_quantity,
                shelf_price=shelf,
                price=price,
                source=source,
                amount=amount if line.unit_price is None else None,
                minimum=product.minimum_price * factor,
            )
        )
    return out


def _weight_for(amount: Decimal, product: Product, i: int) -> Decimal:
    """The weight a price label stands for: its price over the price per stock unit."""
    if product.retail_price <= 0:
        raise errors.InvalidPrice(
            _("%(name)s has no price to weigh by.") % {"name": product.name},
            field=f"lines.{i}.scale_label",
        )
    quantum = Decimal(1).scaleb(-product.quantity_places)
    weight = (amount / product.retail_price).quantize(quantum, rounding=ROUND_HALF_UP)
    return max(weight, quantum)


@dataclass(frozen=True)
class LabelTest:
    """What the till would make of a code (the admin's "test a barcode" box)."""

    code: str
    problem: str = ""
    template: ScaleLabelTemplate | None = None
    item_code: int | None = None
    product: Product | None = None
    weight: Decimal | None = None
    price: Decimal | None = None  # per stock unit
    total: Decimal | None = None  # the line's total before discounts


def test_label(code: str) -> LabelTest:
    """Read `code` as the till would and say what line it makes, or what is wrong with it."""
    from pos.barcodes import gs1_check_digit

    code = (code or "").strip()
    if not looks_like_label(code):
        return LabelTest(code, _("A scale label has 13 digits and starts with 2 (20 to 29)."))
    if gs1_check_digit(code[:12]) != int(code[12]):
        return LabelTest(code, _("The check digit is wrong: the code was misread or mistyped."))
    templates = list(ScaleLabelTemplate.objects.filter(is_active=True))
    label = parse_label(code, templates)
    if label is None:
        return LabelTest(code, _("No active template reads prefix %(p)s.") % {"p": code[:2]})
    product = Product.objects.filter(scale_code=label.item_code).first()
    found = LabelTest(code, template=label.template, item_code=label.item_code, product=product)
    if product is None:
        return replace(
            found,
            problem=_("No product has the scale item code %(c)s.") % {"c": label.item_code},
        )
    if label.weight is not None:
        total = to_currency(label.weight * product.retail_price)
        return replace(found, weight=label.weight, price=product.retail_price, total=total)
    total = to_currency(label.price)
    return replace(
        found, weight=_weight_for(total, product, 0), price=product.retail_price, total=total
    )
