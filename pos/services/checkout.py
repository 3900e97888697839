"""Checkout: one call turns a cart and its tenders into a completed sale, or changes nothing.

Locks, in the project's one order (pos.services.locks): the products (by pk), the customer, the
Mobile Money requests used as tenders, the register's receipt counter (as late as possible:
every sale on that register waits for it until the previous sale commits), the day-sum rows, and
the invoice sequence when part of the sale goes on account.
"""

import functools
import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts import audit
from core.errors import DomainError, NotFound
from pos import errors, hooks
from pos.journal import events
from pos.models import (
    MobileMoneyRequest,
    MobileProvider,
    MovementKind,
    Payment,
    ProductStatus,
    Register,
    Sale,
    SaleLine,
    Shift,
    ShopSettings,
    StockUnit,
    Tender,
)
from pos.money import format_money, to_currency
from pos.pricing import LineInput, price_cart, under_minimum
from pos.quantities import normalised, to_decimal
from pos.services import approvals, day_sales, journal, ledger, locks, rows
from pos.services.closings import close_after_sale
from pos.services.customers import record_customer_purchase
from pos.services.invoices import create_invoice_for_sale
from pos.services.mobile_money import sold_otherwise_ids
from pos.services.selling_lines import labels_to_lines, load_units, rules_for, sold_lines
from pos.services.stock import MovementLine, Reference, apply_movements, till_store_id

ZERO = Decimal(0)
MAX_LINES = 200
MAX_QUANTITY = 10_000
# Each choice class's values, read once: `.values` builds the list from the members and their
# labels on every read (3% of an API sale's CPU, py-spy). Tuples: a value need not be hashable.
TENDERS = tuple(Tender.values)
NOT_READ = object()  # checkout's `stored` when the caller has not read it
PROVIDERS = tuple(MobileProvider.values)


@dataclass(frozen=True)
class CartLine:
    product_id: int
    quantity: Decimal | int  # in the product's stock unit, at most its unit's places
    unit_price: Decimal | None = None  # a price override; None sells at the shelf price
    discount: Decimal = ZERO  # a line discount, in currency
    selling_unit_id: int | None = None  # sold in this unit: `quantity` counts whole units
    scale_label: str = ""  # a scanned scale label: product, weight (or price) come from it


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]
    order_discount: Decimal = ZERO
    customer_id: int | None = None
    buyer_tin: str = ""  # a business buyer's TIN (9 digits) and RRA purchase code
    purchase_code: str = ""


@dataclass(frozen=True)
class TenderLine:
    tender: str
    amount: Decimal
    reference: str = ""  # e.g. the MoMo transaction id the customer's phone shows
    momo_request_id: int | None = None  # a successful request-to-pay to use for this tender
    # Mobile Money only: "mtn" or "airtel" (pos.models.MobileProvider). A typed reference
    # without one is MTN's; a request-to-pay's is the request's.
    provider: str = ""


@dataclass(frozen=True)
class OfflineTerms:
    """A sale a till made offline (pos.services.offline): its receipt number (from the
    device's block), when it was sold, and the price of each line in the till's catalogue
    snapshot. Stock may go below zero (the line is flagged `oversold`): the sale happened."""

    number: str
    sold_at: datetime
    prices: tuple[Decimal, ...]  # per line, per unit sold
    source: str  # recorded as each line's price source ("Offline prices of 14:05")
    # The manager who accepted a refused offline sale into a shift the seller does not work
    # (theirs was closed since, or another cashier signed in on the browser that sent it).
    accepted_by: object = None

    def fingerprint(self) -> str:
        return json.dumps([self.number, [str(p) for p in self.prices]])


@dataclass
class CheckoutRequest:
    """The normalised request, fingerprinted so that an idempotent retry can be recognised."""

    register_id: int
    cart: Cart
    tenders: list[TenderLine] = field(default_factory=list)

    def fingerprint(self) -> str:
        """A field left at its default is not part of the fingerprint, so that a field added to
        the request later (with a default) keeps the fingerprints of sales made before it: their
        retries (an offline till syncing across an upgrade) replay instead of conflicting."""
        return _digest(_without_defaults(self))

    def earlier_fingerprint(self) -> str:
        """The fingerprint releases before 2026-12-05 gave this request: the hash of every field
        there was then. Asked for only when a stored sale's fingerprint differs from ours."""
        return _digest(_without_keys(asdict(self), FIELDS_ADDED_SINCE_EVERY_FIELD_WAS_HASHED))


