"""Shifts: open with a float, cash in and out, close with a count and a Z-report.

Expected cash = opening float + cash taken (sales, less change; invoice payments) − cash refunds
+ cash in − cash out; each is a sum over the shift's ledger rows, never a running figure.
A closed shift is immutable.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts import audit
from pos import errors
from pos.journal import events
from pos.models import (
    CashMovement,
    Payment,
    Refund,
    Register,
    Sale,
    SaleLine,
    Shift,
    ShiftCashier,
    Tender,
)
from pos.money import to_currency
from pos.quantities import as_json
from pos.services import journal, locks
from pos.services.mobile_money import needs_refund as needs_momo_refund
from pos.services.offline_pending import refuse_close_with_unsynced_sales

ZERO = Decimal(0)
# Tenders that end up in a drawer or a statement and can be counted at close.
COUNTED_TENDERS = [Tender.CASH, Tender.MOBILE_MONEY, Tender.CARD, Tender.BANK_TRANSFER]


def open_shift(*, register: Register, cashier, opening_float) -> Shift:
    """Open a shift; a register and a cashier each have at most one open shift."""
    if not cashier.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to open a shift."))
    if not register.is_active:
        raise errors.ShiftNotAllowed(
            gettext("%(register)s is not in use.") % {"register": register}, field="register"
        )
    opening_float = _positive_amount(opening_float, "opening_float")
    try:
        with transaction.atomic():
            shift = Shift.objects.create(
                register=register, cashier=cashier, opening_float=opening_float
            )
            journal.append(events.shift_opened_event(shift))
            return shift
    except IntegrityError:
        if Shift.objects.filter(register=register, status=Shift.Status.OPEN).exists():
            raise errors.ShiftAlreadyOpen(
                gettext("%(register)s already has an open shift.") % {"register": register}
            ) from None
        raise errors.ShiftAlreadyOpen(
            gettext("You already have an open shift on another register.")
        ) from None


def open_shift_for(user, *, till_shift_id: int | None = None) -> Shift | None:
    """The open shift `user` sells on: their own, or else the shared till's (`till_shift_id`,
    the shift of the till they signed in on with their PIN) if they joined it."""
    own = Shift.objects.select_related("register").filter(cashier=user, status="open").first()
    if own is not None or till_shift_id is None:
        return own
    shared = (
        Shift.objects.select_related("register")
        .filter(pk=till_shift_id, status=Shift.Status.OPEN)
        .first()
    )
    return shared if shared is not None and shared.is_worked_by(user) else None


# What a user without an open shift is told, by what they were doing.
NO_SHIFT = {
    "sell": gettext_noop("Open a shift before selling."),
    "refund": gettext_noop("Open a shift to pay out a refund."),
}


def require_open_shift(user, *, till_shift_id: int | None = None, to: str = "sell") -> Shift:
    """The rule that selling and refunding need an open shift: the shift `user` works on (see
    `open_shift_for`).

    :raises ShiftClosed: the user has no open shift.
    """
    shift = open_shift_for(user, till_shift_id=till_shift_id)
    if shift is None:
        raise errors.ShiftClosed(gettext(NO_SHIFT[to]))
    return shift


def join_shift(*, shift: Shift, cashier) -> Shift:
    """`cashier` signs in with their PIN on the till of another cashier's open shift and sells
    on it under their own name (a shared till). Audited once per cashier and shift.

    :raises NotAllowed: the cashier may not sell.
    :raises ShiftClosed: the shift has closed.
    """
    if not cashier.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))
    with transaction.atomic():
        shift = _lock_open_shift(shift)
        if shift.cashier_id != cashier.pk:
            _joined, created = ShiftCashier.objects.get_or_create(shift=shift, cashier=cashier)
            if created:
                audit.record(action="shift.cashier_joined", actor=cashier, target=shift)
    return shift


def record_cash_movement(*, shift: Shift, kind: str, amount, reason: str, user) -> CashMovement:
    """Cash in or out of the drawer during an open shift, with a reason (paid-ins, paid-outs)."""
    if kind not in CashMovement.Kind.values:
        raise errors.InvalidTender(
            gettext("Unknown cash movement %(kind)s.") % {"kind": repr(kind)}, field="kind"
        )
    amount = _positive_amount(amount, "amount")
    if amount == ZERO:
        raise errors.InvalidTender(gettext("Enter an amount."), field="amount")
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired(gettext("Say why the cash goes in or out."), field="reason")
    with transaction.atomic():
        shift = _lock_open_shift(shift)
        if shift.cashier_id != user.pk and not user.has_perm("pos.close_any_shift"):
            raise errors.NotAllowed(gettext("This is another cashier's shift."))
        signed = amount if kind == CashMovement.Kind.PAID_IN else -amount
        if kind == CashMovement.Kind.PAID_OUT and expected_cash(shift) + signed < ZERO:
            raise errors.InvalidTender(
                gettext("There is not that much cash in the drawer."), field="amount"
            )
        movement = CashMovement.objects.create(
            shift=shift, kind=kind, amount=signed, reason=reason[:200], created_by=user
        )
        journal.append(events.cash_movement_event(movement, shift.register_id))
    return movement


def open_drawer(*, shift: Shift, user, reason: str) -> None:
    """Record the cash drawer opened without a sale (change for a note, a check of the float):
    a journal entry on the register's chain, with who and why; needs the shift to be open."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired(gettext("Say why the drawer is opened."), field="reason")
    with transaction.atomic():
        shift = _lock_open_shift(shift)
        if shift.cashier_id != user.pk and not user.has_perm("pos.close_any_shift"):
            raise errors.NotAllowed(gettext("This is another cashier's shift."))
        journal.append(
            events.no_sale_event(shift, user_id=user.pk, reason=reason[:200], at=timezone.now())
        )


