"""Ninety days of believable trading for the demo shop, written through the real services.

Every sale, refund, void, shift, Mobile Money payment, sale on account and repayment goes
through the service a till would call (checkout, refund_sale, void_sale, open_shift,
close_shift, record_invoice_payment), so the ledgers hold as they do in use: stock is the sum of
its movements, what an invoice has been paid is the sum of its payments, the daily sums match
the sale lines, and each Z-report adds up. The services stamp rows with the current time, so the
clock is moved (time-machine) through each day's trading hours while they run.

The plan is drawn from a seeded random generator, so every run makes the same shop. It runs only
on a shop with no sales yet (a second `seed_demo` changes nothing).
"""

import datetime
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import time_machine
from django.utils import timezone

from core.errors import DomainError
from pos.models import Customer, Invoice, Product, Register, Sale, Shift, Tender
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.invoices import record_invoice_payment
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.shifts import close_shift, expected_by_tender, open_shift
from pos.services.voids import void_sale

DAYS = 90
OPENING_FLOAT = Decimal(20000)
NOTES = [1000, 2000, 5000, 10000]  # the notes a customer hands over, to round cash up to
# Sales on an ordinary day; Saturday is busy, Sunday quiet (the shop opens late).
SALES_PER_DAY = {0: 4, 1: 4, 2: 5, 3: 4, 4: 6, 5: 8, 6: 2}
REFUND_REASONS = ["Does not charge", "Wrong model for the phone", "Changed their mind"]
VOID_REASONS = ["Rung up twice", "Customer left before paying"]


@dataclass
class Day:
    date: datetime.date
    sales: list[dict] = field(default_factory=list)


@dataclass
class Staff:
    cashier: object
    second_cashier: object
    manager: object


def plan(products: list[Product], customers: list[Customer], *, today: datetime.date):
    """The days (oldest first) with their sales: lines, tender and customer, all decided here."""
    rng = random.Random(90)  # noqa: S311 - demo data, not security
    # A few products sell often, most now and then (cheap cables and glass more than speakers).
    weights = [1 / (1 + (i % 37)) * (3 if p.retail_price < 5000 else 1) for i, p in
               enumerate(products)]  # fmt: skip
    credit_customers = [c for c in customers if c.credit_limit > 0]
    days = []
    for back in range(DAYS, 0, -1):
        date = today - datetime.timedelta(days=back)
        day = Day(date)
        count = max(1, SALES_PER_DAY[date.weekday()] + rng.choice([-1, 0, 0, 1]))
        for _ in range(count):
            picked = rng.choices(products, weights=weights, k=rng.choice([1, 1, 1, 2, 2, 3]))
            lines = {
                p.pk: (p, 1 if p.retail_price > 8000 else rng.choice([1, 1, 2])) for p in picked
            }
            roll = rng.random()
            if roll < 0.08 and credit_customers:
                tender, customer = Tender.ACCOUNT, rng.choice(credit_customers)
            elif roll < 0.40:
                tender, customer = Tender.MOBILE_MONEY, None
            else:
                tender, customer = Tender.CASH, None
            if customer is None and rng.random() < 0.2:
                customer = rng.choice(customers)
            day.sales.append({"lines": list(lines.values()), "tender": tender,
                              "customer": customer})  # fmt: skip
        days.append(day)
    return days


def units_sold(days: list[Day]) -> dict[int, int]:
    sold: dict[int, int] = {}
    for day in days:
        for sale in day.sales:
            for product, quantity in sale["lines"]:
                sold[product.pk] = sold.get(product.pk, 0) + quantity
    return sold


def at(date: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time(hour, minute)))


def run(days: list[Day], *, staff: Staff, registers: list[Register]) -> dict[str, int]:
    """Trade through the planned days; returns how many of each thing were made."""
    rng = random.Random(91)  # noqa: S311 - demo data, not security
    made = {"sales": 0, "refunds": 0, "voids": 0, "shifts": 0, "repayments": 0}
    recent: list[Sale] = []
    with time_machine.travel(at(days[0].date, 8), tick=False) as clock:
        for day in days:
            clock.move_to(at(day.date, 8))
            shifts = [open_shift(register=registers[0], cashier=staff.cashier,
                                 opening_float=OPENING_FLOAT)]  # fmt: skip
            if len(day.sales) >= 6 and len(registers) > 1:  # a busy day opens the second till
                shifts.append(open_shift(register=registers[1], cashier=staff.second_cashier,
                                         opening_float=OPENING_FLOAT))  # fmt: skip
            made["shifts"] += len(shifts)
            minutes = sorted(rng.sample(range(30, 600), len(day.sales)))
            todays: list[Sale] = []
            for minute, planned in zip(minutes, day.sales, strict=True):
                clock.move_to(at(day.date, 8) + datetime.timedelta(minutes=minute))
                shift = shifts[minute % len(shifts)]
                sale = _sell(planned, shift, rng)
                if sale is not None:
                    todays.append(sale)
                    made["sales"] += 1
            clock.move_to(at(day.date, 18, 30))
            made["voids"] += _maybe_void(todays, staff, rng)
            made["refunds"] += _maybe_refund(recent, shifts[0], staff, rng)
            made["repayments"] += _maybe_repay(shifts[0], staff, rng)
            clock.move_to(at(day.date, 19))
            for shift in shifts:
                _close(shift, staff, rng)
            recent = (recent + [s for s in todays if s.status == Sale.Status.COMPLETED])[-40:]
    return made