# The request's fields added after sales were fingerprinted with every field (all default "").
FIELDS_ADDED_SINCE_EVERY_FIELD_WAS_HASHED = frozenset({"buyer_tin", "purchase_code", "provider"})


def _digest(value) -> str:
    payload = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _without_defaults(value):
    if is_dataclass(value):
        return {
            f.name: _without_defaults(getattr(value, f.name))
            for f in fields(value)
            if f.default is MISSING or getattr(value, f.name) != f.default
        }
    if isinstance(value, list | tuple):
        return [_without_defaults(item) for item in value]
    return value


def _without_keys(value, keys):
    if isinstance(value, dict):
        return {k: _without_keys(v, keys) for k, v in value.items() if k not in keys or v != ""}
    if isinstance(value, list):
        return [_without_keys(item, keys) for item in value]
    return value


def checkout(
    *,
    shift: Shift,
    cashier,
    cart: Cart,
    tenders: list[TenderLine],
    idempotency_key: UUID,
    approved_by=None,
    offline: OfflineTerms | None = None,
    stored=NOT_READ,
) -> Sale:
    """Complete a sale: lock, check, price, number it and write its lines, payments and stock.

    A retry with the same idempotency key returns the original sale (with `replayed` set) and
    writes nothing; the same key with a different request is refused (`IdempotencyConflict`).
    `stored`: the sale stored under the key (or None), if the caller has read it already (the
    API reads it with the open shift: pos.services.shifts.require_open_shift_and_sale).
    """
    shop = ShopSettings.load()
    places = shop.currency_decimal_places
    cart, tenders = _validated(cart, tenders, places)
    request = CheckoutRequest(register_id=shift.register_id, cart=cart, tenders=tenders)

    fingerprint = _with_offline(request.fingerprint(), offline)

    def earlier() -> str:
        return _with_offline(request.earlier_fingerprint(), offline)

    existing = _replay(idempotency_key, fingerprint, earlier, stored)
    if existing is not None:
        return existing
    try:
        return _complete(
            shift=shift,
            cashier=cashier,
            cart=cart,
            tenders=tenders,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            approved_by=approved_by,
            shop=shop,
            offline=offline,
        )
    except IntegrityError:
        # A concurrent request with the same key committed first; ours rolled back whole.
        existing = _replay(idempotency_key, fingerprint, earlier)
        if existing is None:
            raise
        return existing


def _still_open(shift: Shift) -> bool:
    """Whether the shift is open now (read under the register's lock). A plain statement:
    the ORM's compiling of it cost more CPU than the round trip."""
    table = connection.ops.quote_name(Shift._meta.db_table)
    with rows.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE id = %s AND status = %s",  # noqa: S608
            [shift.pk, Shift.Status.OPEN.value],
        )
        return cursor.fetchone() is not None


def _with_offline(fingerprint: str, offline: OfflineTerms | None) -> str:
    """An offline sale's fingerprint also covers its receipt number and snapshot prices."""
    if offline is None:
        return fingerprint
    return hashlib.sha256((fingerprint + offline.fingerprint()).encode()).hexdigest()


def _replay(idempotency_key: UUID, fingerprint: str, earlier, stored=NOT_READ) -> Sale | None:
    """The sale stored under `idempotency_key`, marked `replayed`; None if there is none.
    `earlier()`: the request's fingerprint as releases before 2026-12-05 stored it. `stored`:
    that sale (or None) as the caller read it, else it is read here."""
    sale = _stored(idempotency_key) if stored is NOT_READ else stored
    if sale is not None:
        then = sale.request_fingerprint
        if then != fingerprint and then != earlier():
            raise errors.IdempotencyConflict()
        sale.replayed = True
    return sale


def _stored(idempotency_key: UUID) -> Sale | None:
    # A plain statement: the ORM's compiling of this one cost more CPU than the whole round trip.
    key = Sale._meta.get_field("idempotency_key").get_db_prep_value(idempotency_key, connection)
    table = connection.ops.quote_name(Sale._meta.db_table)
    with rows.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(Sale, 's')} FROM {table} s WHERE s.idempotency_key = %s",  # noqa: S608 - the model's own names
            [key],
        )
        row = cursor.fetchone()
    return None if row is None else rows.loaded(Sale, row)


