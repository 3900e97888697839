"""Request-to-pay with Mobile Money (MTN MoMo or Airtel Money): start a request, follow it to a
final state, settle stragglers. Each request names its provider; the provider's client
(pos.mobile_money.providers) is the only thing that differs, so both share this state machine:
pending -> successful or failed, and a late success. Below, "MTN" stands for either provider.

Rules:
- The request row (with its reference id) is committed *before* MTN is called, and no database
  transaction is held open during an HTTP call. A retry or a crash never asks the customer twice:
  the stored reference id is reused, and MTN treats a second request with it as a duplicate.
- A request only moves forward: pending -> successful or failed. The one exception is a *late
  success*: a request we gave up on (timed out) that MTN later reports SUCCESSFUL for exactly the
  amount asked. It becomes successful with a reason starting with LATE_SUCCESS, and a warning is
  logged. If no sale uses it, the customer paid for nothing: `needs_refund()` lists it (the
  Z-report and `manage.py reconcile_momo` show it) until a manager refunds it by hand. A late
  success can still be used for the sale if the customer is at the till (checkout accepts any
  successful, unused request of the shift for its exact amount); then it needs no refund.
- A SUCCESSFUL reply for another amount or currency is never accepted: the request fails with a
  reason starting with WRONG_AMOUNT and is listed by `needs_refund()` as well.
- A callback from MTN is only a hint: callers re-query MTN through `refresh_request`.
- The worker follows every request with no one looking (`poll_due`, pos/tasks.py): every 5 s for
  its first 2 minutes, then each minute to 30 minutes, then hourly to 24 hours, until final.
- A request asked for a cart (the till sends the cart's checkout key as the request key) whose
  sale was then paid another way, or that was cleared or held (`abandon_requests`), is
  abandoned: a success after that is a late success, flagged for a manager (`needs_refund`),
  and no sale can use it. "Paid another way" is read from the sale with that key
  (`sold_otherwise`), so checkout itself writes nothing more for it.
"""

import logging
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts import audit
from core.errors import DomainError
from pos import errors
from pos.mobile_money import InvalidPhoneNumber as MoMoInvalidPhone
from pos.mobile_money import (
    MoMoAuthError,
    MoMoError,
    MoMoNotConfigured,
    MoMoNotFound,
    MoMoRequestRejected,
    MoMoTimeout,
    PaymentStatus,
    providers,
)
from pos.models import MobileMoneyRequest, MobileProvider, Sale, Shift, ShopSettings
from pos.money import to_currency
from pos.phones import normalise_phone
from pos.services import locks

logger = logging.getLogger("vevurn.momo")

Status = MobileMoneyRequest.Status

# Reasons that mark a request for a manager's attention (see the module docstring).
# Stored in English on the request (`reason`); shown in the reader's language (cashier_message).
TIMED_OUT = gettext_noop("Timed out: Mobile Money did not confirm the payment in time.")
NEVER_RECEIVED = gettext_noop("Mobile Money never received the request.")
LATE_SUCCESS = gettext_noop("Late success")
WRONG_AMOUNT = gettext_noop("Wrong amount")

UNUSED = "Unused"

# How often the worker asks MTN about a request, by the request's age (see the module docstring).
POLL_STEPS = (
    (timedelta(minutes=2), timedelta(seconds=5)),
    (timedelta(minutes=30), timedelta(minutes=1)),
    (timedelta(hours=24), timedelta(hours=1)),
)
POLL_LIMIT = 200  # requests asked about per run of the job; the rest wait for the next run

# Namespace of reference ids derived from a client's request key (one per shift and key).
REQUEST_KEY_NAMESPACE = uuid.UUID("8a0f2f0e-4f59-4d3a-9a51-6c1f1f6b2d7e")
MAX_AMOUNT = Decimal(10) ** 12


