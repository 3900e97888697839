"""The customer ledger: what a customer owes and holds, one typed entry per event.

Kinds (pos.models.LedgerKind) and the cached balance each one sums to:

- ``debt``: what the customer owes on account (Customer.balance): + a sale's on-account part,
  - a payment against an invoice, a cancelled invoice, a void or a refund credited to it;
- ``store_credit``: what the shop owes the customer to spend (Customer.store_credit);
- ``gift_card``: what the shop owes the bearer of a card (GiftCard.balance);
- ``points``: loyalty points (Customer.points).

Every balance equals the sum of its entries (pos.integrity checks it; tests prove it under random
sales, refunds, voids and repayments). An entry is written only here, by the services that move
money, inside their transaction, after they have locked the account's row (pos.services.locks:
the customer, then its gift cards); each is keyed by the event that made it (``sale:12/debt``),
a unique key, so posting an event twice (a retried request, a re-synced offline sale) inserts
nothing and moves no balance. The event itself (sale, payment, refund, void, invoice
cancellation) carries the entry into the journal.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts import audit
from core.errors import NotFound
from pos import errors
from pos.journal import events
from pos.models import Customer, GiftCard, LedgerEntry, LedgerKind, ShopSettings, Tender
from pos.money import format_money
from pos.services import journal, locks

ZERO = Decimal(0)
# Identifiers only; every value is a parameter.
_INSERT_SQL = """
INSERT INTO {table} (kind, key, customer_id, gift_card_id, amount, sale_id, note, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (key) DO NOTHING
RETURNING id
"""
CUSTOMER_BALANCE_FIELD = {
    LedgerKind.DEBT: "balance",
    LedgerKind.STORE_CREDIT: "store_credit",
    LedgerKind.POINTS: "points",
}


def post(
    *,
    kind: str,
    key: str,
    amount: Decimal,
    customer: Customer | None = None,
    gift_card: GiftCard | None = None,
    sale_id: int | None = None,
    at=None,
    note: str = "",
) -> int | None:
    """Insert the entry `key` unless it is already there; the new entry's id, None when it was
    there already.

    The caller holds the lock on the account's row (`customer` or `gift_card`, as it locked it)
    and moves the cached balance by `amount` only when this returns True: `apply` does both.
    One INSERT ... ON CONFLICT DO NOTHING statement (PostgreSQL and SQLite alike).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A ledger entry is posted inside the transaction of its event.")
    if kind == LedgerKind.GIFT_CARD:
        if gift_card is None:
            raise ValueError("A gift-card entry needs its gift card.")
    elif customer is None:
        raise ValueError("A customer's entry needs its customer.")
    sql = _INSERT_SQL.format(table=connection.ops.quote_name(LedgerEntry._meta.db_table))
    created = at or timezone.now()
    field = LedgerEntry._meta.get_field("created_at")
    params = [
        str(kind),
        key,
        customer.pk if customer is not None else None,
        gift_card.pk if gift_card is not None else None,
        connection.ops.adapt_decimalfield_value(amount, 14, 2),
        sale_id,
        note[:200],
        field.get_db_prep_value(created, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row is not None else None


def apply(
    *,
    kind: str,
    key: str,
    amount: Decimal,
    customer: Customer | None = None,
    gift_card: GiftCard | None = None,
    sale_id: int | None = None,
    save: bool = True,
    note: str = "",
) -> int | None:
    """Post the entry and, when it is new, move the locked row's cached balance by `amount`.

    `save=False` leaves the row unsaved (the caller saves it with the other fields it changes, in
    one UPDATE). A zero amount posts nothing. The new entry's id; None when it was there.
    """
    if not amount:
        return None
    entry_id = post(
        kind=kind,
        key=key,
        amount=amount,
        customer=customer,
        gift_card=gift_card,
        sale_id=sale_id,
        note=note,
    )
    if entry_id is None:
        return None
    if kind == LedgerKind.GIFT_CARD:
        gift_card.balance += amount
        if save:
            gift_card.save(update_fields=["balance"])
    else:
        field = CUSTOMER_BALANCE_FIELD[kind]
        setattr(customer, field, getattr(customer, field) + amount)
        if save:
            customer.save(update_fields=[field])
    return entry_id


def adjust(
    *,
    user,
    kind: str,
    amount: Decimal,
    reason: str,
    request_key: str,
    customer: Customer | None = None,
    gift_card: GiftCard | None = None,
) -> LedgerEntry | None:
    """A manager's correction of what a customer holds (store credit, points) or a gift card:
    a new entry of `amount` (+ or -) with its reason, never an edit of an old one. Keyed by the
    form's `request_key`, so a double submit adjusts once (None the second time). A balance is
    never taken below zero. Journalled on the back office's chain, audited.

    :raises NotAllowed: without pos.adjust_balance; InvalidAdjustment: no reason, zero, or more
        than is held.
    """
    if not user.has_perm("pos.adjust_balance"):
        raise errors.NotAllowed(gettext("You are not allowed to adjust balances."))
    reason = (reason or "").strip()
    problems = {}
    if not reason:
        problems["reason"] = [gettext("Say why the balance is adjusted.")]
    if not amount:
        problems["amount"] = [gettext("An adjustment cannot be zero.")]
    if kind not in (LedgerKind.STORE_CREDIT, LedgerKind.POINTS, LedgerKind.GIFT_CARD):
        problems["kind"] = [gettext("Only store credit, points and gift cards are adjusted.")]
    if problems:
        raise errors.InvalidAdjustment(fields=problems)
    with transaction.atomic():
        if kind == LedgerKind.GIFT_CARD:
            account = locks.gift_cards([gift_card.code])[gift_card.code]
            held = account.balance
        else:
            account = locks.customer(customer.pk)
            held = getattr(account, CUSTOMER_BALANCE_FIELD[kind])
        if held + amount < ZERO:
            shown = f"{held.normalize():f}" if kind == LedgerKind.POINTS else format_money(held)
            raise errors.InvalidAdjustment(
                gettext("That would take the balance below zero: it holds %(held)s.")
                % {"held": shown},
                field="amount",
            )
        owner = {"gift_card": account} if kind == LedgerKind.GIFT_CARD else {"customer": account}
        entry_id = apply(
            kind=kind, key=f"adjust:{request_key}/{kind}", amount=amount, note=reason, **owner
        )
        if entry_id is None:
            return None
        entry = LedgerEntry.objects.get(pk=entry_id)
        journal_adjustment(entry, user)
    return entry


def journal_adjustment(entry: LedgerEntry, user) -> None:
    """The journal's record of an entry a manager made (an adjustment, a card issued), and its
    audit row: inside the entry's transaction."""
    journal.append(events.account_adjustment_event(entry, user_id=user.pk))
    audit.record_on_commit(
        action="ledger.adjusted",
        actor=user,
        target=entry,
        details={"key": entry.key, "amount": str(entry.amount), "reason": entry.note},
    )


def sums_by_customer(kind: str) -> dict[int, Decimal]:
    """The sum of each customer's entries of `kind` (customers without entries are absent)."""
    rows = (
        LedgerEntry.objects.filter(kind=kind, customer__isnull=False)
        .values("customer_id")
        .annotate(total=Sum("amount"))
    )
    return {row["customer_id"]: row["total"] for row in rows}


def mismatches() -> list[str]:
    """Every cached balance that differs from the sum of its entries, described (empty: none)."""
    found = []
    for kind, field in CUSTOMER_BALANCE_FIELD.items():
        sums = sums_by_customer(kind)
        for pk, cached in Customer.objects.values_list("pk", field):
            if cached != sums.get(pk, ZERO):
                found.append(f"customer {pk} {field} {cached} != entries {sums.get(pk, ZERO)}")
    card_sums = dict(
        LedgerEntry.objects.filter(kind=LedgerKind.GIFT_CARD)
        .values("gift_card_id")
        .annotate(total=Sum("amount"))
        .values_list("gift_card_id", "total")
    )
    for pk, cached in GiftCard.objects.values_list("pk", "balance"):
        if cached != card_sums.get(pk, ZERO):
            found.append(f"gift card {pk} balance {cached} != entries {card_sums.get(pk, ZERO)}")
    return found


# --- store credit and gift cards as tenders ------------------------------------------------------

ACCOUNT_TENDERS = frozenset({Tender.STORE_CREDIT, Tender.GIFT_CARD, Tender.POINTS})


def claim_tenders(tenders, customer: Customer | None, *, today) -> dict[str, GiftCard]:
    """Check the store-credit and gift-card tenders of a sale against what the customer and the
    cards hold, under their locks (the customer's taken by the caller; the cards here, 6a in
    pos.services.locks); returns the locked cards by code. No query when there are none."""
    if not any(t.tender in ACCOUNT_TENDERS for t in tenders):
        return {}
    _claim_points(tenders, customer)
    credit = sum((t.amount for t in tenders if t.tender == Tender.STORE_CREDIT), ZERO)
    if credit:
        if customer is None:
            raise errors.CustomerRequired(
                gettext("Choose the customer whose store credit pays."), field="tenders"
            )
        if credit > customer.store_credit:
            raise errors.InvalidTender(
                gettext("%(name)s has %(available)s of store credit; this needs %(amount)s.")
                % {
                    "name": customer.name,
                    "available": format_money(customer.store_credit),
                    "amount": format_money(credit),
                },
                field="tenders",
            )
    wanted: dict[str, Decimal] = {}
    for t in tenders:
        if t.tender == Tender.GIFT_CARD:
            code = normalise_code(t.reference)
            wanted[code] = wanted.get(code, ZERO) + t.amount
    cards = locks.gift_cards(wanted) if wanted else {}
    for code, amount in wanted.items():
        card = cards.get(code)
        refusal = _card_refusal(card, today)
        if refusal is None and amount > card.balance:
            refusal = gettext("Gift card %(code)s holds %(balance)s; this needs %(amount)s.") % {
                "code": code,
                "balance": format_money(card.balance),
                "amount": format_money(amount),
            }
        if refusal is not None:
            raise errors.InvalidTender(refusal, field="tenders")
    return cards


def points_paying(amount: Decimal, shop=None) -> Decimal | None:
    """The points that pay `amount` at the shop's value per point; None when points do not pay
    (no value set) or `amount` is not a whole number of points."""
    value = (shop or ShopSettings.load()).points_value
    if not value:
        return None
    points = amount / value
    return points if points == points.to_integral_value() else None


def _claim_points(tenders, customer: Customer | None) -> None:
    amount = sum((t.amount for t in tenders if t.tender == Tender.POINTS), ZERO)
    if not amount:
        return
    if customer is None:
        raise errors.CustomerRequired(
            gettext("Choose the customer whose points pay."), field="tenders"
        )
    shop = ShopSettings.load()
    points = points_paying(amount, shop)
    if points is None:
        if not shop.points_value:
            raise errors.InvalidTender(gettext("Points do not pay in this shop."), field="tenders")
        raise errors.InvalidTender(
            gettext("Points pay in whole points of %(value)s each.")
            % {"value": format_money(shop.points_value)},
            field="tenders",
        )
    if points > customer.points:
        raise errors.InvalidTender(
            gettext("%(name)s has %(available)s points; this needs %(points)s.")
            % {
                "name": customer.name,
                "available": f"{customer.points.normalize():f}",
                "points": f"{points.normalize():f}",
            },
            field="tenders",
        )


def _card_refusal(card: GiftCard | None, today) -> str | None:
    if card is None:
        return gettext("No gift card has that code.")
    if card.expires_on is not None and card.expires_on < today:
        return gettext("Gift card %(code)s expired on %(date)s.") % {
            "code": card.code,
            "date": date_format(card.expires_on),
        }
    return None


def post_sale_tenders(sale, payments, customer, cards: dict[str, GiftCard], *, sign=-1, event=""):
    """The entries of a sale's store-credit and gift-card payments: spent (sign -1, at the
    sale) or given back (sign +1, at its void, `event` "void:12"). Rows locked by the caller."""
    event = event or f"sale:{sale.pk}"
    credit = sum((p.amount for p in payments if p.tender == Tender.STORE_CREDIT), ZERO)
    if credit:
        apply(
            kind=LedgerKind.STORE_CREDIT,
            key=f"{event}/store_credit",
            amount=sign * credit,
            customer=customer,
            sale_id=sale.pk,
        )
    if any(p.tender == Tender.POINTS for p in payments):
        _post_points_tender(sale, payments, customer, sign=sign, event=event)
    spent: dict[str, Decimal] = {}
    for p in payments:
        if p.tender == Tender.GIFT_CARD:
            code = normalise_code(p.reference)
            spent[code] = spent.get(code, ZERO) + p.amount
    for code, amount in spent.items():
        card = cards[code]
        apply(
            kind=LedgerKind.GIFT_CARD,
            key=f"{event}/gift_card:{card.pk}",
            amount=sign * amount,
            gift_card=card,
            sale_id=sale.pk,
        )


def _post_points_tender(sale, payments, customer, *, sign: int, event: str) -> None:
    """The points a sale paid with (at the value of the day of the sale), or, at its void, the
    same points given back (read from the sale's entry, whatever the value is now)."""
    if sign < 0:
        amount = sum((p.amount for p in payments if p.tender == Tender.POINTS), ZERO)
        points = -points_paying(amount)
    else:
        points = -LedgerEntry.objects.get(key=f"sale:{sale.pk}/points_tender").amount
    apply(
        kind=LedgerKind.POINTS,
        key=f"{event}/points_tender",
        amount=points,
        customer=customer,
        sale_id=sale.pk,
    )


def normalise_code(code) -> str:
    return "".join(str(code or "").split()).upper()[:32]


def card_balance(code) -> GiftCard:
    """The gift card with `code`, for a balance check at the till (NotFound when none)."""
    card = GiftCard.objects.filter(code=normalise_code(code)).first()
    if card is None:
        raise NotFound(gettext("No gift card has that code."), field="code")
    return card


# --- loyalty points ------------------------------------------------------------------------------


def points_for(shop, paid: Decimal) -> Decimal:
    """Whole points earned on `paid` at the shop's rate (per 1,000), rounded down; 0 when off."""
    rate = shop.loyalty_points_per_1000
    if not rate or paid <= ZERO:
        return ZERO
    return (paid * rate / 1000).to_integral_value(rounding=ROUND_FLOOR)


def take_back_points(*, sale, customer: Customer, event: str, part: Decimal | None = None) -> None:
    """Take back the points `sale` earned (the customer's row locked by the caller): all that
    are left for a void (`part` None), or `part` of them (a refund's share, rounded up, never
    more than is left). Keyed `<event>/points`: once per refund or void."""
    entries = dict(  # what the sale earned and what was taken back; not what paid for it
        LedgerEntry.objects.filter(
            sale=sale, kind=LedgerKind.POINTS, key__endswith="/points"
        ).values_list("key", "amount")
    )
    earned = entries.get(f"sale:{sale.pk}/points", ZERO)
    left = sum(entries.values(), ZERO)
    if left <= ZERO:
        return
    back = left if part is None else min(left, (earned * part).to_integral_value(ROUND_CEILING))
    apply(
        kind=LedgerKind.POINTS,
        key=f"{event}/points",
        amount=-back,
        customer=customer,
        sale_id=sale.pk,
    )


def expire_points(*, today=None) -> int:
    """Take off each customer's points not spent within the shop's validity after they were
    earned, the oldest spent first: what was earned before the cut-off day, less everything
    ever taken off (spent, taken back, expired), is due. One entry per customer per day (run it
    as often as you like). Returns the number of customers whose points expired now."""
    days = ShopSettings.load().points_valid_days
    if not days:
        return 0
    today = today or timezone.localdate()
    cutoff = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time.min)
    )
    rows = (
        LedgerEntry.objects.filter(kind=LedgerKind.POINTS, customer__points__gt=0)
        .values("customer_id")
        .annotate(
            old=Sum("amount", filter=Q(amount__gt=0, created_at__lt=cutoff), default=ZERO),
            taken=Sum("amount", filter=Q(amount__lt=0), default=ZERO),
        )
    )
    due = {row["customer_id"]: row["old"] + row["taken"] for row in rows}
    expired = 0
    for customer_id in sorted(pk for pk, points in due.items() if points > ZERO):
        with transaction.atomic():
            customer = locks.customer(customer_id)
            amount = min(due[customer_id], customer.points)
            if amount > ZERO and apply(
                kind=LedgerKind.POINTS,
                key=f"points_expiry:{customer_id}:{today.isoformat()}/points",
                amount=-amount,
                customer=customer,
            ):
                expired += 1
    return expired


@dataclass(frozen=True)
class ReceiptPoints:
    earned: Decimal  # by this sale, less what its refunds and void took back
    balance: Decimal  # what the customer holds now


def receipt_points(sale) -> ReceiptPoints | None:
    """The points a sale's receipt shows: earned, and the customer's balance (None: no customer,
    or the shop gives no points and the customer holds none)."""
    if sale.customer_id is None:
        return None
    earned = LedgerEntry.objects.filter(
        sale=sale, kind=LedgerKind.POINTS, key__endswith="/points"
    ).aggregate(s=Sum("amount", default=ZERO))["s"]
    balance = sale.customer.points
    if not earned and not balance and not ShopSettings.load().loyalty_points_per_1000:
        return None
    return ReceiptPoints(earned=earned, balance=balance)
