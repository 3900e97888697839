"""Gift cards: sold as a liability (not revenue), redeemed at checkout as a tender, expired.

Selling a card takes its value into the drawer as a cash paid-in (a journalled cash movement,
"Gift card GC-... sold"), never as a sale: the revenue reports, which count sales, leave it out,
and count the sales the card later pays for. The card's balance is the sum of its ledger entries
(pos.services.ledger): + sold, - redeemed (checkout), + given back (a void), - expired.
"""

import datetime
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from pos import errors
from pos.models import CashMovement, Customer, GiftCard, LedgerEntry, LedgerKind, ShopSettings
from pos.services import ledger, locks
from pos.services.shifts import record_cash_movement

ZERO = Decimal(0)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the till


def new_code() -> str:
    return "GC-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


def default_expiry(today=None) -> datetime.date | None:
    """When a card sold `today` expires under the shop's setting (None: never)."""
    days = ShopSettings.load().gift_card_valid_days
    if not days:
        return None
    return (today or timezone.localdate()) + datetime.timedelta(days=days)


def _new_card(*, code: str, customer, expires_on, amount) -> GiftCard:
    amount = Decimal(amount or 0)
    if amount <= ZERO or amount != amount.quantize(Decimal("0.01")):
        raise errors.InvalidTender(gettext("Give the card an amount above zero."), field="amount")
    if customer is not None:
        customer = locks.customer(customer.pk)
    if GiftCard.objects.filter(code=code).exists():
        raise errors.InvalidTender(gettext("That gift card code is taken."), field="code")
    if expires_on is None:
        expires_on = default_expiry()
    return GiftCard.objects.create(code=code, customer=customer, expires_on=expires_on)


def sell_gift_card(
    *, shift, user, amount, customer: Customer | None = None, expires_on=None, code: str = ""
) -> GiftCard:
    """Sell a gift card of `amount` for cash into `shift`'s drawer; it expires on `expires_on`,
    by default after the shop's validity (if it sets one). The card's code is `code` (a
    pre-printed card) or a new one."""
    if not user.has_perm("pos.sell"):
        raise errors.NotAllowed(gettext("You are not allowed to sell."))
    code = ledger.normalise_code(code) or new_code()
    with transaction.atomic():
        card = _new_card(code=code, customer=customer, expires_on=expires_on, amount=amount)
        movement = record_cash_movement(
            shift=shift,
            kind=CashMovement.Kind.PAID_IN,
            amount=amount,
            reason=f"Gift card {code} sold",
            user=user,
        )
        # The card is this transaction's own row: nobody else can lock it before it commits.
        ledger.apply(
            kind=LedgerKind.GIFT_CARD,
            key=f"cashmovement:{movement.pk}/gift_card",
            amount=movement.amount,
            gift_card=card,
        )
    return card


def issue_gift_card(
    *,
    user,
    amount,
    reason: str,
    customer: Customer | None = None,
    expires_on=None,
    code: str = "",
) -> GiftCard:
    """A manager issues a card nobody paid for at the till (a goodwill gesture, a replaced
    card), with a reason: journalled and audited like an adjustment; issued in the liability."""
    if not user.has_perm("pos.adjust_balance"):
        raise errors.NotAllowed(gettext("You are not allowed to adjust balances."))
    reason = (reason or "").strip()
    if not reason:
        raise errors.InvalidAdjustment(gettext("Say why the card is issued."), field="reason")
    code = ledger.normalise_code(code) or new_code()
    with transaction.atomic():
        card = _new_card(code=code, customer=customer, expires_on=expires_on, amount=amount)
        entry_id = ledger.apply(
            kind=LedgerKind.GIFT_CARD,
            key=f"issue:{card.pk}/gift_card",
            amount=Decimal(amount),
            gift_card=card,
            note=reason,
        )
        ledger.journal_adjustment(LedgerEntry.objects.get(pk=entry_id), user)
    return card


def expire_gift_cards(*, today=None) -> int:
    """Take what is left on every card past its expiry date off it. The entry is keyed by the
    card and its last entry before it: run it as often as you like, it expires a balance once;
    what a void gives back to a card after it expired is expired by the next run. Returns the
    number of cards expired now."""
    today = today or timezone.localdate()
    due = GiftCard.objects.filter(expires_on__lt=today, balance__gt=0).values_list(
        "code", flat=True
    )
    expired = 0
    for code in list(due):
        with transaction.atomic():
            card = locks.gift_cards([code])[code]
            last = card.entries.order_by("-pk").values_list("pk", flat=True).first()
            if card.balance > ZERO and ledger.apply(
                kind=LedgerKind.GIFT_CARD,
                key=f"expiry:{card.pk}:{last}/gift_card",
                amount=-card.balance,
                gift_card=card,
            ):
                expired += 1
    return expired


@dataclass(frozen=True)
class Liability:
    issued: Decimal  # sold, and issued by a manager
    redeemed: Decimal  # spent at checkout, net of what voids gave back
    expired: Decimal
    adjusted: Decimal  # managers' corrections (+ or -)
    outstanding: Decimal  # what the shop still owes on its cards: SUM(balance)

    @property
    def balances(self) -> bool:
        return self.issued - self.redeemed - self.expired + self.adjusted == self.outstanding


def liability() -> Liability:
    """The gift-card liability: issued, redeemed, expired, and outstanding from the cards' own
    balances; `balances` says whether the two agree (they do unless a row was written by hand)."""
    entries = LedgerEntry.objects.filter(kind=LedgerKind.GIFT_CARD)
    sums = entries.aggregate(
        issued=Sum(
            "amount", filter=Q(key__startswith="cashmovement:") | Q(key__startswith="issue:")
        ),
        expired=Sum("amount", filter=Q(key__startswith="expiry:")),
        adjusted=Sum("amount", filter=Q(key__startswith="adjust:")),
        redeemed=Sum("amount", filter=Q(sale__isnull=False)),
    )
    outstanding = GiftCard.objects.aggregate(s=Sum("balance"))["s"] or ZERO
    return Liability(
        issued=sums["issued"] or ZERO,
        redeemed=-(sums["redeemed"] or ZERO),
        expired=-(sums["expired"] or ZERO),
        adjusted=sums["adjusted"] or ZERO,
        outstanding=outstanding,
    )