def start_request(
    *,
    shift: Shift | None,
    amount,
    phone: str,
    user,
    request_key: uuid.UUID | str | None = None,
    provider: str = MobileProvider.MTN,
) -> MobileMoneyRequest:
    """Ask `provider` (MTN by default) to prompt `phone` for `amount` on the user's open
    `shift`; returns the request.

    Call it outside any transaction: the row is committed before MTN is called. The same
    `request_key` on the same shift returns the first request and asks nothing again (then its
    `already_requested` is True). A timeout or an unreadable answer leaves the request pending
    (polling settles it); a definite refusal marks it failed and raises that MoMoError.
    """
    amount, phone, reference_id, key = _validate(shift, amount, phone, user, request_key, provider)
    request, created = _create_request(shift, amount, phone, user, reference_id, key, provider)
    request.already_requested = not created  # for the caller: an earlier call with this key
    if not created:
        return request
    try:
        with providers.provider(request.provider).client() as client:
            _send_request_to_pay(client, request)
    except MoMoTimeout:
        logger.warning("momo request %s: no answer in time; left pending", request.reference_id)
    except (MoMoRequestRejected, MoMoAuthError, MoMoNotConfigured, MoMoInvalidPhone) as exc:
        _record_final(request.pk, Status.FAILED, reason=exc.message)
        raise
    except MoMoError as exc:
        # 5xx, refused connection, unreadable reply: MTN may or may not have it. Polling asks
        # for its status and sends it again if MTN does not know it (same reference id).
        logger.error("momo request %s: %s; left pending", request.reference_id, exc.code)
    request.refresh_from_db()
    request.already_requested = False
    return request


def refresh_request(request: MobileMoneyRequest, *, client=None) -> MobileMoneyRequest:
    """Ask MTN for the state of `request` and record it; returns the request, reloaded.

    Pending requests are queried (and given up on after MOMO_PAYMENT_TIMEOUT_SECONDS); requests
    we timed out are queried for a late success. Final requests are returned as they are.
    """
    request.refresh_from_db()
    if not _worth_querying(request):
        return request
    if client is None:
        try:
            with providers.provider(request.provider).client() as own_client:
                return _refresh(request, own_client)
        except MoMoNotConfigured:
            # The settings were removed after the request was sent: an operator's choice, not a
            # fault (no ERROR per callback or poll); the request expires as usual.
            logger.warning("momo request %s: Mobile Money is not configured", request.reference_id)
            return _give_up_if_expired(request)
    return _refresh(request, client)


def needs_refund(shift: Shift | None = None) -> QuerySet[MobileMoneyRequest]:
    """Money MTN took that no sale uses: late successes not linked to a sale, and successes for
    another amount. A manager refunds these by hand."""
    found = sold_otherwise(MobileMoneyRequest.objects.all()).filter(
        Q(status=Status.SUCCESSFUL, reason__startswith=LATE_SUCCESS, payment__isnull=True)
        | Q(status=Status.SUCCESSFUL, abandoned_at__isnull=False, payment__isnull=True)
        | Q(status=Status.SUCCESSFUL, sold_otherwise=True, payment__isnull=True)
        | Q(status=Status.FAILED, reason__startswith=WRONG_AMOUNT)
    )
    if shift is not None:
        found = found.filter(shift=shift)
    return found.select_related("shift__register").order_by("pk")


def sold_otherwise(requests: QuerySet[MobileMoneyRequest]) -> QuerySet[MobileMoneyRequest]:
    """Annotates `sold_otherwise`: a sale was completed with the request's key (its cart) and
    the request does not pay it, so the customer paid that cart another way."""
    return requests.annotate(
        sold_otherwise=Exists(
            Sale.objects.filter(idempotency_key=OuterRef("request_key")).exclude(
                payments__momo_request=OuterRef("pk")
            )
        )
    )


def sold_otherwise_ids(requests) -> set[int]:
    """The ids among `requests` whose cart was paid another way (see `sold_otherwise`); one
    query, and none when no request carries a key."""
    keyed = [r.pk for r in requests if r.request_key is not None]
    if not keyed:
        return set()
    return set(
        sold_otherwise(MobileMoneyRequest.objects.filter(pk__in=keyed))
        .filter(sold_otherwise=True)
        .values_list("pk", flat=True)
    )


def cashier_message(request: MobileMoneyRequest) -> str:
    """What the payment screen says about a request."""
    if request.status == Status.SUCCESSFUL:
        return gettext("Paid. Mobile Money transaction %(id)s.") % {
            "id": request.financial_transaction_id
        }
    if request.status == Status.FAILED:
        # Our own reasons are in the catalogue; MTN's free text comes back unchanged.
        return (
            gettext(request.reason)
            if request.reason
            else gettext("Mobile Money declined the payment.")
        )
    return gettext("Waiting for the customer to approve the payment on their phone.")


