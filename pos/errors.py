"""Domain errors of the point of sale. Each is an expected refusal with a stable code.

`api_status = 422` marks a business rule's refusal (the request was well formed, the shop's
rules say no): the REST API answers 422 for it, screens keep `status`. Stale state and
idempotency-key reuse stay 409; malformed input stays 400.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, DomainError, PermissionDenied

BUSINESS_RULE = 422


class InsufficientStock(Conflict):
    """Taking this quantity would make stock negative and the shop does not allow it."""

    code = "out_of_stock"
    message = _("Not enough stock.")
    api_status = BUSINESS_RULE
    status = 409

    def __init__(self, message=None, *, product=None, available=None, requested=None, **details):
        self.product = product
        self.available = available
        self.requested = requested
        if message is None and product is not None:
            show = getattr(product, "format_quantity", str)
            message = gettext(
                "Not enough stock of %(product)s: %(available)s available, %(requested)s needed."
            ) % {"product": product, "available": show(available), "requested": show(requested)}
        extra = {}
        if product is not None:
            from pos.quantities import as_json

            extra = {
                "product_id": product.pk,
                "available": as_json(available),
                "requested": as_json(requested),
            }
        super().__init__(message, **extra, **details)

    @classmethod
    def for_shortages(cls, shortages: list[tuple]) -> "InsufficientStock":
        """Every short line at once: `shortages` are (product, available, requested). One line
        reads as before; several are named in one message, and `details["shortages"]` lists
        each (product_id, available, requested, message) so that a screen marks every line."""
        from pos.quantities import as_json

        each = [cls(product=p, available=a, requested=r) for p, a, r in shortages]
        listed = [
            {
                "product_id": error.product.pk,
                "available": as_json(error.available),
                "requested": as_json(error.requested),
                "message": error.message,
            }
            for error in each
        ]
        if len(each) == 1:
            return cls(
                product=each[0].product,
                available=each[0].available,
                requested=each[0].requested,
                shortages=listed,
            )
        return cls(
            " ".join(error.message for error in each),
            product_id=[error.product.pk for error in each],
            shortages=listed,
        )


OutOfStock = InsufficientStock


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    message = _("The quantity is not valid.")


class PriceBelowMinimum(DomainError):
    code = "price_below_minimum"
    message = _("The price is below the product's minimum price.")
    api_status = BUSINESS_RULE


class InvalidPrice(DomainError):
    code = "invalid_price"
    message = _("The price is not valid.")


class ReasonRequired(DomainError):
    code = "reason_required"
    message = _("A reason is required.")


class InvalidPhoneNumber(DomainError):
    code = "invalid_phone"
    message = _("Enter a Rwandan mobile number such as 0788123456 or +250788123456.")


class InvalidStatusTransition(Conflict):
    code = "invalid_status"
    message = _("This cannot be done in the document's current status.")


class OverReceipt(DomainError):
    code = "over_receipt"
    message = _("Cannot receive more than was ordered.")
    api_status = BUSINESS_RULE


class CreditLimitExceeded(Conflict):
    code = "credit_limit_exceeded"
    message = _("This would take the customer over their credit limit.")
    api_status = BUSINESS_RULE


class ImportFailed(DomainError):
    """A CSV import had errors; `report` holds the per-row messages. Nothing was written."""

    code = "import_failed"
    message = _("The file has errors; nothing was imported.")

    def __init__(self, message=None, *, report=None, **details):
        self.report = report
        super().__init__(message, **details)


# --- Selling ---------------------------------------------------------------------------------


class EmptyCart(DomainError):
    code = "empty_cart"
    message = _("The cart is empty.")
    api_status = BUSINESS_RULE


class InvalidBuyer(DomainError):
    code = "invalid_buyer"
    message = _("The buyer's TIN or purchase code is not valid.")


class InvalidTender(DomainError):
    code = "invalid_tender"
    message = _("That payment is not valid.")


class InvalidAddress(DomainError):
    """A message's phone number or email address is missing or not usable."""

    code = "invalid_address"
    message = _("Enter a phone number or an email address.")


class InvalidAdjustment(DomainError):
    """A manager's gift card or balance adjustment that is incomplete or would go below zero."""

    code = "invalid_adjustment"
    message = _("That adjustment is not valid.")