class _Problems:
    """The validation errors of one request, collected so that every bad field is reported at
    once: the first error is raised, carrying the fields of them all."""

    def __init__(self):
        self.errors: list[DomainError] = []

    def check(self, validate, *args):
        try:
            return validate(*args)
        except DomainError as error:
            self.errors.append(error)
            return None

    def raise_any(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        fields: dict[str, list[str]] = {}
        for error in self.errors:
            for name, messages in (error.fields or {"": [error.message]}).items():
                fields.setdefault(name, []).extend(messages)
        first.fields = fields
        raise first


def _validated(cart: Cart, tenders: list[TenderLine], places: int):
    if not cart.lines:
        raise errors.EmptyCart()
    if len(cart.lines) > MAX_LINES:
        raise errors.InvalidQuantity(
            gettext("A sale can have at most %(max_lines)s lines.") % {"max_lines": MAX_LINES},
            field="lines",
        )
    problems = _Problems()
    lines = [problems.check(_valid_line, i, line, places) for i, line in enumerate(cart.lines)]
    order_discount = problems.check(_amount, cart.order_discount, places, "order_discount")
    if not tenders:
        problems.errors.append(
            errors.TendersDoNotCover(gettext("Add at least one payment."), field="tenders")
        )
    clean_tenders = [
        problems.check(_valid_tender, i, tender, places) for i, tender in enumerate(tenders)
    ]
    buyer_tin, purchase_code = problems.check(_valid_buyer, cart) or ("", "")
    problems.raise_any()
    lines = labels_to_lines(lines, places)
    return Cart(lines, order_discount, cart.customer_id, buyer_tin, purchase_code), clean_tenders


def _valid_buyer(cart: Cart) -> tuple[str, str]:
    """A buyer's TIN is 9 digits; a purchase code (digits, from RRA) goes with a TIN."""
    tin, code = (cart.buyer_tin or "").strip(), (cart.purchase_code or "").strip()
    if tin and not (len(tin) == 9 and tin.isdigit()):
        raise errors.InvalidBuyer(gettext("A TIN is 9 digits."), field="buyer_tin")
    if code and not (code.isdigit() and len(code) <= 20):
        raise errors.InvalidBuyer(
            gettext("A purchase code is up to 20 digits."), field="purchase_code"
        )
    if code and not tin:
        raise errors.InvalidBuyer(
            gettext("Type the buyer's TIN with the purchase code."), field="buyer_tin"
        )
    return tin, code


def _valid_line(i: int, line: CartLine, places: int) -> CartLine:
    quantity = to_decimal(line.quantity, field=f"lines.{i}.quantity")
    if not 0 < quantity <= MAX_QUANTITY:
        raise errors.InvalidQuantity(
            _("Quantity must be more than 0 and at most %(max)s.") % {"max": MAX_QUANTITY},
            field=f"lines.{i}.quantity",
        )
    unit_price = None
    if line.unit_price is not None:
        unit_price = _amount(line.unit_price, places, f"lines.{i}.unit_price")
    discount = _amount(line.discount, places, f"lines.{i}.discount")
    return CartLine(
        int(line.product_id or 0),
        normalised(quantity),
        unit_price,
        discount,
        None if line.selling_unit_id is None else int(line.selling_unit_id),
        (line.scale_label or "").strip(),
    )


def _valid_tender(i: int, tender: TenderLine, places: int) -> TenderLine:
    if tender.tender not in TENDERS:
        raise errors.InvalidTender(
            gettext("Unknown tender %(tender)s.") % {"tender": repr(tender.tender)},
            field=f"tenders.{i}",
        )
    amount = _amount(tender.amount, places, f"tenders.{i}.amount")
    if amount == ZERO:
        raise errors.InvalidTender(
            gettext("A payment cannot be zero."), field=f"tenders.{i}.amount"
        )
    manual_momo = tender.tender == Tender.MOBILE_MONEY and tender.momo_request_id is None
    if manual_momo and not (tender.reference or "").strip():
        raise errors.InvalidTender(
            gettext("Type the Mobile Money transaction id shown on the customer's phone."),
            field=f"tenders.{i}.reference",
        )
    reference = (tender.reference or "").strip()
    provider = ""
    if tender.tender == Tender.MOBILE_MONEY:
        provider = tender.provider or ("" if tender.momo_request_id else MobileProvider.MTN)
        if provider and provider not in PROVIDERS:
            raise errors.InvalidTender(
                gettext("Choose MTN MoMo or Airtel Money."), field=f"tenders.{i}.provider"
            )
    if tender.tender == Tender.GIFT_CARD:
        reference = ledger.normalise_code(reference)
        if not reference:
            raise errors.InvalidTender(
                gettext("Type or scan the gift card's code."), field=f"tenders.{i}.reference"
            )
    return TenderLine(tender.tender, amount, reference, tender.momo_request_id, provider)


def _amount(value, places: int, field_name: str) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except ArithmeticError:
        raise errors.InvalidPrice(gettext("Enter an amount."), field=field_name) from None
    if not amount.is_finite() or amount < 0:
        raise errors.InvalidPrice(gettext("Amounts cannot be negative."), field=field_name)
    if amount != to_currency(amount, places):
        raise errors.InvalidPrice(
            gettext("Use at most %(places)s decimal places.") % {"places": places}, field=field_name
        )
    return to_currency(amount, places)


@transaction.atomic
def _complete(
    *, shift, cashier, cart, tenders, idempotency_key, fingerprint, approved_by, shop, offline
) -> Sale:
    accepted = offline is not None and offline.accepted_by is not None
    # Their own shift, or a shared till's they signed in on (or a manager accepted it there).
    if not accepted and not shift.is_worked_by(cashier):
        raise errors.ShiftClosed(gettext("This shift belongs to another cashier."))
    if not cashier.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))

    products, levels = _lock_stock(cart, till_store_id(shift.register_id, shift))
    customer = _lock_customer(cart)
    now = timezone.now() if offline is None else offline.sold_at
    cards = ledger.claim_tenders(tenders, customer, today=timezone.localdate(now))
    sold = _sold_lines(cart, products, customer, timezone.localdate(now), shop, offline)
    priced = _price(cart, sold, shop)
    needs_approval, below_minimum = _check_prices(cart, priced, sold, shop)
    approver = cashier  # who authorised a discount or price under the minimum, if any
    if below_minimum:
        approver = _approve_below_minimum(sold, below_minimum, cashier, approved_by)
    elif needs_approval:
        approver = _require_approval(cashier, approved_by)
    momo_requests = _claim_momo_requests(tenders, shift)
    payments, change, rounding = _plan_payments(
        tenders, priced.total, customer, momo_requests, step=shop.cash_rounding
    )

    # As late as possible: the register's counter, then the shift's status under that lock (a
    # shift closes by locking the same register row, so no sale can slip past a close).
    number = _receipt_number_if_open(shift, offline)

    sale = rows.new(
        Sale,
        number=number,
        register_id=shift.register_id,
        shift=shift,
        cashier=cashier,
        customer=customer,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        tax_total=priced.tax_total,
        total=priced.total,
        change_given=change,
        cash_rounding=rounding,
        created_at=now,
        business_day=timezone.localdate(now),
        buyer_tin=cart.buyer_tin,
        purchase_code=cart.purchase_code,
    )
    _write_sale(sale)
    oversold = _oversold(sold, levels, offline)
    lines = _write_lines(sale, sold, priced, shop, oversold)
    _write_payments(sale, shift, cashier, payments, tenders, momo_requests)
    ledger.post_sale_tenders(sale, payments, customer, cards)  # store credit, gift cards
    _remember_children(sale, lines=lines, payments=payments)
    _take_stock(sale, sold, (products, levels), cashier, shop, allow_negative=offline is not None)
    if customer is not None:
        on_credit = sum((p.amount for p in payments if p.tender == Tender.ACCOUNT), ZERO)
        with_points = sum((p.amount for p in payments if p.tender == Tender.POINTS), ZERO)
        record_customer_purchase(
            customer_id=customer.pk,
            amount=sale.total,
            on_credit=on_credit,
            at=now,
            event=f"sale:{sale.pk}",
            sale_id=sale.pk,
            points=ledger.points_for(shop, sale.total - on_credit - with_points),
        )
        if on_credit:
            create_invoice_for_sale(sale=sale, amount=on_credit, user=cashier)
    if below_minimum:
        _audit_below_minimum(sale, sold, priced, below_minimum, cashier, approver)
    if needs_approval:
        audit.record_on_commit(
            action="sale.discount_approved",
            actor=approver,
            target=sale,
            details={
                "cashier": cashier.username,
                "discount_total": str(sale.discount_total),
                "subtotal": str(sale.subtotal),
            },
        )
    # Apps plugged into the sale (fiscal signing: its invoice counter and outbox row), in this
    # transaction; then, last, the journal: the chain's head is the last lock.
    hooks.run(hooks.sale_recorded, sale, lines, payments)
    journal.append(events.sale_event(sale, lines, payments))
    override = events.price_override_event(sale, lines)
    if override is not None:
        journal.append(override)
    if needs_approval or below_minimum:
        journal.append(
            events.discount_approval_event(
                sale,
                approved_by_id=approver.pk,
                below_minimum=[sold[i].product.pk for i in below_minimum],
            )
        )
    # Without a scheduled job, the first sale of a day closes the days before it.
    transaction.on_commit(close_after_sale)
    return sale


