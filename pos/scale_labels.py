"""Reading in-store scale labels: EAN-13 codes starting 20-29 with an item code and a weight or
a price embedded (pos.models.ScaleLabelTemplate holds the layouts).

A label becomes one line: at the embedded weight at the product's current price, or at the
embedded price with the weight computed from it (rounded to the product's places) and the line
total held at the printed price.
"""

from dataclasses import dataclass
from decimal import Decimal

from pos.barcodes import gs1_check_digit


@dataclass(frozen=True)
class ScaleLabel:
    code: str
    template: object  # the ScaleLabelTemplate
    item_code: int
    weight: Decimal | None  # in the product's stock unit, when the label carries a weight
    price: Decimal | None  # the line total, when the label carries a price


def looks_like_label(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and code[0] == "2"


def parse_label(code: str, templates) -> ScaleLabel | None:
    """The label `code` read with the template of its prefix, or None when it is not one (no
    template for the prefix, or a wrong check digit)."""
    code = (code or "").strip()
    if not looks_like_label(code) or gs1_check_digit(code[:12]) != int(code[12]):
        return None
    template = next((t for t in templates if t.prefix == code[:2] and t.is_active), None)
    if template is None:
        return None
    start = len(template.prefix)
    item = code[start : start + template.item_digits]
    value_text = code[
        start + template.item_digits : start + template.item_digits + template.value_digits
    ]
    value = Decimal(int(value_text)).scaleb(-template.value_decimals)
    is_weight = template.value_kind == "weight"
    return ScaleLabel(
        code=code,
        template=template,
        item_code=int(item),
        weight=value if is_weight else None,
        price=None if is_weight else value,
    )
