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

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from core.errors import NotFound
from pos import errors
from pos.models import Customer, GiftCard, LedgerEntry, LedgerKind, Tender
from pos.money import format_money
from pos.services import locks

ZERO = Decimal(0)
# Identifiers only; every value is a parameter.
_INSERT_SQL = """
INSERT INTO {table} (kind, key, customer_id, gift_card_id, amount, sale_id, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
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
) -> bool:
    """Insert the entry `key` unless it is already there; True when it was inserted.

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
        field.get_db_prep_value(created, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def apply(
    *,
    kind: str,
    key: str,
    amount: Decimal,
    customer: Customer | None = None,
    gift_card: GiftCard | None = None,
    sale_id: int | None = None,
    save: bool = True,
) -> bool:
    """Post the entry and, when it is new, move the locked row's cached balance by `amount`.

    `save=False` leaves the row unsaved (the caller saves it with the other fields it changes, in
    one UPDATE). A zero amount posts nothing. True when the entry was new.
    """
    if not amount:
        return False
    if not post(
        kind=kind, key=key, amount=amount, customer=customer, gift_card=gift_card, sale_id=sale_id
    ):
        return False
    if kind == LedgerKind.GIFT_CARD:
        gift_card.balance += amount
        if save:
            gift_card.save(update_fields=["balance"])
    else:
        field = CUSTOMER_BALANCE_FIELD[kind]
        setattr(customer, field, getattr(customer, field) + amount)
        if save:
            customer.save(update_fields=[field])
    return True


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

ACCOUNT_TENDERS = frozenset({Tender.STORE_CREDIT, Tender.GIFT_CARD})


def claim_tenders(tenders, customer: Customer | None, *, today) -> dict[str, GiftCard]:
    """Check the store-credit and gift-card tenders of a sale against what the customer and the
    cards hold, under their locks (the customer's taken by the caller; the cards here, 6a in
    pos.services.locks); returns the locked cards by code. No query when there are none."""
    if not any(t.tender in ACCOUNT_TENDERS for t in tenders):
        return {}
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
    entries = dict(
        LedgerEntry.objects.filter(sale=sale, kind=LedgerKind.POINTS).values_list("key", "amount")
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