def is_expired(request: MobileMoneyRequest) -> bool:
    deadline = request.created_at + timedelta(seconds=settings.MOMO_PAYMENT_TIMEOUT_SECONDS)
    return timezone.now() >= deadline


# --- Starting -------------------------------------------------------------------------------------


def _validate(shift, amount, phone, user, request_key, provider):
    if not user.has_perm("pos.sell"):
        raise errors.PermissionDenied(gettext("You are not allowed to sell."))
    if provider not in MobileProvider.values:
        raise errors.InvalidMoMoRequest(
            gettext("Choose MTN MoMo or Airtel Money."), field="provider"
        )
    if (
        shift is None
        or not shift.is_worked_by(user)
        or not Shift.objects.filter(pk=shift.pk, status=Shift.Status.OPEN).exists()
    ):
        raise errors.NoOpenShift(field="shift")
    problems: list[DomainError] = []
    try:
        amount = _parse_amount(amount)
    except errors.InvalidAmount as exc:
        problems.append(exc)
    try:
        phone = normalise_phone(phone)
    except errors.InvalidPhoneNumber as exc:
        problems.append(exc)
    reference_id = None
    if request_key not in (None, ""):
        try:
            key = uuid.UUID(str(request_key))
        except ValueError:
            problems.append(
                errors.InvalidMoMoRequest(
                    gettext("The request key must be a UUID."), field="request_key"
                )
            )
        else:
            # MTN's ids as they always were; another provider's apart from MTN's for one cart.
            suffix = "" if provider == MobileProvider.MTN else f":{provider}"
            reference_id = uuid.uuid5(REQUEST_KEY_NAMESPACE, f"{shift.pk}:{key}{suffix}")
    if len(problems) == 1:
        raise problems[0]
    if problems:
        fields = {name: msgs for problem in problems for name, msgs in problem.fields.items()}
        raise errors.InvalidMoMoRequest(fields=fields)
    if not providers.provider(provider).configured():
        raise MoMoNotConfigured()
    return amount, phone, reference_id, (key if reference_id is not None else None)