def _write_sale(sale: Sale) -> None:
    """The sale's row, with the model signals `Sale.objects.create` sends (an app may listen
    to a sale's post_save; the fault tests' hold does), only when something listens."""
    if pre_save.has_listeners(Sale):
        pre_save.send(
            sender=Sale, instance=sale, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None
        )
    rows.insert([sale])
    if post_save.has_listeners(Sale):
        post_save.send(
            sender=Sale,
            instance=sale,
            created=True,
            update_fields=None,
            raw=False,
            using=DEFAULT_DB_ALIAS,
        )


def _lock_stock(cart: Cart, store_id: int) -> tuple[dict, dict]:
    """The cart's products with their stock levels in the till's store, locked by product pk in
    one statement (pos.services.locks.stock): (products, levels), both by product pk."""
    product_ids = sorted({line.product_id for line in cart.lines})
    products, levels = locks.stock(store_id, product_ids)
    missing = [pid for pid in product_ids if pid not in products]
    if missing:
        raise NotFound(
            gettext("Unknown product %(missing)s.") % {"missing": missing[0]},
            field="lines",
            product_ids=missing,
        )
    return products, levels


def _sold_lines(cart: Cart, products: dict, customer, day, shop, offline) -> list:
    """What each line sells (pos.services.selling_lines): its unit, stock quantity (checked
    against the unit's places) and the price that applies (the customer's price list; the
    snapshot's for a sale made offline)."""
    rules = rules_for(sorted(products), customer.price_list_id if customer else None, day)
    sold = sold_lines(
        cart.lines, products, load_units(cart.lines), rules, places=shop.currency_decimal_places
    )
    return sold if offline is None else _at_snapshot_prices(sold, offline)


