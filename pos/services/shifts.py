"""Shifts: open with a float, cash in, pay-outs and drops, end with a blind count, close.

A shift goes open -> ended -> closed. The cashier ends it with a blind count (per tender, cash
note by note): they are never shown what was expected. A manager then reviews the count, the
expected figures, each tender's total and the over/short, and closes it, confirming the count or
recounting with a second person. Where the shop does not review closes
(`ShopSettings.review_shift_close` off), or a manager counts their own till, the count closes
the shift at once (`close_shift`).

Expected cash = opening float + cash sales (less change) + cash invoice payments − cash refunds
− cash drops − pay-outs + cash in; each is a sum over the shift's ledger rows, never a running
figure, and it is stored when the shift ends. Over/short is computed once, at close, from the
stored count and expected figure, and stored; nothing recomputes it. A closed shift is
immutable.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts import audit
from pos import denominations, errors, scoping
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
    ShopSettings,
    Tender,
)
from pos.money import to_currency
from pos.quantities import as_json
from pos.services import journal, locks, rows
from pos.services.mobile_money import needs_refund as needs_momo_refund
from pos.services.momo_reconciliation import mobile_money_by_status
from pos.services.offline_pending import refuse_close_with_unsynced_sales

ZERO = Decimal(0)
# Tenders that end up in a drawer or a statement and can be counted at close.
COUNTED_TENDERS = [Tender.CASH, Tender.MOBILE_MONEY, Tender.CARD, Tender.BANK_TRANSFER]


def _require_store_of(register: Register, cashier) -> None:
    """Staff sell on the tills of the stores they work in only (pos.scoping).

    :raises NotAllowed: `register` is a till of another store.
    """
    if not scoping.works_in(cashier, register.store_id):
        raise errors.NotAllowed(
            gettext("%(register)s is a till of another store: you do not work there.")
            % {"register": register},
            field="register",
        )


def open_shift(
    *, register: Register, cashier, opening_float=None, opening_count: dict | None = None
) -> Shift:
    """Open a shift with its float, typed as a total or counted note by note (`opening_count`,
    {denomination: pieces}: the float is its total); a register and a cashier each have at
    most one open shift.

    :raises NotAllowed: the cashier may not sell, or not on a till of that store.
    """
    if not cashier.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to open a shift."))
    _require_store_of(register, cashier)
    if not register.is_active:
        raise errors.ShiftNotAllowed(
            gettext("%(register)s is not in use.") % {"register": register}, field="register"
        )
    pieces: dict[str, int] = {}
    if opening_count:
        counted = count_cash(opening_count, "opening_count")
        pieces = counted.pieces
        if opening_float not in (None, "") and _positive_amount(
            opening_float, "opening_float"
        ) != to_currency(counted.total):
            raise errors.InvalidPrice(
                gettext("The float typed differs from the notes and coins counted."),
                field="opening_float",
            )
        opening_float = counted.total
    if opening_float in (None, ""):
        raise errors.InvalidPrice(gettext("Count the float in the drawer."), field="opening_float")
    opening_float = _positive_amount(opening_float, "opening_float")
    try:
        with transaction.atomic():
            shift = Shift.objects.create(
                register=register,
                cashier=cashier,
                opening_float=opening_float,
                opening_count=pieces,
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
    own = _open_shift("cashier_id", user.pk)
    if own is not None or till_shift_id is None:
        return own
    shared = _open_shift("id", till_shift_id)
    return shared if shared is not None and shared.is_worked_by(user) else None


def _open_shift(column: str, value) -> Shift | None:
    """`Shift.objects.select_related("register").filter(<column>=value, status="open").first()`
    as a plain statement (pos.services.rows): the ORM's compiling of it cost more CPU than the
    round trip, on every sale."""
    if value is None:
        return None
    return _open_shift_and_sale(column, value)[0]


def require_open_shift_and_sale(
    user, idempotency_key, *, till_shift_id: int | None = None
) -> tuple[Shift, Sale | None]:
    """`require_open_shift(user, till_shift_id=...)` and the sale already stored under
    `idempotency_key` (None if none), read in one statement (one more for a shared till's
    shift, as `open_shift_for` reads it): checkout needs both before its transaction
    (pos.services.checkout's `stored`). The API's sale has no shared till.

    :raises ShiftClosed: the user has no open shift (whatever is stored under the key, as when
        the two were read one after the other).
    """
    shift, sale = _open_shift_and_sale("cashier_id", user.pk, idempotency_key)
    if shift is None and till_shift_id is not None:
        shift, sale = _open_shift_and_sale("id", till_shift_id, idempotency_key)
        if shift is not None and not shift.is_worked_by(user):
            shift = None
    if shift is None:
        raise errors.ShiftClosed(gettext(NO_SHIFT["sell"]))
    return shift, sale


def _open_shift_and_sale(column: str, value, idempotency_key=None):
    """The open shift whose `column` is `value` with its register, and with an
    `idempotency_key` the sale stored under it (LEFT JOIN: None if there is none):
    (shift or None, sale or None)."""
    quote = connection.ops.quote_name
    selected = f"{rows.columns(Shift, 's')}, {rows.columns(Register, 'r')}"
    joins = f"INNER JOIN {quote(Register._meta.db_table)} r ON r.id = s.register_id"
    params = [value, Shift.Status.OPEN.value]
    if idempotency_key is not None:
        selected += f", {rows.columns(Sale, 'x')}"
        joins += f" LEFT JOIN {quote(Sale._meta.db_table)} x ON x.idempotency_key = %s"
        key = Sale._meta.get_field("idempotency_key").get_db_prep_value(idempotency_key, connection)
        params.insert(0, key)
    with rows.cursor() as cursor:
        cursor.execute(
            f"SELECT {selected} FROM {quote(Shift._meta.db_table)} s {joins} "  # noqa: S608 - the models' own names
            f"WHERE s.{quote(column)} = %s AND s.status = %s ORDER BY s.opened_at DESC LIMIT 1",
            params,
        )
        row = cursor.fetchone()
    if row is None:
        return None, None
    shift = rows.loaded(Shift, row)
    rows.related(shift, "register", rows.loaded(Register, row, rows.width(Shift)))
    start = rows.width(Shift) + rows.width(Register)
    stored = None
    if idempotency_key is not None and row[start] is not None:  # the sale's id
        stored = rows.loaded(Sale, row, start)
    return shift, stored


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

    :raises NotAllowed: the cashier may not sell, or not on a till of that store.
    :raises ShiftClosed: the shift has closed.
    """
    if not cashier.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))
    _require_store_of(shift.register, cashier)
    with transaction.atomic():
        shift = _lock_open_shift(shift)
        if shift.cashier_id != cashier.pk:
            _joined, created = ShiftCashier.objects.get_or_create(shift=shift, cashier=cashier)
            if created:
                audit.record(action="shift.cashier_joined", actor=cashier, target=shift)
    return shift