def _parse_amount(raw) -> Decimal:
    if isinstance(raw, float):
        raise errors.InvalidAmount(
            gettext("Send the amount as a string, not a float."), field="amount"
        )
    try:
        amount = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise errors.InvalidAmount(
            gettext("Enter the amount as a number, e.g. 5000."), field="amount"
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise errors.InvalidAmount(field="amount")
    if amount >= MAX_AMOUNT:
        raise errors.InvalidAmount(gettext("The amount is too large."), field="amount")
    places = ShopSettings.load().currency_decimal_places
    if to_currency(amount, places) != amount:
        raise errors.InvalidAmount(
            gettext("The amount can have at most %(places)s decimal places.") % {"places": places},
            field="amount",
        )
    return to_currency(amount, places)


def _create_request(
    shift, amount, phone, user, reference_id, key, provider
) -> tuple[MobileMoneyRequest, bool]:
    """The stored request, committed (or the one already stored for this reference id)."""
    if reference_id is not None:
        existing = _existing_for_key(reference_id, amount, phone)
        if existing is not None:
            return existing, False
    fields = {
        "shift": shift,
        "amount": amount,
        "phone": phone,
        "created_by": user,
        "next_poll_at": timezone.now() + POLL_STEPS[0][1],
        "request_key": key,
        "provider": provider,
    }
    if reference_id is not None:
        fields["reference_id"] = reference_id
    try:
        with transaction.atomic():
            request = MobileMoneyRequest.objects.create(**fields)
    except IntegrityError:
        # The same key sent twice at the same time: the other call stored it first.
        existing = _existing_for_key(reference_id, amount, phone) if reference_id else None
        if existing is None:
            raise
        return existing, False
    return request, True


def _existing_for_key(reference_id, amount, phone) -> MobileMoneyRequest | None:
    existing = MobileMoneyRequest.objects.filter(reference_id=reference_id).first()
    if existing is not None and (existing.amount != amount or existing.phone != phone):
        raise errors.MoMoRequestKeyConflict(field="request_key")
    return existing


def _send_request_to_pay(client, request: MobileMoneyRequest) -> None:
    shop = ShopSettings.load()
    client.request_to_pay(
        reference_id=request.reference_id,
        amount=request.amount,
        payer_phone=request.phone,
        external_id=f"shift{request.shift_id}-req{request.pk}",
        currency=providers.provider(request.provider).currency,
        payer_message=f"{shop.name}: payment at the till"[:160],
        payee_note=f"Shift {request.shift_id}",
        callback_url=callback_url_for(request),
    )


def callback_url_for(request: MobileMoneyRequest) -> str:
    """MOMO_CALLBACK_URL is the public address of our callback endpoint (ending in
    /pos/momo/callback/); MTN calls it with the reference id appended. Empty: no callback."""
    base = settings.MOMO_CALLBACK_URL
    if not base:
        return ""
    return f"{base.rstrip('/')}/{request.reference_id}/"


# --- Following a request --------------------------------------------------------------------------


def _worth_querying(request: MobileMoneyRequest) -> bool:
    return request.status == Status.PENDING or (
        request.status == Status.FAILED and request.reason == TIMED_OUT
    )


def _refresh(request: MobileMoneyRequest, client) -> MobileMoneyRequest:
    try:
        status = client.get_status(request.reference_id)
    except MoMoNotFound:
        return _not_found(request, client)
    except MoMoError as exc:
        # Unreadable answer, MTN down, or no answer: nothing learnt. Try again on the next poll.
        logger.error("momo status of request %s failed: %s", request.reference_id, exc.code)
        return _give_up_if_expired(request)
    return _apply_status(request, status)


def _not_found(request: MobileMoneyRequest, client) -> MobileMoneyRequest:
    """MTN never got the request (a crash or a lost call after we stored it)."""
    if request.status != Status.PENDING or is_expired(request):
        return _record_final(request.pk, Status.FAILED, reason=NEVER_RECEIVED)
    logger.warning("momo request %s unknown to MTN; sending it again", request.reference_id)
    try:
        _send_request_to_pay(client, request)
    except (MoMoRequestRejected, MoMoAuthError, MoMoInvalidPhone) as exc:
        return _record_final(request.pk, Status.FAILED, reason=exc.message)
    except MoMoError as exc:
        logger.error("momo request %s: sending again failed: %s", request.reference_id, exc.code)
    request.refresh_from_db()
    return request


def _give_up_if_expired(request: MobileMoneyRequest) -> MobileMoneyRequest:
    if request.status == Status.PENDING and is_expired(request):
        return _record_final(request.pk, Status.FAILED, reason=TIMED_OUT)
    return request


def _apply_status(request: MobileMoneyRequest, status: PaymentStatus) -> MobileMoneyRequest:
    currency = providers.provider(request.provider).currency
    if status.is_successful and status.confirms(amount=request.amount, currency=currency):
        return _record_final(
            request.pk,
            Status.SUCCESSFUL,
            financial_transaction_id=status.financial_transaction_id or "",
        )
    if status.is_successful:
        logger.warning(
            "momo request %s: MTN confirmed %s %s, we asked %s %s; not accepted",
            request.reference_id,
            status.amount,
            status.currency,
            request.amount,
            currency,
        )
        return _record_final(
            request.pk,
            Status.FAILED,
            reason=(
                f"{WRONG_AMOUNT}: Mobile Money confirmed {status.amount} {status.currency}, "
                f"not {request.amount} {currency}. Not accepted; refund the customer."
            ),
            financial_transaction_id=status.financial_transaction_id or "",
        )
    if status.is_final:
        return _record_final(request.pk, Status.FAILED, reason=status.failure_message)
    return _give_up_if_expired(request)


def _record_final(pk: int, new_status: str, *, reason: str = "", financial_transaction_id=""):
    """Move the request to a final state under its row lock, only forward (see module doc)."""
    with transaction.atomic():
        request = locks.mobile_money_request(pk)
        timed_out = request.status == Status.FAILED and request.reason == TIMED_OUT
        pending = request.status == Status.PENDING
        moved_on = request.abandoned_at is not None or request.pk in sold_otherwise_ids([request])
        late = timed_out or (pending and moved_on)
        if late and new_status == Status.SUCCESSFUL:
            _mark_late_success(request, financial_transaction_id)
        elif pending:
            request.status = new_status
            request.reason = reason[:200]
            request.financial_transaction_id = financial_transaction_id[:64]
        elif timed_out:
            # MTN's final word on a request we gave up on (declined, unknown, wrong amount):
            # still failed, with the real reason, and no longer worth asking about.
            request.reason = reason[:200]
            request.financial_transaction_id = financial_transaction_id[:64]
        else:
            return request  # already final: a late or repeated answer changes nothing
        request.save(update_fields=["status", "reason", "financial_transaction_id", "updated_at"])
    return request


def _mark_late_success(request: MobileMoneyRequest, financial_transaction_id: str) -> None:
    """MTN took the money after the till gave up on the request or the cart was paid another
    way: successful, flagged for a manager (needs_refund), never used by a sale afterwards."""
    logger.warning(
        "momo request %s: late success after the till %s (transaction %s, %s); "
        "refund the customer unless a sale uses it",
        request.reference_id,
        "timed it out" if request.status == Status.FAILED else "moved on",
        financial_transaction_id,
        request.amount,
    )
    request.status = Status.SUCCESSFUL
    request.reason = (
        f"{LATE_SUCCESS}: Mobile Money confirmed it after the till "
        + ("gave up" if request.status == Status.FAILED else "was paid another way")
        + "; refund the customer unless a sale uses it."
    )[:200]
    request.financial_transaction_id = financial_transaction_id[:64]
    audit.record_on_commit(
        action="momo.late_success",
        target=request,
        details={
            "reference_id": str(request.reference_id),
            "amount": str(request.amount),
            "financial_transaction_id": request.financial_transaction_id,
            "timed_out": request.status == Status.FAILED,
        },
    )


# --- Abandoning and polling -------------------------------------------------------------------


def abandon_requests(*, shift: Shift, request_key) -> int:
    """The cart asked for with `request_key` was cleared or held: its unused request will pay no
    sale. A success that arrives afterwards is a late success (see the module docstring)."""
    try:
        key = uuid.UUID(str(request_key))
    except ValueError:
        return 0
    return MobileMoneyRequest.objects.filter(
        shift=shift, request_key=key, payment__isnull=True, abandoned_at__isnull=True
    ).update(abandoned_at=timezone.now())


def next_poll(request: MobileMoneyRequest, now) -> timedelta | None:
    """How long until the worker asks MTN again about `request`; None: never again."""
    age = now - request.created_at
    for until, interval in POLL_STEPS:
        if age < until:
            return interval
    return None


def poll_due(*, now=None, limit: int = POLL_LIMIT) -> Counter:
    """Ask MTN about every request that is due (pending ones, and timed-out ones for a late
    success up to a day old); returns {(before, after): count}.

    Each request is claimed by moving its next_poll_at forward with a conditional UPDATE, which
    commits at once: two workers never ask about the same request in the same step, and no row
    lock or transaction is held while MTN is called (refresh_request writes the answer in its
    own short transaction)."""
    now = now or timezone.now()
    due = (
        MobileMoneyRequest.objects.filter(
            Q(status=Status.PENDING)
            | Q(status=Status.FAILED, reason=TIMED_OUT, created_at__gte=now - POLL_STEPS[-1][0])
        )
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by("next_poll_at", "pk")[:limit]
    )
    claimed = []
    for request in due:
        interval = next_poll(request, now)
        next_at = now + interval if interval is not None else None
        if MobileMoneyRequest.objects.filter(
            pk=request.pk, next_poll_at=request.next_poll_at
        ).update(next_poll_at=next_at):
            claimed.append(request)
    outcomes: Counter = Counter()
    for code in providers.PROVIDERS:  # one client per provider for the whole run
        mine = [request for request in claimed if request.provider == code]
        if mine:
            _poll(mine, providers.provider(code), outcomes)
    return outcomes


def _poll(claimed: list[MobileMoneyRequest], provider, outcomes: Counter) -> None:
    try:
        with provider.client() as client:
            for request in claimed:
                before = request.status
                outcomes[(before, refresh_request(request, client=client).status)] += 1
    except MoMoNotConfigured:
        for request in claimed:
            before = request.status
            outcomes[(before, refresh_request(request).status)] += 1
