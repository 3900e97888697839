"""Money in the API: a string with the shop currency's places ("12000" for RWF), never a float."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from pos.money import currency_places, to_currency
from pos.quantities import MAX_PLACES, normalised, summed


def decimal_schema(direction: str, *, pattern: str, example: str, description: str) -> dict:
    """A decimal in the schema: answered as a string ("0.75": exact, never a float); accepted
    as a string or a JSON number in requests."""
    text = {"type": "string", "format": "decimal", "pattern": pattern, "example": example}
    if direction == "request":
        return {
            "oneOf": [text, {"type": "number", "example": float(example)}],
            "description": description + " Send a decimal string (preferred) or a JSON number.",
        }
    return {**text, "description": description + " A decimal string."}


class MoneyField(serializers.DecimalField):
    """Reads a decimal string or number with at most 2 places; writes it rounded half-up to the
    currency's places. The places are read once per response (serializer context)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        places = self.context.get("currency_places") if self.context else None
        if places is None:
            places = currency_places()
        return str(to_currency(value, places))


class IdField(serializers.IntegerField):
    """A row id as written by clients: 1 .. 2**31-1 (larger ones would overflow the database)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**31 - 1)
        super().__init__(**kwargs)


class QuantityField(serializers.DecimalField):
    """A quantity in a product's stock unit: read from a decimal string or number with at most
    3 places (the product's own places are checked by the service), written as a string
    without trailing zeros ("2", "0.75")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", MAX_PLACES)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return str(normalised(summed(value)))


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    target_class = MoneyField

    def map_serializer_field(self, auto_schema, direction):
        return decimal_schema(
            direction,
            pattern=r"^-?\d{1,12}(\.\d{1,2})?$",
            example="12000",
            description="Money in the shop's currency, VAT included.",
        )


class QuantityFieldSchema(OpenApiSerializerFieldExtension):
    target_class = QuantityField

    def map_serializer_field(self, auto_schema, direction):
        return decimal_schema(
            direction,
            pattern=r"^-?\d{1,11}(\.\d{1,3})?$",
            example="0.75",
            description="In the product's stock unit, at most its unit's decimal places.",
        )
