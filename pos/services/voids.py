"""Voiding a sale: undoing a mistake in the same open shift, by new, compensating rows.

Nothing of the sale is edited but its status: stock comes back through `refund` movements,
every payment gets an opposite payment in the sale's shift (so the sale's payments sum to 0),
the customer's totals and balance go back, and an unpaid invoice is cancelled. After the shift
has closed, a sale can only be refunded.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import audit
from core.errors import NotFound
from pos import errors, hooks
from pos.journal import events
from pos.models import Invoice, MovementKind, Payment, Sale, Shift, Tender
from pos.services import approvals, journal, ledger, locks
from pos.services.customers import record_customer_purchase
from pos.services.stock import MovementLine, Reference, apply_movements, till_store_id

ZERO = Decimal(0)
MAX_REASON = 200


def void_sale(*, sale: Sale, user, reason: str, approved_by=None) -> Sale:
    """Void a completed sale of a still-open shift and reverse it whole. Needs `pos.void_sale`:
    the user's own, or that of `approved_by`, the manager who approved it at the till (then
    audited as `sale.void_override` in this transaction).

    Locks (pos.services.locks): the sale row (serialises voids and refunds of this sale), then
    the products with the sale's till's store's levels (by pk, in `apply_movements`), the
    customer, the invoice, the register, and the
    shift's status is checked under the register lock, as checkout and close_shift do.
    """
    at_the_till = user
    user = approvals.authoriser(
        user=user,
        approved_by=approved_by,
        permission="pos.void_sale",
        refusal="Only a manager can void a sale.",
    )
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired(gettext("Say why the sale is voided."), field="reason")

    with transaction.atomic():
        sale = locks.sale(sale.pk)
        if sale is None:
            raise NotFound(gettext("Unknown sale."), field="sale")
        if sale.status == Sale.Status.VOIDED:
            raise errors.VoidNotAllowed(
                gettext("Sale %(number)s is already voided.") % {"number": sale.number}
            )
        if sale.refunds.exists():
            raise errors.VoidNotAllowed(
                gettext("Sale %(number)s has refunds; refund the rest instead of voiding it.")
                % {"number": sale.number}
            )
        if sale.shift.status != Shift.Status.OPEN:
            raise _shift_closed(sale)
        label = f"Void of {sale.number}"
        reference = Reference("pos.sale", str(sale.pk), label)
        lines = list(sale.lines.order_by("pk"))
        apply_movements(
            lines=[
                MovementLine(
                    line.product_id,
                    line.quantity,
                    MovementKind.REFUND,
                    line.unit_cost,
                    reason=label,
                    reference=reference,
                )
                for line in lines
            ],
            user=user,
            allow_negative=True,  # stock only comes back
            store=till_store_id(sale.register_id),  # into the store of the till that sold it
        )
        payments = list(sale.payments.order_by("pk"))
        if sale.customer_id is not None:
            on_credit = sum(
                (p.amount for p in payments if p.tender == Tender.ACCOUNT and not p.is_change),
                ZERO,
            )
            record_customer_purchase(
                customer_id=sale.customer_id,
                amount=-sale.total,
                on_credit=-on_credit,
                event=f"void:{sale.pk}",
                sale_id=sale.pk,
            )
            ledger.take_back_points(
                sale=sale, customer=locks.customer(sale.customer_id), event=f"void:{sale.pk}"
            )
        if any(p.tender in ledger.ACCOUNT_TENDERS for p in payments):  # spent: given back
            customer = locks.customer(sale.customer_id) if sale.customer_id else None
            codes = [p.reference for p in payments if p.tender == Tender.GIFT_CARD]
            cards = locks.gift_cards(codes) if codes else {}
            ledger.post_sale_tenders(
                sale, payments, customer, cards, sign=1, event=f"void:{sale.pk}"
            )
        invoice = locks.invoice_of_sale(sale)
        if invoice is not None:
            if invoice.amount_paid != ZERO or invoice.status in {
                Invoice.Status.PARTLY_PAID,
                Invoice.Status.PAID,
            }:
                raise errors.VoidNotAllowed(
                    gettext("Invoice %(number)s has payments against it; refund the sale instead.")
                    % {"number": invoice.number}
                )
            invoice.status = Invoice.Status.CANCELLED
            invoice.save(update_fields=["status"])

        locks.register(sale.register_id)
        if Shift.objects.filter(pk=sale.shift_id, status=Shift.Status.OPEN).count() != 1:
            raise _shift_closed(sale)

        now = timezone.now()
        reversals = Payment.objects.bulk_create(
            [
                Payment(
                    sale=sale,
                    shift_id=sale.shift_id,
                    tender=p.tender,
                    amount=-p.amount,
                    is_change=p.is_change,  # the change comes back into the drawer
                    reference=label[:100],
                    provider=p.provider,
                    created_by=user,
                    created_at=now,
                )
                for p in payments
            ]
        )
        sale.status = Sale.Status.VOIDED
        sale.voided_at = now
        sale.voided_by = user
        sale.void_reason = reason[:MAX_REASON]
        sale.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
        hooks.run(hooks.sale_voided, sale)  # fiscal signing: an R receipt for the whole sale
        journal.append(events.void_event(sale, lines, reversals))
        approvals.record_override(
            action="sale.void_override",
            authorised_by=user,
            user=at_the_till,
            target=sale,
            details={"reason": reason[:MAX_REASON]},
        )
        audit.record_on_commit(
            action="sale.voided",
            actor=user,
            target=sale,
            details={"reason": sale.void_reason, "total": str(sale.total)},
        )
    return sale


def _shift_closed(sale: Sale) -> errors.VoidNotAllowed:
    return errors.VoidNotAllowed(
        gettext(
            "The shift of sale %(number)s is closed; a sale can only be voided in "
            "its own open shift. Refund it instead."
        )
        % {"number": sale.number}
    )