def _price(cart: Cart, sold: list, shop):
    return price_cart(
        [
            LineInput(s.price, s.count, line.discount, s.amount)
            for line, s in zip(cart.lines, sold, strict=True)
        ],
        order_discount=cart.order_discount,
        vat_rate=shop.vat_rate,
        places=shop.currency_decimal_places,
        prices_include_vat=shop.prices_include_vat,
    )


def _lock_customer(cart: Cart):
    if cart.customer_id is None:
        return None
    customer = locks.customer(cart.customer_id)
    if customer is None or not customer.is_active:
        raise NotFound(gettext("Unknown customer."), field="customer")
    return customer


def _at_snapshot_prices(sold: list, offline: OfflineTerms) -> list:
    """Each line at the price the offline till charged (its snapshot's), recorded as such: that
    price is the line's shelf price too, so no discount limit or minimum price applies after
    the fact (the till could not ask a manager, and the customer has paid)."""
    if len(offline.prices) != len(sold):
        raise errors.InvalidPrice(gettext("Each line needs its price."), field="lines")
    return [
        replace(s, price=p, shelf_price=p, minimum=ZERO, source=offline.source[:80])
        for s, p in zip(sold, offline.prices, strict=True)
    ]


def _oversold(sold: list, levels: dict, offline) -> frozenset[int]:
    """The products an offline sale takes more of than the till's store holds (before it is
    taken)."""
    if offline is None:
        return frozenset()
    taking: dict[int, Decimal] = {}
    for line in sold:
        taking[line.product.pk] = taking.get(line.product.pk, ZERO) + line.stock_quantity
    return frozenset(pk for pk, qty in taking.items() if qty > levels[pk].on_hand)


