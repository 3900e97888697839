"""Domain errors of the point of sale. Each is an expected refusal with a stable code."""

from vevurn.errors import Conflict, DomainError


class InsufficientStock(Conflict):
    """Taking this quantity would make stock negative and the shop does not allow it."""

    code = "out_of_stock"
    message = "Not enough stock."
    status = 409

    def __init__(self, message=None, *, product=None, available=None, requested=None, **details):
        self.product = product
        self.available = available
        self.requested = requested
        if message is None and product is not None:
            message = f"Not enough stock of {product}: {available} available, {requested} needed."
        extra = {}
        if product is not None:
            extra = {"product_id": product.pk, "available": available, "requested": requested}
        super().__init__(message, **extra, **details)


OutOfStock = InsufficientStock


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    message = "The quantity is not valid."


class PriceBelowMinimum(DomainError):
    code = "price_below_minimum"
    message = "The price is below the product's minimum price."


class InvalidPrice(DomainError):
    code = "invalid_price"
    message = "The price is not valid."


class ReasonRequired(DomainError):
    code = "reason_required"
    message = "A reason is required."


class InvalidPhoneNumber(DomainError):
    code = "invalid_phone"
    message = "Enter a Rwandan mobile number such as 0788123456 or +250788123456."


class InvalidStatusTransition(Conflict):
    code = "invalid_status"
    message = "This cannot be done in the document's current status."


class OverReceipt(DomainError):
    code = "over_receipt"
    message = "Cannot receive more than was ordered."


class CreditLimitExceeded(Conflict):
    code = "credit_limit_exceeded"
    message = "This would take the customer over their credit limit."


class ImportFailed(DomainError):
    """A CSV import had errors; `report` holds the per-row messages. Nothing was written."""

    code = "import_failed"
    message = "The file has errors; nothing was imported."

    def __init__(self, message=None, *, report=None, **details):
        self.report = report
        super().__init__(message, **details)
