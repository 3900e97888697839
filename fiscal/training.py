"""Training mode: a manager puts a till in training, and its cashier practises there (rings up,
takes tenders, prints a receipt, refunds a training sale) without selling anything.

Why training sales live in tables of their own (fiscal.training_models) and not as a flag on
pos.Sale: a sale is read by far more than the till. Checkout moves stock (pos.services.stock),
writes payments that make the shift's expected cash (pos.services.shifts sums them), appends a
journal event, posts customer balances and points (ledger), adds day sums, and the X/Z/PLU,
dashboards, sales reports, day summaries and the Mobile Money reconciliation all query Sale,
SaleLine and Payment. A flag would have to be remembered in each of those queries, today's and
every one written later, and one forgotten filter puts practice money in a real drawer. Rows
that are not sales, payments or movements can be counted by none of them: training stays out
of stock, money and reports by construction. What is shared is what must be the same: the cart
is the till's own (the session cart), checked as checkout checks it
(pos.services.checkout._validated) and priced by the same code (pos.services.selling_lines and
the pure pos.pricing), so a trainee sees the prices, discounts and errors a sale would have.

Rules this module owns:
- Switching a till into training (`start_training`) or out (`stop_training`) needs
  `fiscal.switch_training` (managers), is audited (accounts.AuditLog) and refused while the till
  is already in (or out of) training.
- While in training, the till (pos.register.views, through pos.hooks.till_modes) shows
  "TRAINING - not a sale" on every screen, takes only the cart's actions, and "Complete" calls
  `ring_up` instead of checkout. Whether a till is in training is cached (the banner on every
  till request costs no query); the decision at "Complete" reads the database (`fresh`).
- A training sale (receipt type S) or refund (R) is queued for the VSDC like a proforma is:
  salesTyCd "T", numbered by the device's own training counter (`Device.last_training_number`,
  started at the VSDC's lastTrainInvcNo) in the receipt's transaction; printed TS / TR with its
  SDC block and "TRAINING: NOT AN OFFICIAL RECEIPT". It counts in no X/Z report
  (OutboxItem.RECEIPT_KINDS leaves it out) and reports no stock.
- Nothing else is written: no Sale, Payment, StockMovement, journal entry, ledger entry, day sum
  or customer balance; cash rounding is left out (a training sale charges its total).
- A training refund gives back at most what the training sale sold, line by line (a conditional
  UPDATE of the line's `refunded`), and only while its till is still in training.
"""

import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import audit
from core.errors import DomainError, NotFound
from fiscal import outbox
from fiscal.models import (
    Device,
    OutboxItem,
    TrainingLine,
    TrainingReceipt,
    TrainingTender,
    TrainingTill,
)
from pos import errors, hooks
from pos.models import Customer, Product, Register, ShopSettings, Tender
from pos.money import format_money
from pos.pricing import LineInput, price_cart
from pos.services import rows
from pos.services.checkout import Cart, TenderLine, _validated
from pos.services.selling_lines import load_units, rules_for, sold_lines

logger = logging.getLogger("vevurn.fiscal")

ZERO = Decimal(0)
CACHE_SECONDS = 30
BANNER = "fiscal/training_banner.html"


class TrainingRefused(DomainError):
    code = "training_refused"
    status = 409


def _cache_key(register_id: int) -> str:
    return f"fiscal:training:{register_id}"


# --- in training or not ----------------------------------------------------------------------


def in_training(register_id: int, *, fresh: bool = False, cached: dict | None = None) -> bool:
    """Whether the till is in training: from the cache (kept CACHE_SECONDS, replaced when a
    manager switches), or from the database when `fresh`. `cached`: the cache's values the
    caller read ahead (pos.hooks.till_mode_keys), instead of reading the cache here."""
    if not fresh:
        key = _cache_key(register_id)
        found = cache.get(key) if cached is None else cached.get(key)
        if found is not None:
            return found
    found = _in_training_now(register_id)
    cache.set(_cache_key(register_id), found, CACHE_SECONDS)
    return found


def _in_training_now(register_id: int) -> bool:
    """`TrainingTill.objects.filter(register_id=...).exists()` as a plain statement (asked at
    every "Complete": the ORM's building of it cost more CPU than the round trip)."""
    quote = connection.ops.quote_name
    column = quote(TrainingTill._meta.get_field("register").column)
    with rows.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quote(TrainingTill._meta.db_table)} WHERE {column} = %s LIMIT 1",  # noqa: S608 - the model's own names
            [register_id],
        )
        return cursor.fetchone() is not None


