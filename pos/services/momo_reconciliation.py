"""Reconciling the till's Mobile Money with MTN's merchant statement.

MTN's statement holds MTN's transactions only: Airtel Money payments and requests are left out
of the matching (they are never "in the till only" for MTN).

A manager imports the statement's CSV (pos.mobile_money.statement reads it; importing a row
twice changes nothing), then looks at a shift or a day: each till payment (typed reference or
request-to-pay), each Mobile Money refund or void (money given back) and each request no sale
used is matched with the statement, and every
difference is named: matched, amount differs, late success (money taken, no sale), on the
statement only, in the till only.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from pos import errors
from pos.mobile_money import statement
from pos.models import (
    MobileMoneyRequest,
    MobileMoneyStatementLine,
    MobileProvider,
    Payment,
    Shift,
    Tender,
)
from pos.money import to_currency
from pos.services.mobile_money import needs_refund

ZERO = Decimal(0)
# What pos.mobile_money.statement finds wrong, in the manager's language.
PROBLEMS = {
    "the file is empty": gettext_noop("the file is empty"),
    "column missing": gettext_noop("column missing"),
    "empty": gettext_noop("empty"),
    "not a date": gettext_noop("not a date"),
    "not an amount": gettext_noop("not an amount"),
}


def import_statement(*, content: bytes, user) -> dict[str, int]:
    """Store the rows of an MTN statement file; returns {"rows": read, "new": stored now}.

    :raises PermissionDenied: the user may not import statements.
    :raises ImportFailed: the file cannot be read (every problem listed, nothing stored).
    """
    if not user.has_perm("pos.add_mobilemoneystatementline"):
        raise errors.NotAllowed(gettext("You are not allowed to import Mobile Money statements."))
    try:
        rows = statement.parse(content, zone=timezone.get_current_timezone())
    except statement.StatementError as error:
        report = [
            gettext("Line %(line)s, %(column)s: %(problem)s")
            % {"line": line, "column": column, "problem": gettext(PROBLEMS.get(problem, problem))}
            for line, column, problem in error.problems
        ]
        raise errors.ImportFailed(
            gettext("The statement cannot be read: %(problems)s") % {"problems": "; ".join(report)},
            report=report,
            field="file",
        ) from None
    with transaction.atomic():
        known = set(
            MobileMoneyStatementLine.objects.filter(
                transaction_id__in=[row.transaction_id for row in rows]
            ).values_list("transaction_id", flat=True)
        )
        fresh = {row.transaction_id: row for row in rows if row.transaction_id not in known}
        MobileMoneyStatementLine.objects.bulk_create(
            [
                MobileMoneyStatementLine(
                    transaction_id=row.transaction_id,
                    external_id=row.external_id,
                    occurred_at=row.at,
                    status=row.status,
                    type=row.type,
                    payer=row.payer,
                    amount=row.amount,
                    currency=row.currency,
                    imported_by=user,
                )
                for row in fresh.values()
            ],
            ignore_conflicts=True,
        )
    return {"rows": len(rows), "new": len(fresh)}


def shift_window(shift: Shift) -> tuple[datetime.datetime, datetime.datetime]:
    return shift.opened_at, shift.closed_at or shift.ended_at or timezone.now()


def day_window(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time(), zone)
    return start, start + datetime.timedelta(days=1)


def reconcile_shift(shift: Shift) -> statement.Reconciliation:
    start, end = shift_window(shift)
    return _reconcile(Q(shift=shift), Q(shift=shift), start, end)


def reconcile_day(day: datetime.date, *, stores=None) -> statement.Reconciliation:
    """The day's reconciliation; with `stores` (store pks), the till side is their tills'."""
    start, end = day_window(day)
    window = Q(created_at__gte=start, created_at__lt=end)
    if stores is not None:
        window &= Q(shift__register__store__in=stores)
    return _reconcile(window, window, start, end)


def _reconcile(payments_q: Q, requests_q: Q, start, end) -> statement.Reconciliation:
    payments = [
        statement.TillPayment(
            payment_id=p["id"],
            reference=p["reference"],
            amount=p["amount"],
            at=p["created_at"],
            request_reference=p["momo_request__reference_id"],
        )
        for p in Payment.objects.filter(
            payments_q, tender=Tender.MOBILE_MONEY, provider=MobileProvider.MTN
        )
        .order_by("id")
        .values("id", "reference", "amount", "created_at", "momo_request__reference_id")
    ]
    requests = [
        statement.TillRequest(
            request_id=r["id"],
            reference_id=r["reference_id"],
            financial_transaction_id=r["financial_transaction_id"],
            status=r["status"],
            amount=r["amount"],
            at=r["created_at"],
        )
        for r in MobileMoneyRequest.objects.filter(
            requests_q, payment__isnull=True, provider=MobileProvider.MTN
        )
        .order_by("id")
        .values("id", "reference_id", "financial_transaction_id", "status", "amount", "created_at")
    ]
    ids = {p.reference for p in payments if p.reference} | {
        r.financial_transaction_id for r in requests if r.financial_transaction_id
    }
    externals = {str(p.request_reference) for p in payments if p.request_reference} | {
        str(r.reference_id) for r in requests
    }
    lines = MobileMoneyStatementLine.objects.filter(
        Q(occurred_at__gte=start, occurred_at__lt=end)
        | Q(transaction_id__in=ids)
        | Q(external_id__in=externals)
    ).order_by("occurred_at", "id")
    rows = [
        statement.StatementRow(
            transaction_id=line.transaction_id,
            external_id=line.external_id,
            at=line.occurred_at,
            status=line.status,
            type=line.type,
            payer=line.payer,
            amount=line.amount,
            currency=line.currency,
        )
        for line in lines
    ]
    return statement.reconcile(rows, payments, requests, start=start, end=end)


ROWS = ("typed_reference", "request_to_pay", "pending", "failed", "late_success")


def mobile_money_by_status(shift: Shift) -> tuple[dict, dict]:
    """The shift's Mobile Money apart from cash, for the Z-report: taken with a typed
    reference, taken by request-to-pay, and the requests no sale used, by status (pending,
    failed, late success: money taken, to refund). Returns (both providers together, {"mtn":
    MTN's rows, "airtel": Airtel's} for the providers the shift used)."""
    found = _by_status(shift)
    return found[None], {code: found[code] for code in MobileProvider.values if code in found}


def _by_status(shift: Shift) -> dict:
    """{None: every provider's rows, "mtn": MTN's, ...} in three queries."""
    sums: dict = {}

    def add(provider, row, total, count):
        for key in (None, provider):
            entry = sums.setdefault(key, {name: [ZERO, 0] for name in ROWS})[row]
            entry[0] += total or ZERO
            entry[1] += count or 0

    taken = (
        Payment.objects.filter(shift=shift, tender=Tender.MOBILE_MONEY)
        .values("provider")
        .annotate(
            typed=Sum("amount", filter=Q(momo_request__isnull=True)),
            typed_count=Sum(1, filter=Q(momo_request__isnull=True)),
            requested=Sum("amount", filter=Q(momo_request__isnull=False)),
            requested_count=Sum(1, filter=Q(momo_request__isnull=False)),
        )
        .order_by()
    )
    for row in taken:
        provider = row["provider"] or MobileProvider.MTN
        add(provider, "typed_reference", row["typed"], row["typed_count"])
        add(provider, "request_to_pay", row["requested"], row["requested_count"])
    unused = (
        MobileMoneyRequest.objects.filter(
            shift=shift,
            payment__isnull=True,
            status__in=[MobileMoneyRequest.Status.PENDING, MobileMoneyRequest.Status.FAILED],
        )
        .values("provider", "status")
        .annotate(total=Sum("amount"), count=Sum(1))
        .order_by()
    )
    for row in unused:
        add(row["provider"], row["status"], row["total"], row["count"])
    for request in needs_refund(shift):
        add(request.provider, "late_success", request.amount, 1)
    sums.setdefault(None, {name: [ZERO, 0] for name in ROWS})
    return {
        key: {
            name: {"count": count, "total": str(to_currency(total))}
            for name, (total, count) in rows.items()
        }
        for key, rows in sums.items()
    }
