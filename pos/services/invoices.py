"""Invoices for sales on account, payments against them, and the customer's balance.

The customer's balance is what they owe: checkout adds the on-account part of a sale (and
invoices it), a payment against an invoice takes it off, a cancelled invoice takes its total off.
So for a customer whose balance comes only from invoices,
``customer.balance == SUM(balance due of their open invoices)`` and each invoice's
``amount_paid == SUM(its payments)``.

Lock order (pos.services.locks): the customer row, then the invoice row, then (for cash) the
register row, under which the shift's status is checked, as checkout and close_shift do. Checkout
locks the customer before it creates an invoice, so the two never wait on each other in reverse.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import audit
from core.errors import NotFound
from pos import errors
from pos.journal import events
from pos.models import Customer, Invoice, LedgerKind, MobileProvider, Payment, Shift, Tender
from pos.money import format_money, to_currency
from pos.services import journal, ledger, locks
from pos.services.sequences import next_number
from pos.services.shifts import open_shift_for

ZERO = Decimal(0)
PAYABLE_STATUSES = Invoice.OPEN_STATUSES


def create_invoice_for_sale(*, sale, amount: Decimal, user) -> Invoice:
    """Invoice the on-account part of a sale (inside the checkout's transaction)."""
    number = next_number("invoice")
    issued = timezone.localdate()
    return Invoice.objects.create(
        number=f"INV-{number:06d}",
        customer_id=sale.customer_id,
        sale=sale,
        issued_at=sale.created_at,
        due_date=issued + datetime.timedelta(days=settings.INVOICE_PAYMENT_TERMS_DAYS),
        total=amount,
        status=Invoice.Status.SENT,
        created_by=user,
    )


def record_invoice_payment(
    *, invoice: Invoice, amount, tender: str, user, shift: Shift | None = None, reference: str = ""
) -> Payment:
    """Take a payment against an invoice in any tender but `account`, up to its balance due.

    Cash goes into a drawer, so it needs an open shift: `shift`, or else the user's own open
    shift; another cashier's shift only with `pos.close_any_shift`. Other tenders are linked to
    the shift when there is one (so the Z-report shows them) and may be taken without one.
    The payment is a new Payment row (invoice=, shift=), counted by the shift's expected cash.
    """
    tender, amount, reference, shift = _checked_payment(tender, amount, reference, user, shift)
    with transaction.atomic():
        customer = locks.customer(invoice.customer_id)
        invoice = _lock_invoice(invoice)
        if invoice.status not in PAYABLE_STATUSES:
            raise errors.InvoiceNotPayable(
                gettext("Invoice %(number)s is %(status)s; it cannot take payments.")
                % {"number": invoice.number, "status": invoice.get_status_display().lower()},
                field="invoice",
            )
        if amount > invoice.balance_due:
            due = to_currency(invoice.balance_due)
            raise errors.Overpayment(
                gettext("Invoice %(number)s has %(due)s left to pay; %(amount)s is more than that.")
                % {
                    "number": invoice.number,
                    "due": format_money(due),
                    "amount": format_money(amount),
                },
                field="amount",
                balance_due=str(due),
            )
        _lock_open_shift(shift)
        payment = _pay_invoice(invoice, amount, tender, reference, user, shift, timezone.now())
        _change_balance(customer, -amount, f"payment:{payment.pk}", invoice.sale_id)
        audit.record_on_commit(
            action="invoice.payment_recorded",
            actor=user,
            target=invoice,
            details={
                "payment_id": payment.pk,
                "tender": tender,
                "amount": str(amount),
                "balance_due": str(to_currency(invoice.balance_due)),
                "shift_id": shift.pk if shift is not None else None,
            },
        )
        _journal(payment, invoice, shift)
    return payment


def pay_on_account(
    *, customer: Customer, amount, tender: str, user, shift: Shift | None = None, reference=""
) -> list[Payment]:
    """Take a customer's payment against what they owe on account: their open invoices, the
    oldest due first, each paid up to its balance (the last perhaps in part).

    The same rules as `record_invoice_payment` (tender, shift, Mobile Money reference); more
    than the customer owes is refused whole. The payments written share one `created_at`: the
    payment receipt shows them together (`pos.selectors.account_payment`).
    """
    tender, amount, reference, shift = _checked_payment(tender, amount, reference, user, shift)
    with transaction.atomic():
        customer = locks.customer(customer.pk)
        if customer is None:
            raise NotFound(gettext("Unknown customer."), field="customer")
        invoices = locks.in_pk_order(
            Invoice.objects.filter(customer=customer, status__in=PAYABLE_STATUSES)
        )
        owed = sum((invoice.balance_due for invoice in invoices), ZERO)
        if amount > owed:
            raise errors.Overpayment(
                gettext("%(name)s owes %(owed)s on account; %(amount)s is more than that.")
                % {
                    "name": customer.name,
                    "owed": format_money(to_currency(owed)),
                    "amount": format_money(amount),
                },
                field="amount",
                balance_due=str(to_currency(owed)),
            )
        _lock_open_shift(shift)
        now, left, payments = timezone.now(), amount, []
        for invoice in sorted(invoices, key=lambda i: (i.due_date, i.issued_at, i.pk)):
            part = min(left, invoice.balance_due)
            if part > ZERO:
                payments.append(_pay_invoice(invoice, part, tender, reference, user, shift, now))
                left -= part
        for payment in payments:
            _change_balance(
                customer, -payment.amount, f"payment:{payment.pk}", payment.invoice.sale_id
            )
        audit.record_on_commit(
            action="customer.paid_on_account",
            actor=user,
            target=customer,
            details={
                "payment_ids": [payment.pk for payment in payments],
                "tender": tender,
                "amount": str(amount),
                "owed_after": str(to_currency(owed - amount)),
                "shift_id": shift.pk if shift is not None else None,
            },
        )
        for payment in payments:  # the journal's head last, as every service does
            _journal(payment, payment.invoice, shift)
    return payments


def _checked_payment(tender, amount, reference, user, shift):
    """A payment's tender, amount, reference and shift, checked before any lock is taken."""
    if not (user.has_perm("pos.sell") or user.has_perm("pos.change_invoice")):
        raise errors.NotAllowed(gettext("You are not allowed to take payments for invoices."))
    tender = str(tender or "").strip()
    if tender not in Tender.values:
        raise errors.InvalidTender(
            gettext("Unknown tender %(tender)s.") % {"tender": repr(tender)}, field="tender"
        )
    if tender == Tender.ACCOUNT:
        raise errors.InvalidTender(
            gettext(
                "An invoice cannot be paid on account; choose cash, mobile money, card "
                "or bank transfer."
            ),
            field="tender",
        )
    amount = _positive_amount(amount, "amount")
    reference = (reference or "").strip()[:100]
    if tender == Tender.MOBILE_MONEY and not reference:
        raise errors.InvalidTender(
            gettext("Type the Mobile Money transaction id shown on the customer's phone."),
            field="reference",
        )
    if shift is None:
        shift = open_shift_for(user)
    if tender == Tender.CASH and shift is None:
        raise errors.ShiftClosed(
            gettext("Open a shift to take cash: it goes into a drawer."), field="shift"
        )
    if (
        shift is not None
        and not shift.is_worked_by(user)
        and not user.has_perm("pos.close_any_shift")
    ):
        raise errors.NotAllowed(gettext("This is another cashier's shift."), field="shift")
    return tender, amount, reference, shift


def _journal(payment: Payment, invoice: Invoice, shift: Shift | None) -> None:
    journal.append(
        events.account_payment_event(
            payment,
            invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            register_id=shift.register_id if shift is not None else None,
        )
    )


def _lock_open_shift(shift: Shift | None) -> None:
    """As checkout does: the register row, then the shift's status under that lock, so that no
    payment lands in a shift that close_shift (register, then shift) has just closed."""
    if shift is not None:
        locks.register(shift.register_id)
        if not Shift.objects.filter(pk=shift.pk, status=Shift.Status.OPEN).exists():
            raise errors.ShiftClosed(field="shift")


def _pay_invoice(invoice, amount, tender, reference, user, shift, at) -> Payment:
    """`invoice` is the row the caller locked."""
    payment = Payment.objects.create(
        invoice=invoice,
        shift=shift,
        tender=tender,
        amount=amount,
        reference=reference,
        # The back office takes MTN's typed references (Airtel's at the till).
        provider=MobileProvider.MTN if tender == Tender.MOBILE_MONEY else "",
        created_by=user,
        created_at=at,
    )
    invoice.amount_paid += amount
    invoice.status = (
        Invoice.Status.PAID if invoice.balance_due == ZERO else Invoice.Status.PARTLY_PAID
    )
    invoice.save(update_fields=["amount_paid", "status"])
    return payment


def cancel_invoice(*, invoice: Invoice, user, reason: str) -> Invoice:
    """Cancel an invoice that has no payments; the customer no longer owes its total.

    The sale stays as it is (goods left the shop and the stock ledger says so): a manager voids
    or refunds the sale separately if the goods came back. Needs `pos.change_invoice`.
    """
    if not user.has_perm("pos.change_invoice"):
        raise errors.NotAllowed(gettext("Only a manager can cancel an invoice."))
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired(gettext("Say why the invoice is cancelled."), field="reason")
    with transaction.atomic():
        customer = locks.customer(invoice.customer_id)
        invoice = _lock_invoice(invoice)
        if invoice.status == Invoice.Status.CANCELLED:
            raise errors.InvoiceNotCancellable(
                gettext("Invoice %(number)s is already cancelled.") % {"number": invoice.number}
            )
        if invoice.amount_paid or invoice.payments.exists():
            raise errors.InvoiceNotCancellable(
                gettext("Invoice %(number)s has payments; it cannot be cancelled.")
                % {"number": invoice.number}
            )
        owed = invoice.balance_due
        invoice.status = Invoice.Status.CANCELLED
        invoice.save(update_fields=["status"])
        _change_balance(customer, -owed, f"invoice-cancelled:{invoice.pk}", invoice.sale_id)
        audit.record_on_commit(
            action="invoice.cancelled",
            actor=user,
            target=invoice,
            details={"reason": reason[:200], "total": str(to_currency(invoice.total))},
        )
        journal.append(
            events.invoice_cancelled_event(
                invoice, user_id=user.pk, reason=reason[:200], at=timezone.now()
            )
        )
    return invoice


def _lock_invoice(invoice: Invoice) -> Invoice:
    locked = locks.invoice(invoice.pk)
    if locked is None:
        raise NotFound(gettext("Unknown invoice."), field="invoice")
    return locked


def _change_balance(customer: Customer, delta: Decimal, event: str, sale_id=None) -> None:
    """`customer` is the row the caller locked: a debt entry keyed `<event>/debt` in the
    customer ledger, and the cached balance moved with it (pos.services.ledger)."""
    ledger.apply(
        kind=LedgerKind.DEBT, key=f"{event}/debt", amount=delta, customer=customer, sale_id=sale_id
    )


def _positive_amount(value, field_name: str) -> Decimal:
    if isinstance(value, float | bool):
        raise errors.InvalidPrice(
            gettext("Enter the amount as a number of francs."), field=field_name
        )
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise errors.InvalidPrice(gettext("Enter an amount."), field=field_name) from None
    if not amount.is_finite():
        raise errors.InvalidPrice(gettext("Enter an amount."), field=field_name)
    if amount <= ZERO:
        raise errors.InvalidPrice(gettext("The amount must be more than zero."), field=field_name)
    if to_currency(amount) != amount:
        raise errors.InvalidPrice(
            gettext("The amount has too many decimal places."), field=field_name
        )
    return to_currency(amount)