def expected_by_tender(shift: Shift) -> dict[str, Decimal]:
    """What should be in the drawer (cash) and on the statements (other tenders)."""
    taken = dict(
        Payment.objects.filter(shift=shift)
        .values_list("tender")
        .annotate(total=Sum("amount"))
        .values_list("tender", "total")
    )
    cash_moves = CashMovement.objects.filter(shift=shift).aggregate(total=Sum("amount"))["total"]
    expected = {tender: taken.get(tender) or ZERO for tender in COUNTED_TENDERS}
    expected[Tender.CASH] += shift.opening_float + (cash_moves or ZERO)
    return expected


def expected_cash(shift: Shift) -> Decimal:
    return expected_by_tender(shift)[Tender.CASH]


def close_shift(*, shift: Shift, counted: dict[str, object], user, note: str = "") -> Shift:
    """Close with the counted amount per tender; stores expected, counted, over/short and the
    Z-report. A manager may close another cashier's shift."""
    if shift.cashier_id != user.pk and not user.has_perm("pos.close_any_shift"):
        raise errors.NotAllowed(gettext("Only a manager can close another cashier's shift."))
    if Tender.CASH not in counted:
        raise errors.InvalidTender(gettext("Count the cash in the drawer."), field="counted.cash")
    counts = {}
    for tender, amount in counted.items():
        if tender not in COUNTED_TENDERS:
            raise errors.InvalidTender(
                gettext("%(tender)s is not counted.") % {"tender": repr(tender)},
                field=f"counted.{tender}",
            )
        counts[tender] = _positive_amount(amount, f"counted.{tender}")
    refuse_close_with_unsynced_sales(shift)  # sales made offline are counted first
    with transaction.atomic():
        # Same order as checkout: the register row first, so no sale commits past the close.
        locks.register(shift.register_id)
        shift = _lock_open_shift(shift)
        expected = expected_by_tender(shift)
        report = z_report(shift)
        report["counts"] = {
            tender: {
                "expected": str(to_currency(expected[tender])),
                "counted": str(counts[tender]) if tender in counts else None,
                "over_short": str(counts[tender] - to_currency(expected[tender]))
                if tender in counts
                else None,
            }
            for tender in COUNTED_TENDERS
        }
        shift.status = Shift.Status.CLOSED
        shift.closed_at = timezone.now()
        shift.closed_by = user
        shift.closing_note = note
        shift.over_short = counts[Tender.CASH] - to_currency(expected[Tender.CASH])
        shift.z_report = report
        shift.save(
            update_fields=[
                "status",
                "closed_at",
                "closed_by",
                "closing_note",
                "over_short",
                "z_report",
            ]
        )
        if shift.cashier_id != user.pk or shift.over_short:
            audit.record_on_commit(
                action="shift.closed",
                actor=user,
                target=shift,
                details={"over_short": str(shift.over_short), "cashier_id": shift.cashier_id},
            )
        journal.append(events.shift_closed_event(shift))
    return shift