class TendersDoNotCover(DomainError):
    code = "tenders_do_not_cover"
    message = _("The payments do not add up to the total.")
    api_status = BUSINESS_RULE


class ShiftClosed(Conflict):
    code = "shift_closed"
    message = _("The shift is closed. Open a shift to sell.")


class TillNotSelling(Conflict):
    """The till works in another mode (training, pos.hooks.till_modes): its sales are rung up
    on its own screens, never through the API."""

    code = "till_not_selling"
    message = _("This till is in training: it takes no sale here.")


class ShiftAlreadyOpen(Conflict):
    code = "shift_already_open"
    message = _("A shift is already open.")


class ShiftNotAllowed(DomainError):
    code = "shift_not_allowed"
    message = _("A shift cannot be opened here.")


class ProductNotForSale(DomainError):
    code = "product_not_for_sale"
    message = _("This product is not for sale.")
    api_status = BUSINESS_RULE


class ApprovalRequired(PermissionDenied):
    code = "approval_required"
    message = _("This discount is beyond your limit; a manager must approve it.")


class CustomerRequired(DomainError):
    code = "customer_required"
    message = _("Choose a customer first.")
    api_status = BUSINESS_RULE


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    message = _("This idempotency key was already used for a different sale.")


class RefundNotAllowed(Conflict):
    code = "refund_not_allowed"
    message = _("This cannot be refunded.")


class RefundExceedsSold(InvalidQuantity):
    """More units back than were sold and not yet returned (same code as before: a quantity)."""

    message = _("More is returned than was sold.")
    api_status = BUSINESS_RULE


class VoidNotAllowed(Conflict):
    code = "void_not_allowed"
    message = _("This sale cannot be voided.")


NotAllowed = PermissionDenied


# --- Mobile money (request to pay) -------------------------------------------------------------


class NoOpenShift(DomainError):
    code = "no_open_shift"
    message = _("Open a shift before asking for a Mobile Money payment.")


class InvalidAmount(DomainError):
    code = "invalid_amount"
    message = _("Enter an amount greater than zero.")


class MoMoRequestKeyConflict(Conflict):
    code = "momo_request_key_conflict"
    message = _("This request key was already used for a different Mobile Money payment.")


class InvalidMoMoRequest(DomainError):
    """Several inputs of a Mobile Money request are wrong; `fields` says which."""

    code = "invalid_momo_request"
    message = _("Check the amount and the phone number.")


# --- Held sales, voids, refunds ----------------------------------------------------------------


class HeldSaleOtherRegister(Conflict):
    code = "held_sale_other_register"
    message = _("This sale was held on another register; resume it there.")


class NotEnoughCashInDrawer(Conflict):
    code = "not_enough_cash_in_drawer"
    message = _("There is not enough cash in the drawer for this refund.")
    api_status = BUSINESS_RULE


# --- Invoices --------------------------------------------------------------------------------


class InvoiceNotPayable(Conflict):
    code = "invoice_not_payable"
    message = _("This invoice cannot take payments.")


class Overpayment(DomainError):
    code = "overpayment"
    message = _("The payment is more than the invoice's balance due.")
    api_status = BUSINESS_RULE


class InvoiceNotCancellable(Conflict):
    code = "invoice_not_cancellable"
    message = _("This invoice cannot be cancelled.")


# --- Offline selling -------------------------------------------------------------------------


class UnsyncedSales(Conflict):
    code = "unsynced_sales"
    message = _("This till has sales made offline that have not reached the server yet.")


class InvalidOfflineSale(DomainError):
    code = "invalid_offline_sale"
    message = _("This offline sale cannot be read.")


class TrainingOfflineSale(InvalidOfflineSale):
    """An offline sale rung up while its till was in training (its payload says so): a practice
    sale, never recorded as a sale whatever the till's mode when it is synced."""

    code = "training_sale"
    message = _(
        "Rung up while the till was in training: a practice sale is never recorded as a sale. "
        "Dismiss it."
    )


class InvalidTransfer(DomainError):
    """A stock transfer that cannot be made as asked (the same store twice, no lines, a store
    closed, a product twice)."""

    code = "invalid_transfer"
    message = _("This transfer cannot be made.")
