"""Rwandan phone numbers, in the one form the shop stores: +2507XXXXXXXX.

Pure: the model's validation, the services, the till's and the admin's search all use it, so it
depends on nothing but the domain errors.
"""

import re

from pos.errors import InvalidPhoneNumber

# Rwandan mobile numbers: 07X XXX XXXX nationally, +250 7X XXX XXXX internationally.
_MOBILE = re.compile(r"^7[0-9]{8}$")


def normalise_phone(raw: str) -> str:
    """'0788 123 456', '788123456', '250788123456', '+250 788-123-456' -> '+250788123456'."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("250"):
            raise InvalidPhoneNumber(field="phone")
    if not digits.isdigit():
        raise InvalidPhoneNumber(field="phone")
    if digits.startswith("250") and len(digits) == 12:
        local = digits[3:]
    elif digits.startswith("0") and len(digits) == 10:
        local = digits[1:]
    else:
        local = digits
    if not _MOBILE.match(local):
        raise InvalidPhoneNumber(field="phone")
    return "+250" + local
