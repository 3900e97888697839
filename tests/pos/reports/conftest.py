"""A hand-computed shop day for the reports (all figures in RWF, VAT 18% included in prices).

Product A "Charger": retail 11,800 (VAT 1,800), cost 5,000, category Chargers.
Product B "Case":    retail  5,900 (VAT   900), cost 2,000, category Cases.

On 10 March 2026, Kigali time:
- S1 09:15  2 × A, paid 23,600 cash                           total 23,600  VAT 3,600
- S2 23:59  A with 1,180 off (10,620, VAT 1,620) + B (5,900)  total 16,520  VAT 2,520
            paid 10,000 cash + 6,520 Mobile Money (a Walk-in? no: customer Alice)
- S3 12:00  1 × B, voided
- refund 15:00: 1 × A from S1, put back on the shelf: 11,800 (VAT 1,800)
On 11 March 00:00:30: S4 1 × B 5,900 (VAT 900), cash — the next day.
"""

import datetime
import zoneinfo
from decimal import Decimal as D

import pytest

KIGALI = zoneinfo.ZoneInfo("Africa/Kigali")
DAY = datetime.date(2026, 3, 10)


def at(day, hour, minute, second=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=KIGALI)


@pytest.fixture
def shop_day(sell, make_product, shift, manager, db):
    from pos.models import Category, Customer, Payment, ProductDaySales, Refund, Sale
    from pos.services.checkout import CartLine, TenderLine
    from pos.services.day_sales import add_sale_lines
    from pos.services.refunds import RefundLineInput, refund_sale
    from pos.services.voids import void_sale

    cases = Category.objects.create(name="Cases")
    charger = make_product(
        stock=20, name="Charger", cost_price=D(5000), retail_price=D(11800), minimum_price=D(9000)
    )
    case = make_product(
        stock=20,
        name="Case",
        category=cases,
        cost_price=D(2000),
        retail_price=D(5900),
        minimum_price=D(5000),
    )
    alice = Customer.objects.create(name="Alice Uwase", phone="+250788000001")

    def dated(sale, when):
        """Move a sale, as if rung at `when`: its day, its payments and the daily sums."""
        Sale.objects.filter(pk=sale.pk).update(created_at=when, business_day=when.date())
        Payment.objects.filter(sale=sale).update(created_at=when)
        ProductDaySales.objects.all().delete()
        for each in Sale.objects.prefetch_related("lines"):
            add_sale_lines(day=each.business_day, lines=each.lines.all())
        sale.refresh_from_db()
        return sale

    s1 = dated(sell((charger, 2), tenders=[TenderLine("cash", D(23600))]), at(DAY, 9, 15))
    s2 = sell(
        CartLine(charger.pk, 1, discount=D(1180)),
        (case, 1),
        customer=alice,
        tenders=[TenderLine("cash", D(10000)), TenderLine("mobile_money", D(6520), "MP1")],
    )
    s2 = dated(s2, at(DAY, 23, 59))
    s3 = dated(sell((case, 1)), at(DAY, 12, 0))
    void_sale(sale=s3, user=manager, reason="Rang up twice")
    refund = refund_sale(
        sale=s1,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(s1.lines.get().pk, 1)],
        reason="Does not charge",
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=at(DAY, 15, 0))
    s4 = dated(sell((case, 1)), at(DAY + datetime.timedelta(days=1), 0, 0, 30))
    return {
        "charger": charger,
        "case": case,
        "alice": alice,
        "sales": [s1, s2, s3, s4],
        "refund": refund,
    }