def z_report(shift: Shift) -> dict:
    """Totals of a shift: by tender, by category, refunds, voids, discounts, tax, sale count."""
    sales = Sale.objects.filter(shift=shift)
    completed = sales.filter(status=Sale.Status.COMPLETED)
    totals = completed.aggregate(
        count=Count("id"),
        gross=Sum("subtotal"),
        discounts=Sum("discount_total"),
        tax=Sum("tax_total"),
        total=Sum("total"),
        cash_rounding=Sum("cash_rounding"),
    )
    voids = sales.filter(status=Sale.Status.VOIDED).aggregate(count=Count("id"), total=Sum("total"))
    refunds = Refund.objects.filter(shift=shift).aggregate(count=Count("id"), total=Sum("total"))
    by_tender = (
        Payment.objects.filter(shift=shift)
        .values("tender")
        .annotate(total=Sum("amount"), change=Sum("amount", filter=Q(is_change=True)))
        .order_by("tender")
    )
    by_category = (
        SaleLine.objects.filter(sale__in=completed)
        .values("product__category__name")
        .annotate(quantity=Sum("quantity"), total=Sum("total"))
        .order_by("product__category__name")
    )

    def money(value) -> str:
        # Aggregates come back with the database's scale (SQLite drops it): show currency places.
        return str(to_currency(value or ZERO))

    return {
        "shift_id": shift.pk,
        "register": str(shift.register),
        "cashier": shift.cashier.get_username(),
        "opened_at": shift.opened_at.isoformat(),
        "opening_float": money(shift.opening_float),
        "sales": {
            "count": totals["count"],
            "gross": money(totals["gross"]),
            "discounts": money(totals["discounts"]),
            "tax": money(totals["tax"]),
            "total": money(totals["total"]),
            # Cash due rounded to the shop's step: taken in cash beyond (or short of) the
            # totals; in the cash expected, as the payments hold it.
            "cash_rounding": money(totals["cash_rounding"]),
        },
        "voids": {"count": voids["count"], "total": money(voids["total"])},
        "refunds": {"count": refunds["count"], "total": money(refunds["total"])},
        "by_tender": {
            row["tender"]: {"net": money(row["total"]), "change": money(row["change"])}
            for row in by_tender
        },
        "by_category": [
            {
                "category": row["product__category__name"],
                "quantity": as_json(row["quantity"]),
                "total": money(row["total"]),
            }
            for row in by_category
        ],
        "cash_movements": money(
            CashMovement.objects.filter(shift=shift).aggregate(total=Sum("amount"))["total"]
        ),
        # Mobile Money taken with no sale (late success, wrong amount): refund by hand.
        "mobile_money_to_refund": [
            {
                "id": r.pk,
                "amount": money(r.amount),
                "financial_transaction_id": r.financial_transaction_id,
                "reason": r.reason,
            }
            for r in needs_momo_refund(shift)
        ],
    }


def _lock_open_shift(shift: Shift) -> Shift:
    locked = locks.shift(shift.pk)
    if locked.status != Shift.Status.OPEN:
        raise errors.ShiftClosed()
    return locked


def _positive_amount(value, field_name: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise errors.InvalidPrice(gettext("Enter an amount."), field=field_name) from None
    if not amount.is_finite() or amount < 0:
        raise errors.InvalidPrice(gettext("Amounts cannot be negative."), field=field_name)
    return to_currency(amount)