def _remember(register_id: int, value: bool) -> None:
    """Forget the cached answer now (this process reads the database next) and cache the new one
    once the switch commits (a read in between may have cached the old one)."""
    cache.delete(_cache_key(register_id))
    transaction.on_commit(lambda: cache.set(_cache_key(register_id), value, CACHE_SECONDS))


def till_mode(
    register_id: int, *, fresh: bool = False, cached: dict | None = None
) -> hooks.TillMode | None:
    """Registered with pos.hooks.till_modes (fiscal/apps.py); its cache key with
    pos.hooks.till_mode_keys."""
    if not in_training(register_id, fresh=fresh, cached=cached):
        return None
    return hooks.TillMode(
        name="training",
        banner_template=BANNER,
        refusal=gettext(
            "This till is in training: only practice sales and their refunds. "
            "A manager takes it out of training first."
        ),
        checkout=ring_up,
    )


def _require_switcher(user) -> None:
    if not user.has_perm("fiscal.switch_training"):
        raise errors.NotAllowed(gettext("Only a manager puts a till in training or out of it."))


@transaction.atomic
def start_training(*, register: Register, user) -> TrainingTill:
    """Put `register` in training mode.

    :raises NotAllowed: the user may not switch training (`fiscal.switch_training`).
    :raises TrainingRefused: the till is already in training, or is inactive.
    """
    _require_switcher(user)
    if not register.is_active:
        raise TrainingRefused(gettext("This till is not in use."))
    try:
        with transaction.atomic():
            mode = TrainingTill.objects.create(register=register, started_by=user)
    except IntegrityError:
        raise TrainingRefused(gettext("This till is already in training.")) from None
    audit.record(action="training.started", actor=user, target=register)
    _remember(register.pk, True)
    return mode


@transaction.atomic
def stop_training(*, register: Register, user) -> None:
    """Take `register` out of training: its next sale is a sale again.

    :raises NotAllowed: the user may not switch training.
    :raises TrainingRefused: the till is not in training.
    """
    _require_switcher(user)
    mode = TrainingTill.objects.filter(register=register).first()
    # The DELETE decides: of two managers stopping at once, one deletes the row, the other is
    # told it is not in training.
    if mode is None or not TrainingTill.objects.filter(pk=mode.pk).delete()[0]:
        raise TrainingRefused(gettext("This till is not in training."))
    practised = TrainingReceipt.objects.filter(
        register=register, created_at__gte=mode.started_at
    ).count()
    audit.record(
        action="training.stopped",
        actor=user,
        target=register,
        details={"since": mode.started_at.isoformat(), "training_receipts": practised},
    )
    _remember(register.pk, False)


# --- a training sale ---------------------------------------------------------------------------


def ring_up(
    *, shift, cashier, cart: Cart, tenders: list[TenderLine], idempotency_key: UUID
) -> TrainingReceipt:
    """A training sale of `cart` on the shift's till (pos.hooks.TillMode.checkout): checked and
    priced as checkout would, written in the training tables only and queued for the VSDC as a
    TS receipt. A retry with the same key answers the same receipt (`replayed`).

    :raises TrainingRefused: the till is no longer in training.
    :raises DomainError: what checkout would refuse in the cart or the tenders.
    """
    shop = ShopSettings.load()
    places = shop.currency_decimal_places
    cart, tenders = _validated(cart, tenders, places)
    existing = TrainingReceipt.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        existing.replayed = True
        return existing
    if not cashier.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))
    products = Product.objects.in_bulk(sorted({line.product_id for line in cart.lines}))
    missing = sorted({line.product_id for line in cart.lines} - products.keys())
    if missing:
        raise NotFound(gettext("Unknown product %(missing)s.") % {"missing": missing[0]})
    customer = Customer.objects.filter(pk=cart.customer_id).first() if cart.customer_id else None
    rules = rules_for(
        sorted(products), customer.price_list_id if customer else None, timezone.localdate()
    )
    sold = sold_lines(cart.lines, products, load_units(cart.lines), rules, places=places)
    priced = price_cart(
        [
            LineInput(s.price, s.count, line.discount, s.amount)
            for line, s in zip(cart.lines, sold, strict=True)
        ],
        order_discount=cart.order_discount,
        vat_rate=shop.vat_rate,
        places=places,
        prices_include_vat=shop.prices_include_vat,
    )
    change = _change(tenders, priced.total)
    try:
        receipt = _write_sale(
            shift, cashier, cart, customer, sold, priced, tenders, change, idempotency_key
        )
    except IntegrityError:  # the same key, committed first by a concurrent click
        receipt = TrainingReceipt.objects.filter(idempotency_key=idempotency_key).first()
        if receipt is None:
            raise
        receipt.replayed = True
    return receipt