def record_cash_movement(*, shift: Shift, kind: str, amount, reason: str, user) -> CashMovement:
    """Cash into the drawer (paid in), or out of it during an open shift: a pay-out (spent:
    airtime, a delivery) or a drop (taken to the safe or the bank), each with a reason."""
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
        if signed < ZERO and expected_cash(shift) + signed < ZERO:
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
    a journal entry on the register's chain, with who and why; needs the shift to be open and
    the `pos.open_cash_drawer` permission. The till then kicks the drawer
    (`pos.services.printing.kick_drawer`) when its printer has one."""
    if not user.has_perm("pos.open_cash_drawer"):
        raise errors.NotAllowed(gettext("You are not allowed to open the drawer without a sale."))
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


def count_cash(pieces, field_name: str = "denominations") -> denominations.Count:
    """A count of notes and coins checked against the shop's list, with its total.

    :raises InvalidTender: on the first faulty denomination (`<field_name>.<denomination>`).
    """
    if not isinstance(pieces, dict):
        raise errors.InvalidTender(gettext("Count the notes and coins."), field=field_name)
    try:
        counted = denominations.count(pieces, ShopSettings.load().denomination_list())
    except denominations.CountError as error:
        message = COUNT_ERRORS.get(str(error), COUNT_ERRORS["not a number of pieces"])
        raise errors.InvalidTender(
            gettext(message) % {"denomination": error.denomination},
            field=f"{field_name}.{error.denomination}",
        ) from None
    return denominations.Count(pieces=counted.pieces, total=to_currency(counted.total))


COUNT_ERRORS = {
    "not a denomination of the shop": gettext_noop(
        "%(denomination)s is not one of the shop's notes or coins."
    ),
    "not a number of pieces": gettext_noop(
        "Count the %(denomination)s notes or coins as a whole number."
    ),
    "too many pieces": gettext_noop("Too many %(denomination)s notes or coins: count again."),
}


def _counts(counted: dict, pieces: dict | None, field_prefix: str):
    """The amounts per tender, cash from its notes and coins when counted that way."""
    counted = dict(counted or {})
    cash_pieces: dict[str, int] = {}
    if pieces:
        cash = count_cash(pieces, f"{field_prefix}denominations")
        cash_pieces = cash.pieces
        typed = counted.get(Tender.CASH)
        if typed not in (None, "") and _positive_amount(typed, "counted.cash") != cash.total:
            raise errors.InvalidTender(
                gettext("The cash typed differs from the notes and coins counted."),
                field=f"{field_prefix}counted.cash",
            )
        counted[Tender.CASH] = cash.total
    if counted.get(Tender.CASH) in (None, ""):
        raise errors.InvalidTender(
            gettext("Count the cash in the drawer."), field=f"{field_prefix}counted.cash"
        )
    amounts = {}
    for tender, amount in counted.items():
        if tender not in COUNTED_TENDERS:
            raise errors.InvalidTender(
                gettext("%(tender)s is not counted.") % {"tender": repr(tender)},
                field=f"{field_prefix}counted.{tender}",
            )
        if amount in (None, ""):
            continue
        amounts[tender] = _positive_amount(amount, f"{field_prefix}counted.{tender}")
    return amounts, cash_pieces


def end_shift(
    *, shift: Shift, counted: dict, user, denominations: dict | None = None, note: str = ""
) -> Shift:
    """The cashier's blind count: the amount per tender (`counted`; cash may instead be counted
    note by note, `denominations`). The shift ends (no more sales, refunds or cash movements on
    it), the count and the expected figures are stored, and it waits for a manager's review.

    :raises NotAllowed: another cashier's shift, and the user is not a manager.
    :raises InvalidTender: a count is missing or wrong (the field is named).
    :raises ShiftClosed: the shift has already ended.
    """
    if shift.cashier_id != user.pk and not user.has_perm("pos.close_any_shift"):
        raise errors.NotAllowed(gettext("Only a manager can close another cashier's shift."))
    amounts, pieces = _counts(counted, denominations, "")
    refuse_close_with_unsynced_sales(shift)  # sales made offline are counted first
    with transaction.atomic():
        # Same order as checkout: the register row first, so no sale commits past the count.
        locks.register(shift.register_id)
        shift = _lock_open_shift(shift)
        expected = expected_by_tender(shift)
        shift.status = Shift.Status.ENDED
        shift.ended_at = timezone.now()
        shift.ended_by = user
        shift.closing_note = note
        shift.closing_count = {
            "counted": {tender: str(amount) for tender, amount in amounts.items()},
            "denominations": pieces,
        }
        shift.expected = {tender: str(to_currency(amount)) for tender, amount in expected.items()}
        shift.save(
            update_fields=[
                "status",
                "ended_at",
                "ended_by",
                "closing_note",
                "closing_count",
                "expected",
            ]
        )
        journal.append(events.shift_ended_event(shift))
    return shift


def review_close(
    *,
    shift: Shift,
    user,
    recount: dict | None = None,
    recount_denominations: dict | None = None,
    witness=None,
    note: str = "",
) -> Shift:
    """A manager closes an ended shift: they confirm the cashier's count, or recount (per
    tender, cash note by note) with a second person (`witness`) and the recount stands. The
    over/short (count − expected, per tender) is computed here, once, and stored with the
    Z-report.

    :raises NotAllowed: the user may not review closes, or the witness is missing or the
        reviewer themselves.
    :raises InvalidTender: a recount is missing or wrong.
    :raises ShiftClosed: the shift is still open or already closed.
    """
    if not user.has_perm("pos.close_any_shift"):
        raise errors.NotAllowed(gettext("Only a manager can review and close a shift."))
    final = None
    if recount is not None or recount_denominations:
        if witness is None or witness.pk == user.pk or not witness.is_active:
            raise errors.NotAllowed(
                gettext("A recount needs a second person, other than you."), field="witness"
            )
        final = _counts(recount or {}, recount_denominations, "recount.")
    with transaction.atomic():
        shift = locks.shift(shift.pk)
        if shift.status != Shift.Status.ENDED:
            raise errors.ShiftClosed(
                gettext("Only an ended shift is reviewed: this one is %(status)s.")
                % {"status": shift.get_status_display()}
            )
        if final is not None:
            amounts, pieces = final
            shift.recount = {
                "counted": {tender: str(amount) for tender, amount in amounts.items()},
                "denominations": pieces,
                "witness_id": witness.pk,
            }
        _close(shift, user, note)
    return shift


def _close(shift: Shift, user, note: str) -> None:
    """Status closed, over/short and the Z-report from the stored count and expected figures."""
    final = shift.recount or shift.closing_count
    counts = {tender: Decimal(amount) for tender, amount in final.get("counted", {}).items()}
    expected = {tender: Decimal(amount) for tender, amount in shift.expected.items()}
    report = z_report(shift)
    report["counts"] = {
        tender: {
            "expected": str(expected.get(tender, ZERO)),
            "counted": str(counts[tender]) if tender in counts else None,
            "over_short": str(counts[tender] - expected.get(tender, ZERO))
            if tender in counts
            else None,
        }
        for tender in COUNTED_TENDERS
    }
    report["count"] = count_summary(shift)
    shift.status = Shift.Status.CLOSED
    shift.closed_at = timezone.now()
    shift.closed_by = user
    if note:
        shift.closing_note = "\n".join(filter(None, [shift.closing_note, note]))
    shift.over_short = counts[Tender.CASH] - expected.get(Tender.CASH, ZERO)
    shift.z_report = report
    shift.save(
        update_fields=[
            "status",
            "closed_at",
            "closed_by",
            "closing_note",
            "over_short",
            "z_report",
            "recount",
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


def count_summary(shift: Shift) -> dict:
    """Who counted what: the float's and the closing count's notes and coins, and a recount."""
    summary = {
        "opening": shift.opening_count or {},
        "closing": shift.closing_count.get("denominations", {}),
        "closing_counted": shift.closing_count.get("counted", {}),
        "ended_by": shift.ended_by.get_username() if shift.ended_by_id else None,
    }
    if shift.recount:
        witness = get_user_model().objects.filter(pk=shift.recount.get("witness_id")).first()
        summary["recount"] = {
            "counted": shift.recount.get("counted", {}),
            "denominations": shift.recount.get("denominations", {}),
            "witness": witness.get_username() if witness else None,
        }
    return summary


def close_shift(
    *, shift: Shift, counted: dict, user, note: str = "", denominations: dict | None = None
) -> Shift:
    """The count at the end of a shift (see `end_shift`). It closes the shift at once when the
    shop does not review closes or the one counting is a manager (who reviews their own
    count); otherwise the shift is left ended, for a manager's review (`review_close`)."""
    with transaction.atomic():
        ended = end_shift(
            shift=shift, counted=counted, user=user, denominations=denominations, note=note
        )
        if ShopSettings.load().review_shift_close and not user.has_perm("pos.close_any_shift"):
            return ended
        _close(ended, user, "")
    return ended


