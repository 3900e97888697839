"""Offline selling, server side: till devices, their receipt-number blocks, heartbeats and the
batch sync of the sales they made offline.

Rules this module owns:
- A device's offline numbers come from blocks reserved while online, each following the last
  (under the device's row lock), so they are gap-free per device; a sale whose number was never
  reserved for its device is refused.
- Sync is an upsert by the checkout's idempotency key, one transaction per sale: a sale already
  stored answers "already_stored" (a retry after the server died between commit and answer
  stores nothing twice); a refused sale is kept, with its reason, for a manager, and never
  blocks the sales after it.
- Every sale goes through `checkout` (so everything checkout does, fiscal signing included,
  happens at sync), with the snapshot's prices and negative stock allowed (`OfflineTerms`).
- A sale rung up while its till was in training (`"training": true` in its payload, set by the
  offline till from its snapshot's mode) is refused (code `training_sale`) and never stored as a
  sale, not even when a manager accepts it: the flag at sale time decides, not the till's mode
  at sync, so a real sale made offline before the till went into training still syncs as a
  real sale. A payload without the flag (an older till's) is a real sale.
- A shift cannot close while its till has unsynced sales: pending on a device (its heartbeat
  says how many) or refused and not yet resolved by a manager.
"""

import datetime
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts import audit
from core.errors import DomainError
from pos import errors, scoping
from pos.models import OfflineSale, Register, Shift, Tender, TillDevice
from pos.models.offline import is_training_payload
from pos.services import locks
from pos.services.checkout import Cart, CartLine, OfflineTerms, TenderLine, checkout
from pos.services.offline_pending import refuse_close_with_unsynced_sales, unsynced_count

__all__ = ["refuse_close_with_unsynced_sales", "unsynced_count"]

BLOCK_SIZE = 100  # offline receipt numbers reserved at a time
MAX_BATCH = 200  # sales in one sync request
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
OFFLINE_TENDERS = {Tender.CASH, Tender.MOBILE_MONEY}


@dataclass(frozen=True)
class SyncResult:
    key: str
    status: str  # "stored", "already_stored" or "refused"
    number: str = ""
    reason: str = ""
    code: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v or k in ("key", "status")}


def register_device(*, register: Register, user, key: uuid.UUID, label: str = "") -> TillDevice:
    """The device `key` of `register`, created (with the next device number) on first use."""
    found = TillDevice.objects.select_related("register").filter(key=key).first()
    if found is not None:
        if found.register_id != register.pk:
            raise errors.InvalidOfflineSale(
                gettext("This browser is set up for another till."), field="device"
            )
        return found
    for _attempt in range(5):
        last = (
            TillDevice.objects.filter(register=register).order_by("-code").values_list("code")
        ).first()
        try:
            with transaction.atomic():
                return TillDevice.objects.create(
                    register=register,
                    key=key,
                    code=(last[0] if last else 0) + 1,
                    label=label[:120],
                    created_by=user,
                )
        except IntegrityError:
            existing = TillDevice.objects.filter(key=key).first()
            if existing is not None:
                return existing
    raise errors.InvalidOfflineSale(gettext("Try again."), field="device")


def reserve_block(*, device: TillDevice, size: int = BLOCK_SIZE) -> tuple[int, int]:
    """Reserve the device's next `size` offline receipt numbers: (first, last)."""
    with transaction.atomic():
        locked = locks.till_device(device.pk)
        first = locked.last_reserved + 1
        locked.last_reserved += size
        locked.save(update_fields=["last_reserved"])
    device.last_reserved = locked.last_reserved
    return first, locked.last_reserved


def heartbeat(*, device: TillDevice, pending: int, oldest_pending_at, clock_offset_ms: int) -> None:
    """Record what the device says: how many sales wait in its outbox (since when) and how far
    its clock is from the server's."""
    pending = max(int(pending or 0), 0)
    TillDevice.objects.filter(pk=device.pk).update(
        last_seen_at=timezone.now(),
        pending_count=pending,
        oldest_pending_at=_parsed_time(oldest_pending_at) if pending else None,
        clock_offset_ms=int(clock_offset_ms or 0),
    )


def sync_sales(*, device: TillDevice, user, sales: list) -> list[SyncResult]:
    """Store the offline sales the device sent, each in its own transaction, and say what
    became of each: stored, already stored, or refused with the reason."""
    if not isinstance(sales, list) or len(sales) > MAX_BATCH:
        raise errors.InvalidOfflineSale(
            gettext("Send a list of at most %(max)s sales.") % {"max": MAX_BATCH}, field="sales"
        )
    shifts: dict[int, Shift | None] = {}  # read once per batch
    return [_sync_one(device, user, raw, shifts) for raw in sales]