def _change(tenders: list[TenderLine], total: Decimal) -> Decimal:
    """Tenders cover the total; only cash may be more (the change), as at checkout."""
    tendered = sum((t.amount for t in tenders), ZERO)
    cash = sum((t.amount for t in tenders if t.tender == Tender.CASH), ZERO)
    if tendered < total:
        raise errors.TendersDoNotCover(
            gettext("Payments of %(tendered)s do not cover the total %(total)s.")
            % {"tendered": format_money(tendered), "total": format_money(total)},
            field="tenders",
        )
    if tendered - total > cash:
        raise errors.TendersDoNotCover(
            gettext("Only cash can be more than the amount due; reduce the other payments."),
            field="tenders",
        )
    return tendered - total


@transaction.atomic
def _write_sale(shift, cashier, cart, customer, sold, priced, tenders, change, key):
    if not in_training(shift.register_id, fresh=True):
        raise TrainingRefused(gettext("This till is no longer in training: sell it again."))
    receipt = TrainingReceipt.objects.create(
        receipt_type=TrainingReceipt.Type.SALE,
        register_id=shift.register_id,
        shift=shift,
        cashier=cashier,
        idempotency_key=key,
        customer_name=(customer.name if customer else "")[:60],
        buyer_tin=cart.buyer_tin,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        tax_total=priced.tax_total,
        total=priced.total,
        change_given=change,
    )
    TrainingLine.objects.bulk_create(
        TrainingLine(
            receipt=receipt,
            product=s.product,
            product_name=s.product.name,
            quantity=s.stock_quantity,
            unit_name=s.unit.name if s.unit else "",
            unit_quantity=s.count if s.unit else None,
            unit_price=p.unit_price,
            line_discount=p.line_discount,
            order_discount=p.order_discount,
            total=p.total,
            tax=p.tax,
        )
        for s, p in zip(sold, priced.lines, strict=True)
    )
    rows = [
        TrainingTender(receipt=receipt, tender=t.tender, amount=t.amount, reference=t.reference)
        for t in tenders
    ]
    if change:
        rows.append(TrainingTender(receipt=receipt, tender=Tender.CASH, amount=-change))
    TrainingTender.objects.bulk_create(rows)
    _enqueue(receipt)
    return receipt


# --- a training refund -------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundLine:
    line_id: int  # the training sale's TrainingLine
    quantity: Decimal  # in the unit it was sold in


def refundable(receipt: TrainingReceipt) -> dict[int, Decimal]:
    """What is left to refund of each line of a training sale, in the unit it was sold in."""
    return {line.pk: line.sold_quantity - line.refunded for line in receipt.lines.all()}


@transaction.atomic
def refund_training_sale(
    *,
    receipt: TrainingReceipt,
    user,
    lines: list[RefundLine],
    reason_code: str = "",
    reason: str = "",
) -> TrainingReceipt:
    """A training refund (R, printed TR) of part or all of a training sale: cash back, each
    line's share of what it was charged; queued for the VSDC with the sale's training invoice
    number as orgInvcNo.

    :raises TrainingRefused: not a training sale, its till out of training, nothing chosen, or
        more than is left of a line (every such line named at once).
    """
    if not user.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))
    if receipt.is_refund:
        raise TrainingRefused(gettext("A training refund cannot be refunded."))
    if not in_training(receipt.register_id, fresh=True):
        raise TrainingRefused(
            gettext("This till is no longer in training: its training sales cannot be refunded.")
        )
    originals = {line.pk: line for line in receipt.lines.all()}
    wanted = sorted((line for line in lines if line.quantity), key=lambda line: line.line_id)
    problems = {}
    if not wanted:
        problems["lines"] = [gettext("Choose what to refund.")]
    for line in wanted:
        original = originals.get(line.line_id)
        # One conditional UPDATE per line (in line order) checks what is left and takes it: two
        # refunds at once cannot give back more than was sold.
        taken = (
            original is not None
            and line.quantity > 0
            and TrainingLine.objects.filter(
                pk=line.line_id,
                refunded__lte=Coalesce("unit_quantity", "quantity") - line.quantity,
            ).update(refunded=F("refunded") + line.quantity)
        )
        if not taken:
            problems[f"lines.{line.line_id}"] = [_too_much(original, line.line_id)]
    if problems:
        raise TrainingRefused(next(iter(problems.values()))[0], fields=problems)
    shop = ShopSettings.load()
    places = Decimal(1).scaleb(-shop.currency_decimal_places)
    after = {row.pk: row for row in TrainingLine.objects.filter(pk__in=originals)}
    refund_rows = [_refund_line(after[line.line_id], line.quantity, places) for line in wanted]
    total = sum((row.total for row in refund_rows), ZERO)
    refund = TrainingReceipt.objects.create(
        receipt_type=TrainingReceipt.Type.REFUND,
        register_id=receipt.register_id,
        shift=receipt.shift,
        cashier=user,
        original=receipt,
        customer_name=receipt.customer_name,
        buyer_tin=receipt.buyer_tin,
        subtotal=total,
        tax_total=sum((row.tax for row in refund_rows), ZERO),
        total=total,
        refund_reason_code=reason_code or outbox.DEFAULT_REFUND_REASON,
        reason=reason.strip()[:200],
    )
    for row in refund_rows:
        row.receipt = refund
    TrainingLine.objects.bulk_create(refund_rows)
    TrainingTender.objects.create(receipt=refund, tender=Tender.CASH, amount=-total)
    _enqueue(refund)
    return refund