def _write_lines(sale: Sale, sold: list, priced, shop, oversold=frozenset()) -> list[SaleLine]:
    """The sale's lines (with the snapshot of name, unit sold, shelf price, the price list rule
    that applied and cost) and the day sums."""
    lines = [
        rows.new(
            SaleLine,
            sale=sale,
            product=line.product,
            product_name=line.product.name,
            sku=line.product.sku,
            quantity=line.stock_quantity,
            unit_name=line.unit.name if line.unit else _unit_name(line.product),
            unit_factor=line.unit.factor if line.unit else 1,
            unit_quantity=line.count if line.unit else None,
            price_source=line.source[:80],
            shelf_price=line.shelf_price,
            unit_price=p.unit_price,
            line_discount=p.line_discount,
            order_discount=p.order_discount,
            total=p.total,
            tax=p.tax,
            tax_rate=shop.vat_rate,
            unit_cost=line.product.cost_price,
            oversold=line.product.pk in oversold,
        )
        for line, p in zip(sold, priced.lines, strict=True)
    ]
    # The day sums go with the lines (on PostgreSQL in their INSERT's statement).
    return rows.insert(lines, along=day_sales.upserts(day=sale.business_day, lines=lines))


def _write_payments(sale: Sale, shift, cashier, payments, tenders, momo_requests) -> None:
    for payment in payments:
        payment.sale, payment.shift = sale, shift
        payment.created_by, payment.created_at = cashier, sale.created_at
    rows.insert(payments)
    if momo_requests:
        # Payments were planned in tender order, so each request finds its payment by position.
        for tender, payment in zip(tenders, payments, strict=False):
            if tender.momo_request_id is not None:
                momo_requests[tender.momo_request_id].payment = payment
        MobileMoneyRequest.objects.bulk_update(list(momo_requests.values()), ["payment"])


def _take_stock(sale: Sale, sold: list, locked: tuple, cashier, shop, *, allow_negative) -> None:
    """The sale's stock movements, out of the till's store (`locked`: the products and their
    levels there); a refusal names every short line (`lines.<i>`) at once."""
    reference = Reference("pos.sale", str(sale.pk), f"Sale {sale.number}")
    try:
        _move_stock(sold, locked, cashier, shop, reference, allow_negative)
    except errors.InsufficientStock as error:
        short = {s["product_id"]: s["message"] for s in error.details.get("shortages", [])}
        error.fields = {
            f"lines.{i}": [short[line.product.pk]]
            for i, line in enumerate(sold)
            if line.product.pk in short
        }
        raise


def _move_stock(sold: list, locked: tuple, cashier, shop, reference, allow_negative) -> None:
    store_id = next(iter(locked[1].values())).store_id
    apply_movements(
        lines=[
            MovementLine(
                line.product.pk,
                -line.stock_quantity,
                MovementKind.SALE,
                line.product.cost_price,
                reference=reference,
            )
            for line in sold
        ],
        user=cashier,
        allow_negative=allow_negative or shop.allow_negative_stock,
        store=store_id,
        locked=locked,
    )


def _audit_below_minimum(sale, sold, priced, below_minimum, cashier, approver) -> None:
    audit.record_on_commit(
        action="sale.below_minimum_approved",
        actor=approver,
        target=sale,
        details={
            "cashier": cashier.username,
            "lines": [
                {
                    "product": sold[i].product.sku,
                    "unit_price": str(priced.lines[i].unit_price),
                    "total": str(priced.lines[i].total),
                    "minimum_price": str(sold[i].minimum),
                }
                for i in below_minimum
            ],
        },
    )


def _unit_name(product) -> str:
    """The stock unit a line shows after its quantity ("kg"); nothing for pieces."""
    return "" if product.unit == StockUnit.PIECE else product.get_unit_display()


def _receipt_number_if_open(shift: Shift, offline: OfflineTerms | None) -> str:
    """Lock the register row and take its next receipt number (an offline sale brings its own,
    from its device's block, and only locks the row, as every sale does), then check that the
    shift is still open, under that lock.

    PostgreSQL, online: one statement, the register's UPDATE ... RETURNING with the shift's
    status read by a locking sub-select. The lock matters: a close that committed while this
    UPDATE waited for the register row is later than the statement's snapshot, and only a
    locking read looks past the snapshot (to the row's latest version) and sees it. Elsewhere:
    the counter, then a plain read (a new statement, a new snapshot: SQLite holds the write lock
    from BEGIN IMMEDIATE anyway).

    :raises ShiftClosed: the shift is no longer open (the counter's change is rolled back)."""
    if offline is None and connection.vendor == "postgresql":
        code, last, still_open = _take_receipt_number_if_open(shift)
        number = f"{code}-{last:06d}"
    elif offline is None:
        number = _take_receipt_number(shift.register_id)
        still_open = _still_open(shift)
    else:
        locks.register(shift.register_id)
        number = offline.number
        still_open = _still_open(shift)
    if not still_open:
        raise errors.ShiftClosed()
    return number