def _sync_one(device: TillDevice, user, raw, shifts=None, accepted=None) -> SyncResult:
    key = str(raw.get("key", "")) if isinstance(raw, dict) else ""
    try:
        key = str(uuid.UUID(key))
    except ValueError:
        reason = gettext("The sale has no valid key.")
        return SyncResult(key, "refused", reason=reason, code="invalid")
    known = OfflineSale.objects.filter(key=key).first()
    if known is not None and known.status != OfflineSale.Status.REFUSED:
        if known.status == OfflineSale.Status.STORED:
            return SyncResult(key, "already_stored", number=known.number)
        return SyncResult(
            key, "refused", number=known.number, reason=known.reason, code="dismissed"
        )
    try:
        parsed = _parsed(device, raw, {} if shifts is None else shifts)
        if accepted is not None:  # a manager accepts it into `accepted.shift` for its seller
            parsed = replace(
                parsed,
                shift=accepted.shift,
                terms=replace(parsed.terms, accepted_by=accepted.manager),
            )
    except DomainError as error:
        number = str(error.details.get("number", ""))
        return _refuse(device, user, key, raw, known, error, number=number)
    try:
        # The sale commits in checkout's own transaction; its record after it. Should the
        # process die between the two, the retry finds the sale by its key (checkout replays
        # it) and records it then: nothing is stored twice either way.
        sale = _store(parsed, user)
        replayed = getattr(sale, "replayed", False)
        _record(device, user, key, raw, parsed, sale, known)
    except DomainError as error:
        return _refuse(device, user, key, raw, known, error, number=parsed.number)
    except IntegrityError:
        error = errors.InvalidOfflineSale(
            gettext("Receipt number %(number)s is already used by another sale.")
            % {"number": parsed.number}
        )
        return _refuse(device, user, key, raw, known, error, number=parsed.number)
    return SyncResult(key, "already_stored" if replayed else "stored", number=sale.number)


@dataclass(frozen=True)
class _Parsed:
    key: uuid.UUID
    number: str
    shift: Shift
    sold_at: datetime.datetime
    cart: Cart
    tenders: list[TenderLine]
    terms: OfflineTerms


def _store(parsed: _Parsed, user):
    return checkout(
        shift=parsed.shift,
        cashier=user,
        cart=parsed.cart,
        tenders=parsed.tenders,
        idempotency_key=parsed.key,
        offline=parsed.terms,
    )


def _record(device, user, key, raw, parsed, sale, known) -> None:
    if known is not None:
        OfflineSale.objects.filter(pk=known.pk).update(
            status=OfflineSale.Status.STORED,
            sale=sale,
            reason="",
            attempts=known.attempts + 1,
            payload=raw,
        )
        return
    values = {
        "device": device,
        "number": sale.number,
        "sold_at": parsed.sold_at,
        "synced_by": user,
        "payload": raw,
        "status": OfflineSale.Status.STORED,
        "sale": sale,
    }
    try:
        # One statement, outside any transaction (checkout's has committed): a push that
        # replayed the sale (another tab, a retry) may have recorded the key first.
        OfflineSale.objects.create(key=key, **values)
    except IntegrityError:
        if not OfflineSale.objects.filter(key=key).exists():
            raise


def _refuse(device, user, key, raw, known, error: DomainError, *, number: str) -> SyncResult:
    reason = _reason(error)
    payload = raw if isinstance(raw, dict) else {"raw": str(raw)[:2000]}
    if known is not None:
        OfflineSale.objects.filter(pk=known.pk).update(
            reason=reason, attempts=known.attempts + 1, payload=payload
        )
    else:
        sold_at = _parsed_time(payload.get("sold_at")) or timezone.now()
        OfflineSale.objects.get_or_create(
            key=key,
            defaults={
                "device": device,
                "number": number or str(payload.get("number", ""))[:24],
                "sold_at": sold_at,
                "synced_by": user,
                "payload": payload,
                "status": OfflineSale.Status.REFUSED,
                "reason": reason,
            },
        )
    return SyncResult(key, "refused", number=number, reason=reason, code=error.code)


def _reason(error: DomainError) -> str:
    messages = [str(error.message)]
    for field_messages in (error.fields or {}).values():
        messages.extend(str(m) for m in field_messages if str(m) not in messages)
    return " ".join(messages)[:1000]


