"""Barcode check digits (GS1): EAN-13, UPC-A and EAN-8. Other formats are accepted as they are."""

from django.core.exceptions import ValidationError

GS1_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13"}


def gs1_check_digit(body: str) -> int:
    """GS1 check digit for `body` (the digits before it): weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_barcode(value: str) -> None:
    if value and value.isdigit() and len(value) in GS1_LENGTHS:
        if gs1_check_digit(value[:-1]) != int(value[-1]):
            raise ValidationError(
                "%(kind)s barcode %(value)s has a wrong check digit.",
                code="bad_check_digit",
                params={"kind": GS1_LENGTHS[len(value)], "value": value},
            )


def make_ean13(body12: str) -> str:
    return body12 + str(gs1_check_digit(body12))