@functools.cache
def _receipt_number_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"UPDATE {quote(Register._meta.db_table)} "  # noqa: S608 - the models' own names
        "SET last_receipt_number = last_receipt_number + 1 WHERE id = %s "
        "RETURNING code, last_receipt_number, EXISTS ("
        f"SELECT 1 FROM {quote(Shift._meta.db_table)} WHERE id = %s AND status = %s FOR SHARE)"
    )


def _take_receipt_number_if_open(shift: Shift) -> tuple[str, int, bool]:
    with rows.cursor() as cursor:
        cursor.execute(
            _receipt_number_sql(), [shift.register_id, shift.pk, Shift.Status.OPEN.value]
        )
        return cursor.fetchone()


def _take_receipt_number(register_id: int) -> str:
    """Lock the register row and take its next receipt number (SQLite: RETURNING only since
    3.35, and the write lock is already held since BEGIN IMMEDIATE): the update, then a read."""
    table = connection.ops.quote_name(Register._meta.db_table)
    with rows.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_receipt_number = last_receipt_number + 1 WHERE id = %s",  # noqa: S608 - the model's own names
            [register_id],
        )
        cursor.execute(
            f"SELECT code, last_receipt_number FROM {table} WHERE id = %s",  # noqa: S608
            [register_id],
        )
        code, last = cursor.fetchone()
    return f"{code}-{last:06d}"


def _remember_children(sale: Sale, *, lines: list[SaleLine], payments: list[Payment]) -> None:
    """Keep the rows just written as the sale's `lines` and `payments`, as prefetch_related
    would: the answer to a checkout is built from them without reading them back."""
    sale._prefetched_objects_cache = {}
    for name, written in (("lines", lines), ("payments", payments)):
        queryset = getattr(sale, name).all()
        queryset._result_cache, queryset._prefetch_done = list(written), True
        sale._prefetched_objects_cache[name] = queryset


def _check_prices(cart: Cart, priced, sold, shop) -> tuple[bool, list[int]]:
    """Refuse a line that discounts more than it costs; say whether a discount needs a manager,
    and which lines are under their product's minimum price (a manager may approve those).

    Both on top of the price that applied: a price list's price is the shelf price the
    discount limit is measured from, and no list goes under the minimum without a manager."""
    limit = shop.cashier_max_discount_percent
    needs_approval = False
    below_minimum = []
    places = shop.currency_decimal_places
    for i, (line, p) in enumerate(zip(sold, priced.lines, strict=True)):
        product = line.product
        if product.status != ProductStatus.ACTIVE:
            raise errors.ProductNotForSale(
                gettext("%(name)s is %(status)s.")
                % {"name": product.name, "status": product.get_status_display().lower()},
                field=f"lines.{i}",
            )
        if p.total < ZERO:
            raise errors.InvalidPrice(
                gettext("The discounts on %(name)s are more than its price.")
                % {"name": product.name},
                field=f"lines.{i}.discount",
            )
        if under_minimum(
            p, line.minimum, prices_include_vat=shop.prices_include_vat, places=places
        ):
            below_minimum.append(i)
        before_vat_on_top = p.total - (p.tax if not shop.prices_include_vat else ZERO)
        listed = line.price if cart.lines[i].unit_price is None else line.shelf_price
        shelf = p.gross if line.amount is not None else to_currency(listed * line.count, places)
        if shelf and (shelf - before_vat_on_top) * 100 > limit * shelf:
            needs_approval = True
    order_after_lines = sum((p.gross - p.line_discount for p in priced.lines), ZERO)
    if order_after_lines and cart.order_discount * 100 > limit * order_after_lines:
        needs_approval = True
    return needs_approval, below_minimum