def _parsed(device: TillDevice, raw: dict, shifts: dict) -> _Parsed:
    """The sale as checkout takes it, or an `InvalidOfflineSale` saying what is wrong."""
    try:
        n = int(raw.get("number"))
    except (TypeError, ValueError):
        raise errors.InvalidOfflineSale(gettext("The sale has no receipt number.")) from None
    if not 1 <= n <= device.last_reserved:
        raise errors.InvalidOfflineSale(
            gettext("Receipt number %(n)s was never reserved for this device.") % {"n": n}
        )
    if is_training_payload(raw):
        raise errors.TrainingOfflineSale(number=device.receipt_number(n))
    shift_id = _int(raw.get("shift"))
    if shift_id not in shifts:
        shifts[shift_id] = Shift.objects.filter(pk=shift_id).first()
    shift = shifts[shift_id]
    if shift is None or shift.register_id != device.register_id:
        raise errors.InvalidOfflineSale(gettext("The sale names no shift of this till."))
    sold_at = _sold_at(raw.get("sold_at"))
    lines, prices = _lines(raw.get("lines"))
    tenders = _tenders(raw.get("tenders"))
    as_of = _parsed_time(raw.get("prices_as_of"))
    source = gettext("Offline prices of %(time)s") % {
        "time": f"{timezone.localtime(as_of):%Y-%m-%d %H:%M}" if as_of else "?"
    }
    return _Parsed(
        key=uuid.UUID(str(raw["key"])),
        number=device.receipt_number(n),
        shift=shift,
        sold_at=sold_at,
        cart=Cart(lines),
        tenders=tenders,
        terms=OfflineTerms(device.receipt_number(n), sold_at, tuple(prices), source),
    )


def _sold_at(value) -> datetime.datetime:
    """The time the till says (its clock corrected by the offset of its last heartbeat); never
    in the future beyond a few minutes."""
    sold_at = _parsed_time(value)
    if sold_at is None:
        raise errors.InvalidOfflineSale(gettext("The sale has no time."))
    now = timezone.now()
    return now if sold_at > now + FUTURE_TOLERANCE else sold_at


def _lines(raw_lines) -> tuple[list[CartLine], list[Decimal]]:
    if not isinstance(raw_lines, list) or not raw_lines:
        raise errors.InvalidOfflineSale(gettext("The sale has no lines."))
    lines, prices = [], []
    for raw in raw_lines:
        if not isinstance(raw, dict):
            raise errors.InvalidOfflineSale(gettext("A line cannot be read."))
        unit = raw.get("selling_unit")
        lines.append(
            CartLine(
                product_id=_int(raw.get("product")),
                quantity=_decimal(raw.get("quantity")),
                selling_unit_id=None if unit in (None, "") else _int(unit),
                # A scale label scanned offline: read here as online (product, weight, price).
                scale_label=str(raw.get("scale_label") or "")[:32],
            )
        )
        prices.append(_decimal(raw.get("price")))
    return lines, prices


def _tenders(raw_tenders) -> list[TenderLine]:
    if not isinstance(raw_tenders, list) or not raw_tenders:
        raise errors.InvalidOfflineSale(gettext("The sale has no payment."))
    tenders = []
    for raw in raw_tenders:
        tender = raw.get("tender") if isinstance(raw, dict) else None
        if tender not in OFFLINE_TENDERS:
            raise errors.InvalidOfflineSale(
                gettext("Only cash and Mobile Money are taken offline.")
            )
        tenders.append(
            TenderLine(
                tender,
                _decimal(raw.get("amount")),
                str(raw.get("reference") or ""),
                provider=str(raw.get("provider") or ""),  # Mobile Money: MTN's unless named
            )
        )
    return tenders


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.InvalidOfflineSale(_("A number cannot be read.")) from None


def _decimal(value) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise errors.InvalidOfflineSale(_("An amount cannot be read.")) from None
    if not number.is_finite():
        raise errors.InvalidOfflineSale(_("An amount cannot be read."))
    return number


def _parsed_time(value) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


# --- What managers see and do ------------------------------------------------------------------