def cash_breakdown(shift: Shift) -> dict[str, Decimal]:
    """The parts of the expected cash, each a sum of the shift's rows: opening float, cash
    sales (less change, voids taken back), invoice payments, refunds (negative), cash in,
    pay-outs and drops (negative), and `expected`, their sum."""
    cash = Payment.objects.filter(shift=shift, tender=Tender.CASH).aggregate(
        sales=Sum("amount", filter=Q(sale__isnull=False)),
        refunds=Sum("amount", filter=Q(refund__isnull=False)),
        invoices=Sum("amount", filter=Q(sale__isnull=True, refund__isnull=True)),
    )
    moves = CashMovement.objects.filter(shift=shift).aggregate(
        paid_in=Sum("amount", filter=Q(kind=CashMovement.Kind.PAID_IN)),
        paid_out=Sum("amount", filter=Q(kind=CashMovement.Kind.PAID_OUT)),
        drops=Sum("amount", filter=Q(kind=CashMovement.Kind.DROP)),
    )
    parts = {
        "opening_float": shift.opening_float,
        "sales": cash["sales"] or ZERO,
        "invoice_payments": cash["invoices"] or ZERO,
        "refunds": cash["refunds"] or ZERO,
        "paid_in": moves["paid_in"] or ZERO,
        "paid_out": moves["paid_out"] or ZERO,
        "drops": moves["drops"] or ZERO,
    }
    parts = {name: to_currency(value) for name, value in parts.items()}
    parts["expected"] = sum(parts.values(), ZERO)
    return parts


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
    momo, momo_by_provider = mobile_money_by_status(shift)
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
        # Expected cash, part by part (pay-outs, drops and refunds negative).
        "cash": {name: money(value) for name, value in cash_breakdown(shift).items()},
        # Mobile Money apart from cash: typed references, request-to-pay, and the requests
        # no sale used, by status.
        "mobile_money": momo,
        # The same per provider (MTN MoMo, Airtel Money) the shift used.
        "mobile_money_by_provider": momo_by_provider,
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