def _too_much(original: TrainingLine | None, line_id: int) -> str:
    if original is None:
        return gettext("That line is not on this training sale.")
    current = TrainingLine.objects.get(pk=line_id)
    return gettext("At most %(left)s of %(name)s can be refunded.") % {
        "left": f"{(current.sold_quantity - current.refunded).normalize():f}",
        "name": original.product_name,
    }


def _refund_line(line: TrainingLine, qty: Decimal, places: Decimal) -> TrainingLine:
    """`qty` of `line` (already counted in its `refunded`) back, at its share of what the line
    was charged; the part that empties a line takes what is left of its amounts, so a whole
    line comes back to the cent."""
    sold = line.sold_quantity
    if line.refunded == sold:
        already = TrainingLine.objects.filter(original_line=line).aggregate(
            total=Sum("total"), tax=Sum("tax")
        )
        total = line.total - (already["total"] or ZERO)
        tax = line.tax - (already["tax"] or ZERO)
    else:
        total = (line.total * qty / sold).quantize(places, rounding=ROUND_HALF_UP)
        tax = (line.tax * qty / sold).quantize(places, rounding=ROUND_HALF_UP)
    return TrainingLine(
        product_id=line.product_id,
        product_name=line.product_name,
        quantity=qty * line.quantity / sold,
        unit_name=line.unit_name,
        unit_quantity=qty if line.unit_quantity is not None else None,
        unit_price=line.unit_price,
        total=total,
        tax=tax,
        original_line=line,
    )


# --- the VSDC ------------------------------------------------------------------------------------


def _device_for(register_id: int) -> Device | None:
    """The till's device: the one of its store it is assigned to, else its store's (ready)."""
    from fiscal.device import device_for_register

    return device_for_register(register_id)


def _enqueue(receipt: TrainingReceipt) -> OutboxItem | None:
    """Queue a training receipt with its device's next training number (one UPDATE moves the
    counter and holds the device's row to the commit, as for proformas); a refund goes to the
    device that signed its sale. Nothing without a backend or a ready device."""
    if not outbox.enabled():
        return None
    device = None
    if receipt.original_id is not None:
        original = OutboxItem.objects.filter(training_id=receipt.original_id).first()
        if original is not None and original.device.is_active:
            device = original.device
    device = device or _device_for(receipt.register_id)
    if device is None:
        logger.warning("Training receipt %s not queued for signing: no fiscal device", receipt)
        return None
    Device.objects.filter(pk=device.pk).update(last_training_number=F("last_training_number") + 1)
    number = Device.objects.values_list("last_training_number", flat=True).get(pk=device.pk)
    return OutboxItem.objects.create(
        device=device,
        kind=OutboxItem.Kind.TRAINING,
        invoice_number=number,
        training=receipt,
        refund_reason_code=receipt.refund_reason_code if receipt.is_refund else "",
        created_at=receipt.created_at,
    )


def receipt_label(receipt: TrainingReceipt) -> str:
    return "TR" if receipt.is_refund else "TS"


TRAINING_NOTICE = _("TRAINING: NOT AN OFFICIAL RECEIPT")
