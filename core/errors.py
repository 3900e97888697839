"""The one base class for operational (domain) errors.

A domain error is an expected refusal (out of stock, shift closed, credit limit...): it has a
stable `code` for clients, a `message` a cashier can read, and an HTTP `status`. It is shown to
the user and logged without a stack trace. Anything else that escapes a view is a bug.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    message = _("The request could not be completed.")
    status = 400

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: dict[str, list[str]] | None = None,
        **details,
    ):
        self.message = message or self.message
        if code is not None:
            self.code = code
        # Messages per input field ({"qty": ["Only 2 left."]}), shown next to the field;
        # `field="qty"` is short for the error's own message on that one field.
        self.fields = fields or ({field: [self.message]} if field else {})
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            **({"fields": self.fields} if self.fields else {}),
            **({"details": self.details} if self.details else {}),
        }


class NotFound(DomainError):
    code = "not_found"
    message = _("Not found.")
    status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    message = _("You are not allowed to do that.")
    status = 403


class Conflict(DomainError):
    code = "conflict"
    message = _("The request conflicts with the current state.")
    status = 409