def _sell(planned: dict, shift: Shift, rng: random.Random) -> Sale | None:
    cart = Cart(
        [CartLine(product.pk, quantity) for product, quantity in planned["lines"]],
        customer_id=planned["customer"].pk if planned["customer"] else None,
    )
    total = sum(product.retail_price * quantity for product, quantity in planned["lines"])
    tender = planned["tender"]
    if tender == Tender.MOBILE_MONEY:
        reference = f"MP{timezone.localtime():%y%m%d.%H%M}.{rng.randrange(10**5):05d}"
        tenders = [TenderLine(Tender.MOBILE_MONEY, total, reference=reference)]
    elif tender == Tender.ACCOUNT:
        down = (total * Decimal("0.3")).quantize(Decimal(1000)) if rng.random() < 0.5 else 0
        tenders = [TenderLine(Tender.ACCOUNT, total - down)]
        if down:
            tenders.insert(0, TenderLine(Tender.CASH, down))
    else:
        note = next((n for n in NOTES if n >= total and rng.random() < 0.7), None)
        handed = Decimal(note) if note else -(-total // 1000) * 1000
        tenders = [TenderLine(Tender.CASH, max(handed, total))]
    try:
        return checkout(shift=shift, cashier=shift.cashier, cart=cart, tenders=tenders,
                        idempotency_key=uuid.uuid4())  # fmt: skip
    except DomainError:  # e.g. a customer at their credit limit: the sale is not made
        return None


def _maybe_void(todays: list[Sale], staff: Staff, rng: random.Random) -> int:
    if not todays or rng.random() > 0.12:
        return 0
    sale = rng.choice(todays)
    void_sale(sale=sale, user=staff.manager, reason=rng.choice(VOID_REASONS))
    sale.status = Sale.Status.VOIDED
    return 1


def _maybe_refund(recent: list[Sale], shift: Shift, staff: Staff, rng: random.Random) -> int:
    candidates = [s for s in recent if s.customer_id is None]
    if not candidates or rng.random() > 0.25:
        return 0
    sale = rng.choice(candidates)
    recent.remove(sale)
    line = sale.lines.order_by("pk").first()
    try:
        refund_sale(
            sale=sale,
            shift=shift,
            user=staff.manager,
            lines=[RefundLineInput(line.pk, 1, restock=rng.random() < 0.8)],
            reason=rng.choice(REFUND_REASONS),
        )
    except DomainError:
        return 0
    return 1


def _maybe_repay(shift: Shift, staff: Staff, rng: random.Random) -> int:
    """Now and then a customer on account pays part of their oldest open invoice."""
    if rng.random() > 0.3:
        return 0
    invoice = (
        Invoice.objects.filter(status__in=[Invoice.Status.SENT, Invoice.Status.PARTLY_PAID])
        .order_by("issued_at", "pk")
        .first()
    )
    if invoice is None:
        return 0
    due = invoice.total - invoice.amount_paid - invoice.credited
    amount = due if rng.random() < 0.5 else max(Decimal(1000), (due / 2).quantize(Decimal(1000)))
    tender = Tender.CASH if rng.random() < 0.6 else Tender.MOBILE_MONEY
    reference = "" if tender == Tender.CASH else f"MP{rng.randrange(10**8):08d}"
    record_invoice_payment(invoice=invoice, amount=min(amount, due), tender=tender,
                           user=staff.cashier, shift=shift, reference=reference)  # fmt: skip
    return 1


def _close(shift: Shift, staff: Staff, rng: random.Random) -> None:
    expected = expected_by_tender(shift)
    counted = {tender: amount for tender, amount in expected.items() if amount}
    # Now and then the drawer is a little short or over, as in life.
    drift = rng.choice([0, 0, 0, 0, 0, 0, -500, -1000, 200])
    counted[Tender.CASH] = max(Decimal(0), expected.get(Tender.CASH, Decimal(0)) + drift)
    close_shift(shift=shift, counted=counted, user=staff.manager, note="")