def _approve_below_minimum(sold, below_minimum: list[int], cashier, approved_by):
    """A price under the minimum needs a manager, as a large discount does; without one, the
    first such line is refused (`PriceBelowMinimum`, whose code the API documents)."""
    try:
        return _require_approval(cashier, approved_by)
    except errors.ApprovalRequired:
        i = below_minimum[0]
        product = sold[i].product
        raise errors.PriceBelowMinimum(
            gettext(
                "%(name)s cannot be sold under %(minimum_price)s each without a manager's approval."
            )
            % {"name": product.name, "minimum_price": format_money(sold[i].minimum)},
            field=f"lines.{i}",
            product_id=product.pk,
        ) from None


def _require_approval(cashier, approved_by):
    """The cashier, or the manager who approved the discount: the one rule of approvals."""
    return approvals.authoriser(
        user=cashier,
        approved_by=approved_by,
        permission="pos.approve_discount",
        refusal=errors.ApprovalRequired(),
    )


def _plan_payments(
    tenders: list[TenderLine], total: Decimal, customer, momo_requests, *, step: Decimal = ZERO
):
    """Payment rows for the tenders, plus a negative cash row for the change, if any; the
    change and the cash rounding.

    Tenders must cover the amount due exactly, except that cash may exceed it: the excess is
    change, and change is given only from cash. With a rounding `step` (5 RWF), the part of the
    total left to cash is rounded half-up to the step and the difference (`cash_rounding`, + or
    -) is due too; Mobile Money, card and the account pay their exact amounts.
    """
    tendered = sum((t.amount for t in tenders), ZERO)
    cash = sum((t.amount for t in tenders if t.tender == Tender.CASH), ZERO)
    rounding = cash_rounding(total - (tendered - cash), step) if cash else ZERO
    total += rounding  # what is due
    if tendered < total:
        raise errors.TendersDoNotCover(
            gettext("Payments of %(tendered)s do not cover the total %(total)s.")
            % {"tendered": format_money(tendered), "total": format_money(total)},
            field="tenders",
        )
    change = tendered - total
    if change > cash:
        raise errors.TendersDoNotCover(
            gettext("Only cash can be more than the amount due; reduce the other payments."),
            field="tenders",
        )
    payments = []
    for tender in tenders:
        if tender.tender == Tender.ACCOUNT:
            _check_credit(customer, tender.amount)
        reference, provider = tender.reference, tender.provider
        if tender.momo_request_id is not None:
            request = momo_requests[tender.momo_request_id]
            reference, provider = request.financial_transaction_id, request.provider
        payments.append(
            rows.new(
                Payment,
                tender=tender.tender,
                amount=tender.amount,
                reference=reference[:100],
                provider=provider,
            )
        )
    if change:
        payments.append(rows.new(Payment, tender=Tender.CASH, amount=-change, is_change=True))
    return payments, change, rounding


def cash_rounding(cash_due: Decimal, step: Decimal) -> Decimal:
    """What rounding `cash_due` half-up to a multiple of `step` adds (+) or takes off (-)."""
    if not step or cash_due <= ZERO:
        return ZERO
    rounded = (cash_due / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return rounded - cash_due


def _check_credit(customer, amount: Decimal) -> None:
    if customer is None:
        raise errors.CustomerRequired(gettext("Choose the customer to put this sale on account."))
    if customer.balance + amount > customer.credit_limit:
        available = max(customer.credit_limit - customer.balance, ZERO)
        raise errors.CreditLimitExceeded(
            gettext("%(name)s has %(available)s of credit left; this needs %(amount)s.")
            % {
                "name": customer.name,
                "available": format_money(available),
                "amount": format_money(amount),
            },
            field="tenders",
        )


def _claim_momo_requests(tenders: list[TenderLine], shift) -> dict[int, MobileMoneyRequest]:
    ids = sorted(t.momo_request_id for t in tenders if t.momo_request_id is not None)
    if not ids:
        return {}
    found = locks.mobile_money_requests(ids)
    sold = sold_otherwise_ids(found.values())
    for tender in tenders:
        if tender.momo_request_id is None:
            continue
        request = found.get(tender.momo_request_id)
        if (
            request is None
            or request.shift_id != shift.pk
            or request.status != MobileMoneyRequest.Status.SUCCESSFUL
            or request.payment_id is not None
            or request.abandoned_at is not None
            or request.pk in sold  # its cart was paid another way: a late success
            or request.amount != tender.amount
            or tender.tender != Tender.MOBILE_MONEY
            or tender.provider not in ("", request.provider)
        ):
            raise errors.InvalidTender(
                gettext("That Mobile Money payment is not confirmed for this amount."),
                field="tenders",
            )
    return found
