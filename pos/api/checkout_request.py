"""The checkout request decoded without DRF's field machinery (issue 30): msgspec reads the JSON
body into typed structs, and the rules of `serializers.CheckoutSerializer` are checked by hand.

The serializer stays the one definition of the request: it is what the OpenAPI schema shows
(tests/api/test_sales_schema.py), and every body this fast path does not accept goes to it, so
that its errors (a 400 with a message per field) are exactly DRF's. The fast path accepts only
bodies the serializer accepts, and gives the same values (decimals quantized to the field's
places as DRF's DecimalField does), a subset chosen to stay obviously so: numbers as integers or
plain decimal strings (a float, an exponent or spaces go to DRF), text with nothing to trim.
`decoded` answers None for everything else. tests/api/test_checkout_request.py sends bodies
both ways and compares the results.

Building a `CheckoutSerializer` costs more CPU than decoding (its fields are deep-copied per
request); this costs about a tenth of it.
"""

import re
from decimal import Decimal, DecimalException

import msgspec
from django.http.request import RawPostDataException

from pos.models import MobileProvider, Tender
from pos.quantities import MAX_PLACES

UNSET = msgspec.UNSET
Number = int | str

MAX_ID = 2**31 - 1  # IdField
MAX_DIGITS = 14  # MoneyField and QuantityField
MONEY_PLACES = 2
# A plain decimal: what DRF reads the same way whatever its settings (no exponent, no spaces,
# no "_" that Decimal() would take).
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Text that DRF's CharField would keep as it is: nothing to trim, no NUL, no lone surrogate.
PLAIN_TEXT = re.compile(r"(?!\s)[^\x00\ud800-\udfff]*(?<!\s)", re.DOTALL)
SCALE_LABEL = re.compile(r"^2\d{12}$")  # CartLineSerializer.scale_label's own pattern
TENDERS = frozenset(Tender.values)
PROVIDERS = frozenset(MobileProvider.values)


class LineBody(msgspec.Struct):
    product: int | msgspec.UnsetType = UNSET
    quantity: Number | msgspec.UnsetType = UNSET
    selling_unit: int | None | msgspec.UnsetType = UNSET
    scale_label: str = ""
    unit_price: Number | None | msgspec.UnsetType = UNSET
    discount: Number | msgspec.UnsetType = UNSET


class TenderBody(msgspec.Struct):
    tender: str
    amount: Number
    reference: str = ""
    momo_request: int | None | msgspec.UnsetType = UNSET
    provider: str = ""


class CheckoutBody(msgspec.Struct):
    lines: list[LineBody]
    tenders: list[TenderBody]
    order_discount: Number | msgspec.UnsetType = UNSET
    customer: int | None | msgspec.UnsetType = UNSET
    buyer_tin: str = ""
    purchase_code: str = ""
    print_receipt: bool = False


DECODER = msgspec.json.Decoder(CheckoutBody)


class NotPlain(Exception):
    """A value the fast path leaves to the serializer (which accepts it or says why not)."""


def decoded(request) -> dict | None:
    """The checkout body as `CheckoutSerializer(...).validated_data` would hold it, or None
    when the serializer must judge it (not JSON, not plain, or invalid)."""
    if request.content_type != "application/json" or request.content_params.get(
        "charset", "utf-8"
    ).lower() not in ("utf-8", "utf8"):
        return None
    try:
        body = DECODER.decode(request.body)
    except (msgspec.DecodeError, RawPostDataException):
        return None
    try:
        return _validated(body)
    except NotPlain:
        return None


def _validated(body: CheckoutBody) -> dict:
    if not 1 <= len(body.lines) <= 200 or not 1 <= len(body.tenders) <= 20:
        raise NotPlain
    data = {"lines": [_line(line) for line in body.lines]}
    if body.order_discount is not UNSET:
        data["order_discount"] = _money(body.order_discount)
    if body.customer is not UNSET:
        data["customer"] = _id_or_none(body.customer)
    data["tenders"] = [_tender(tender) for tender in body.tenders]
    data["buyer_tin"] = _text(body.buyer_tin, 9)
    data["purchase_code"] = _text(body.purchase_code, 20)
    data["print_receipt"] = body.print_receipt
    return data


def _line(line: LineBody) -> dict:
    data = {}
    if line.product is not UNSET:
        data["product"] = _id(line.product)
    if line.quantity is UNSET:
        data["quantity"] = Decimal(1)  # the field's default, as DRF gives it (not quantized)
    else:
        data["quantity"] = _decimal(line.quantity, MAX_PLACES, Decimal("0.001"), Decimal(10_000))
    if line.selling_unit is not UNSET:
        data["selling_unit"] = _id_or_none(line.selling_unit)
    if line.scale_label and not SCALE_LABEL.match(line.scale_label):
        raise NotPlain
    data["scale_label"] = line.scale_label
    if line.unit_price is not UNSET:
        data["unit_price"] = None if line.unit_price is None else _money(line.unit_price)
    if line.discount is not UNSET:
        data["discount"] = _money(line.discount)
    if not data["scale_label"] and "product" not in data:
        raise NotPlain  # CartLineSerializer.validate's error
    return data


def _tender(tender: TenderBody) -> dict:
    if tender.tender not in TENDERS or (tender.provider and tender.provider not in PROVIDERS):
        raise NotPlain
    data = {
        "tender": tender.tender,
        "amount": _money(tender.amount),
        "reference": _text(tender.reference, 100),
    }
    if tender.momo_request is not UNSET:
        data["momo_request"] = _id_or_none(tender.momo_request)
    data["provider"] = tender.provider
    return data


def _id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotPlain
    return value


def _id_or_none(value: int | None) -> int | None:
    return None if value is None else _id(value)


def _text(value: str, max_length: int) -> str:
    if len(value) > max_length or (value and not PLAIN_TEXT.fullmatch(value)):
        raise NotPlain
    return value


def _money(value: Number) -> Decimal:
    return _decimal(value, MONEY_PLACES, Decimal(0), None)


def _decimal(value: Number, places: int, minimum: Decimal, maximum: Decimal | None) -> Decimal:
    """DRF's DecimalField(max_digits=14, decimal_places=places) with min and max values: the
    precision checked on the value as written, then quantized to `places`."""
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
        raise NotPlain
    try:
        number = Decimal(value)
    except DecimalException:
        raise NotPlain from None
    _, digits, exponent = number.as_tuple()
    if exponent >= 0:
        total, decimals = len(digits) + exponent, 0
    elif len(digits) > -exponent:
        total, decimals = len(digits), -exponent
    else:
        total = decimals = -exponent
    if total > MAX_DIGITS or decimals > places or total - decimals > MAX_DIGITS - places:
        raise NotPlain
    number = number.quantize(Decimal(1).scaleb(-places))
    if number < minimum or (maximum is not None and number > maximum):
        raise NotPlain
    return number