def tills_with_unsynced_sales(*, user=None) -> list[dict]:
    """Each device with pending (on the device) or refused sales, and how old they are; with
    `user`, the devices of the stores they work in (pos.scoping)."""
    now = timezone.now()
    devices = (
        scoping.for_user(TillDevice.objects.all(), user)
        if user is not None
        else TillDevice.objects.all()
    )
    devices = (
        devices.select_related("register")
        .filter(Q(pending_count__gt=0) | Q(sales__status=OfflineSale.Status.REFUSED))
        .distinct()
        .order_by("register__code", "code")
    )
    rows = []
    for device in devices:
        refused = list(device.sales.filter(status=OfflineSale.Status.REFUSED).order_by("number"))
        oldest = device.oldest_pending_at if device.pending_count else None
        rows.append(
            {
                "device": device,
                "pending": device.pending_count,
                "oldest_pending_at": oldest,
                "pending_minutes": int((now - oldest).total_seconds() // 60) if oldest else None,
                "last_seen_at": device.last_seen_at,
                "refused": refused,
            }
        )
    return rows


@dataclass(frozen=True)
class _Acceptance:
    shift: Shift
    manager: object


def resolve_refused(*, offline_sale: OfflineSale, user, action: str, note: str = "") -> OfflineSale:
    """A manager resolves a refused offline sale: `accept` stores it (the sale physically
    happened), `dismiss` closes it with a note (it was re-entered by hand, or never happened).

    An accepted sale keeps its seller, the cashier of the shift the offline till sold on, and
    its time; it goes into that shift while it is open, else into the open shift of the same
    till (its cash is in that drawer now). The manager's acceptance covers what the seller's
    own push could not (another cashier signed in on the browser that sent it, a shift closed
    since); the sale is journalled as every sale, and the acceptance audited with who accepted
    it, into which shift and why. `retry` is the older name of `accept`.

    :raises NotAllowed: the user is no manager.
    :raises ReasonRequired: a dismissal without a note.
    :raises ShiftClosed: the sale's shift is closed and its till has no open shift.
    :raises InvalidOfflineSale: the sale is still refused (its reason).
    """
    if not user.has_perm("pos.close_any_shift"):
        raise errors.NotAllowed(gettext("Only a manager can resolve a refused offline sale."))
    if offline_sale.status != OfflineSale.Status.REFUSED:
        raise errors.InvalidStatusTransition(gettext("This offline sale is not refused."))
    note = (note or "").strip()
    if action == "dismiss":
        if not note:
            raise errors.ReasonRequired(gettext("Say why the sale is dismissed."), field="note")
        updated = OfflineSale.objects.filter(
            pk=offline_sale.pk, status=OfflineSale.Status.REFUSED
        ).update(
            status=OfflineSale.Status.DISMISSED,
            resolved_by=user,
            resolved_at=timezone.now(),
            resolution_note=note[:200],
        )
        if not updated:
            raise errors.InvalidStatusTransition(gettext("This offline sale is not refused."))
        audit.record(
            action="offline.sale_dismissed", actor=user, target=offline_sale, details={"note": note}
        )
        offline_sale.refresh_from_db()
        return offline_sale
    if action not in ("accept", "retry"):
        raise errors.InvalidOfflineSale(gettext("Accept or dismiss."), field="action")
    device = offline_sale.device
    sold_on = _sold_on(offline_sale)
    into = sold_on
    if sold_on.status != Shift.Status.OPEN:
        into = Shift.objects.filter(register_id=device.register_id, status="open").first()
        if into is None:
            raise errors.ShiftClosed(
                gettext(
                    "The sale's shift is closed and its till has no open shift: open one to "
                    "accept the sale into it."
                )
            )
    acceptance = _Acceptance(into, user)
    refused_because = offline_sale.reason
    result = _sync_one(device, sold_on.cashier, offline_sale.payload, accepted=acceptance)
    offline_sale.refresh_from_db()
    if result.status == "refused":
        raise errors.InvalidOfflineSale(result.reason)
    OfflineSale.objects.filter(pk=offline_sale.pk).update(
        resolved_by=user, resolved_at=timezone.now(), resolution_note=note[:200]
    )
    audit.record(
        action="offline.sale_accepted",
        actor=user,
        target=offline_sale,
        details={
            "sale": result.number,
            "seller": sold_on.cashier.get_username(),
            "sold_on_shift": sold_on.pk,
            "into_shift": into.pk,
            "synced_by": offline_sale.synced_by.get_username(),
            "refused_because": refused_because,
            "note": note[:200],
        },
    )
    offline_sale.refresh_from_db()
    return offline_sale


def _sold_on(offline_sale: OfflineSale) -> Shift:
    """The shift the offline till sold the sale on (a shift of the device's till)."""
    shift_id = offline_sale.payload.get("shift") if isinstance(offline_sale.payload, dict) else None
    shift = (
        Shift.objects.select_related("cashier")
        .filter(pk=_int(shift_id), register_id=offline_sale.device.register_id)
        .first()
    )
    if shift is None:
        raise errors.InvalidOfflineSale(gettext("The sale names no shift of this till."))
    return shift


def forget_pending(*, device: TillDevice, user, note: str) -> None:
    """A manager clears what a device last said was pending: the device is gone for good (a
    wiped or lost browser) and its sales with it. Audited with the count and the note; the
    shift of its till can then close.

    :raises NotAllowed: the user is no manager.
    :raises ReasonRequired: no note.
    """
    if not user.has_perm("pos.close_any_shift"):
        raise errors.NotAllowed(gettext("Only a manager can forget a device's pending sales."))
    note = (note or "").strip()
    if not note:
        raise errors.ReasonRequired(
            gettext("Say why this device's pending sales are forgotten."), field="note"
        )
    with transaction.atomic():
        locked = locks.till_device(device.pk)
        forgotten = locked.pending_count
        locked.pending_count, locked.oldest_pending_at = 0, None
        locked.save(update_fields=["pending_count", "oldest_pending_at"])
        audit.record(
            action="offline.pending_forgotten",
            actor=user,
            target=locked,
            details={"pending": forgotten, "note": note[:200]},
        )
