"""Report selectors: every figure is aggregated in the database, in the shop's time zone.

Sales figures read the snapshots on each sale and sale line (price, discount, VAT, cost), never
today's product prices. A *completed* sale counts in sales; a *voided* sale is reported apart and
counts nowhere else; refunds are reported apart, on the day they were given, and the net figures
subtract them. Periods are shop-local dates, both ends included: [start 00:00, end+1 00:00).

Each selector runs one or a few grouped queries, so a report's query count does not depend on
the number of sales. Python only loops over grouped rows (days, products), never sale lines.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    TruncDate,
    TruncMonth,
    TruncWeek,
)
from django.utils import timezone

from pos.models import (
    Category,
    Invoice,
    Payment,
    Product,
    ProductStatus,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    Shift,
    StockMovement,
)

ZERO = Decimal(0)
AMOUNT = DecimalField(max_digits=20, decimal_places=2)
COMPLETED = Sale.Status.COMPLETED
VOIDED = Sale.Status.VOIDED
GRAINS = ("day", "week", "month")
BREAKDOWNS = ("product", "category", "cashier", "tender", "customer")
OPEN_INVOICE = [Invoice.Status.SENT, Invoice.Status.PARTLY_PAID]


def shop_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The aware datetimes [start 00:00, the day after end 00:00) in the shop's time zone."""
    tz = shop_tz()
    low = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    high = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return low, high


def _in_period(start, end, field="created_at") -> Q:
    low, high = bounds(start, end)
    return Q(**{f"{field}__gte": low, f"{field}__lt": high})


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(value)


def _mul(a: str, b: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(a) * F(b), output_field=AMOUNT)


# --- Sales -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesSummary:
    count: int
    gross: Decimal  # shelf value before discounts
    discounts: Decimal
    tax: Decimal  # VAT collected on completed sales
    total: Decimal  # what customers paid (VAT included)
    void_count: int
    void_total: Decimal
    refund_count: int
    refund_total: Decimal
    refund_tax: Decimal

    @property
    def net_total(self) -> Decimal:
        return self.total - self.refund_total

    @property
    def net_tax(self) -> Decimal:
        return self.tax - self.refund_tax

    @property
    def average_basket(self) -> Decimal:
        return self.total / self.count if self.count else ZERO


def sales_summary(start: datetime.date, end: datetime.date) -> SalesSummary:
    """Completed sales, voids and refunds of the period (two queries)."""
    completed = Q(status=COMPLETED)
    voided = Q(status=VOIDED)
    sales = Sale.objects.filter(_in_period(start, end)).aggregate(
        n=Count("id", filter=completed),
        gross=Sum("subtotal", filter=completed),
        discounts=Sum("discount_total", filter=completed),
        vat=Sum("tax_total", filter=completed),
        amount=Sum("total", filter=completed),
        void_count=Count("id", filter=voided),
        void_amount=Sum("total", filter=voided),
    )
    refunds = Refund.objects.filter(_in_period(start, end)).aggregate(
        n=Count("id"), amount=Sum("total"), vat=Sum("tax_total")
    )
    return SalesSummary(
        count=sales["n"],
        gross=_money(sales["gross"]),
        discounts=_money(sales["discounts"]),
        tax=_money(sales["vat"]),
        total=_money(sales["amount"]),
        void_count=sales["void_count"],
        void_total=_money(sales["void_amount"]),
        refund_count=refunds["n"],
        refund_total=_money(refunds["amount"]),
        refund_tax=_money(refunds["vat"]),
    )


def _trunc(grain: str, field: str = "created_at"):
    tz = shop_tz()
    if grain == "day":
        return TruncDate(field, tzinfo=tz)
    # Truncated in shop time and returned as a date (not re-converted from UTC).
    if grain == "week":
        return TruncWeek(field, tzinfo=tz, output_field=DateField())
    if grain == "month":
        return TruncMonth(field, tzinfo=tz, output_field=DateField())
    raise ValueError(f"unknown grain {grain!r}")


def _period_starts(start: datetime.date, end: datetime.date, grain: str) -> list[datetime.date]:
    if grain == "day":
        first, step = start, None
    elif grain == "week":
        first, step = start - datetime.timedelta(days=start.weekday()), None
    else:
        first, step = start.replace(day=1), "month"
    out, day = [], first
    while day <= end:
        out.append(day)
        if step == "month":
            day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        else:
            day += datetime.timedelta(days=1 if grain == "day" else 7)
    return out


@dataclass(frozen=True)
class PeriodRow:
    period: datetime.date
    count: int
    total: Decimal
    tax: Decimal
    void_count: int
    refunds: Decimal

    @property
    def net(self) -> Decimal:
        return self.total - self.refunds


def sales_by_period(start, end, grain: str = "day") -> list[PeriodRow]:
    """One row per day/week/month of the range (empty periods included): two grouped queries."""
    completed = Q(status=COMPLETED)
    sales = (
        Sale.objects.filter(_in_period(start, end))
        .annotate(period=_trunc(grain))
        .values("period")
        .annotate(
            n=Count("id", filter=completed),
            amount=Sum("total", filter=completed),
            vat=Sum("tax_total", filter=completed),
            void_count=Count("id", filter=Q(status=VOIDED)),
        )
        .order_by()
    )
    refunds = (
        Refund.objects.filter(_in_period(start, end))
        .annotate(period=_trunc(grain))
        .values("period")
        .annotate(amount=Sum("total"))
        .order_by()
    )
    by_period = {row["period"]: row for row in sales}
    refunded = {row["period"]: _money(row["amount"]) for row in refunds}
    rows = []
    for period in _period_starts(start, end, grain):
        row = by_period.get(period, {})
        rows.append(
            PeriodRow(
                period=period,
                count=row.get("n", 0),
                total=_money(row.get("amount")),
                tax=_money(row.get("vat")),
                void_count=row.get("void_count", 0),
                refunds=refunded.get(period, ZERO),
            )
        )
    return rows


def sales_by_hour(day: datetime.date) -> list[tuple[int, int, Decimal]]:
    """(hour 0-23, number of sales, total) of completed sales on a shop-local day: one query."""
    rows = (
        Sale.objects.filter(_in_period(day, day), status=COMPLETED)
        .annotate(hour=ExtractHour("created_at", tzinfo=shop_tz()))
        .values("hour")
        .annotate(n=Count("id"), amount=Sum("total"))
        .order_by()
    )
    found = {row["hour"]: row for row in rows}
    return [
        (hour, found.get(hour, {}).get("n", 0), _money(found.get(hour, {}).get("amount")))
        for hour in range(24)
    ]


def sales_breakdown(start, end, by: str) -> list[dict]:
    """Completed sales of the period grouped by product, category, cashier, tender or customer.

    Each row: `label`, `count` (sales, or units for product/category), `total`; largest first.
    Tender rows are payments net of change given (a credit sale shows as "On account").
    """
    period = _in_period(start, end, "sale__created_at")
    if by in ("product", "category"):
        # Group by the integer key alone (cheaper than by names over many lines), then name the
        # few groups with one more query.
        key = {"product": "product_id", "category": "product__category_id"}[by]
        rows = (
            SaleLine.objects.filter(period, sale__status=COMPLETED)
            .values(key)
            .annotate(
                units=Sum("quantity"),
                amount=Sum("total"),
                vat=Sum("tax"),
                discounts=Sum(F("line_discount") + F("order_discount"), output_field=AMOUNT),
            )
            .order_by()
        )
        rows = list(rows)
        labels = _labels(by, [row[key] for row in rows])
        out = [
            {
                "label": labels.get(row[key], str(row[key])),
                "count": row["units"],
                "total": _money(row["amount"]),
                "tax": _money(row["vat"]),
                "discounts": _money(row["discounts"]),
            }
            for row in rows
        ]
        return sorted(out, key=lambda row: (-row["total"], row["label"]))
    if by == "tender":
        rows = (
            Payment.objects.filter(period, sale__status=COMPLETED)
            .values("tender")
            .annotate(n=Count("sale", distinct=True), paid=Sum("amount"))
            .order_by("-paid", "tender")
        )
        labels = dict(Payment._meta.get_field("tender").choices)
        return [
            {
                "label": str(labels.get(row["tender"], row["tender"])),
                "count": row["n"],
                "total": _money(row["paid"]),
            }
            for row in rows
        ]
    if by in ("cashier", "customer"):
        field = {"cashier": "cashier__username", "customer": "customer__name"}[by]
        rows = (
            Sale.objects.filter(_in_period(start, end), status=COMPLETED)
            .values(f"{by}_id", field)
            .annotate(n=Count("id"), amount=Sum("total"), vat=Sum("tax_total"))
            .order_by("-amount", field)
        )
        return [
            {
                "label": row[field] or "Walk-in customer",
                "count": row["n"],
                "total": _money(row["amount"]),
                "tax": _money(row["vat"]),
            }
            for row in rows
        ]
    raise ValueError(f"unknown breakdown {by!r}")


def _labels(by: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    if by == "product":
        products = Product.objects.filter(pk__in=ids).values_list("pk", "name", "sku")
        return {pk: f"{name} ({sku})" for pk, name, sku in products}
    return dict(Category.objects.filter(pk__in=ids).values_list("pk", "name"))


def top_products(start, end, limit: int = 10) -> list[dict]:
    return sales_breakdown(start, end, "product")[:limit]


# --- Profit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfitRow:
    label: str
    quantity: int
    revenue: Decimal  # net of VAT, after discounts and returns
    cost: Decimal  # cost snapshot × quantity, less restocked returns

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        return self.margin * 100 / self.revenue if self.revenue else None


def profit(start, end, by: str = "product") -> tuple[ProfitRow, list[ProfitRow]]:
    """Revenue (ex VAT), cost of goods sold and gross margin of the period, by product/category.

    Sales: completed sale lines of the period, revenue = line total − line VAT, cost = unit cost
    snapshot × quantity. Returns given in the period take back their revenue (ex VAT); a returned
    item put back on the shelf also takes back its cost, a damaged one does not. Three queries.
    """
    if by == "product":
        line_key, refund_key = "product_id", "sale_line__product_id"
    elif by == "category":
        line_key, refund_key = "product__category_id", "sale_line__product__category_id"
    else:
        raise ValueError(f"unknown profit breakdown {by!r}")
    sold = (
        SaleLine.objects.filter(_in_period(start, end, "sale__created_at"), sale__status=COMPLETED)
        .values(line_key)
        .annotate(
            units=Sum("quantity"),
            revenue=Sum(F("total") - F("tax"), output_field=AMOUNT),
            cost=Sum(_mul("unit_cost", "quantity")),
        )
        .order_by()
    )
    returned = (
        RefundLine.objects.filter(_in_period(start, end, "refund__created_at"))
        .exclude(sale_line=None)
        .values(refund_key)
        .annotate(
            units=Sum("quantity"),
            revenue=Sum(F("total") - F("tax"), output_field=AMOUNT),
            cost=Sum(
                Case(
                    When(restock=True, then=F("sale_line__unit_cost") * F("quantity")),
                    default=Value(0),
                    output_field=AMOUNT,
                )
            ),
        )
        .order_by()
    )
    sold, returned = list(sold), list(returned)
    labels = _labels(by, [r[line_key] for r in sold] + [r[refund_key] for r in returned])
    rows: dict = {}
    for row in sold:
        label = labels.get(row[line_key], str(row[line_key]))
        rows[row[line_key]] = [label, row["units"], _money(row["revenue"]), _money(row["cost"])]
    for row in returned:
        label = labels.get(row[refund_key], str(row[refund_key]))
        entry = rows.setdefault(row[refund_key], [label, 0, ZERO, ZERO])
        entry[1] -= row["units"]
        entry[2] -= _money(row["revenue"])
        entry[3] -= _money(row["cost"])
    out = sorted((ProfitRow(*entry) for entry in rows.values()), key=lambda r: (-r.margin, r.label))
    total = ProfitRow(
        "Total",
        sum(r.quantity for r in out),
        sum((r.revenue for r in out), ZERO),
        sum((r.cost for r in out), ZERO),
    )
    return total, out


# --- Inventory ---------------------------------------------------------------------------------


def inventory(*, low_stock_only: bool = False):
    """Products not discontinued, with stock on hand and its value at cost and at retail.

    Returns (totals, queryset); negative stock counts as none in the values.
    """
    products = Product.objects.exclude(status=ProductStatus.DISCONTINUED).select_related("category")
    if low_stock_only:
        products = products.filter(stock_on_hand__lte=F("reorder_level"))
    in_stock = Case(When(stock_on_hand__gt=0, then=F("stock_on_hand")), default=Value(0))
    cost_value = ExpressionWrapper(in_stock * F("cost_price"), output_field=AMOUNT)
    retail_value = ExpressionWrapper(in_stock * F("retail_price"), output_field=AMOUNT)
    # The totals repeat the expressions: SQLite cannot SUM an annotation by its alias.
    totals = products.aggregate(
        units=Coalesce(Sum(in_stock, output_field=IntegerField()), 0),
        cost_value=Sum(cost_value),
        retail_value=Sum(retail_value),
    )
    products = products.annotate(cost_value=cost_value, retail_value=retail_value)
    totals = {**totals, "cost_value": _money(totals["cost_value"])}
    totals["retail_value"] = _money(totals["retail_value"])
    return totals, products.order_by("category__name", "name")


def low_stock(limit: int = 20):
    return (
        Product.objects.filter(status=ProductStatus.ACTIVE, stock_on_hand__lte=F("reorder_level"))
        .order_by("stock_on_hand", "name")
        .values("pk", "name", "sku", "stock_on_hand", "reorder_level")[:limit]
    )


def slow_movers(days: int, *, today: datetime.date | None = None):
    """Products in stock with no completed sale in the last `days` shop days, and when each
    last sold (None: never). One query: the products sold since then come from the recent sales
    (the sale date index), and only the few slow movers look up their last sale."""
    today = today or timezone.localdate()
    since, _ = bounds(today - datetime.timedelta(days=days - 1), today)
    sold_since = SaleLine.objects.filter(
        sale__status=COMPLETED, sale__created_at__gte=since
    ).values("product_id")
    last_sale = (
        SaleLine.objects.filter(product=OuterRef("pk"), sale__status=COMPLETED)
        .order_by("-sale__created_at")
        .values("sale__created_at")[:1]
    )
    return (
        Product.objects.filter(stock_on_hand__gt=0)
        .exclude(status=ProductStatus.DISCONTINUED)
        .exclude(pk__in=sold_since)
        .annotate(
            last_sold=Subquery(last_sale),
            cost_value=ExpressionWrapper(F("stock_on_hand") * F("cost_price"), output_field=AMOUNT),
        )
        .order_by(F("last_sold").asc(nulls_first=True), "name")
        .values("pk", "name", "sku", "stock_on_hand", "cost_value", "last_sold")
    )


def stock_movements(*, product=None, kind: str = "", start=None, end=None, limit: int = 500):
    """Stock movements, newest first, filtered by product, kind and shop-local date range."""
    movements = StockMovement.objects.select_related("product", "created_by")
    if product is not None:
        movements = movements.filter(product=product)
    if kind:
        movements = movements.filter(kind=kind)
    if start is not None:
        movements = movements.filter(created_at__gte=bounds(start, start)[0])
    if end is not None:
        movements = movements.filter(created_at__lt=bounds(end, end)[1])
    return movements.order_by("-created_at", "-id")[:limit]


# --- Shifts ------------------------------------------------------------------------------------


def closed_shifts(start, end):
    """Shifts closed in the period with their over/short, newest first (one query)."""
    return (
        Shift.objects.filter(_in_period(start, end, "closed_at"), status=Shift.Status.CLOSED)
        .select_related("register", "cashier", "closed_by")
        .order_by("-closed_at")
    )


def open_shifts():
    return Shift.objects.filter(status=Shift.Status.OPEN).select_related("register", "cashier")


# --- Customers ---------------------------------------------------------------------------------


def top_customers(start, end, limit: int = 20) -> list[dict]:
    return sales_breakdown(start, end, "customer")[: limit + 1]


AGEING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
AGEING_LABELS = ("Current", "1–30 days", "31–60 days", "61–90 days", "Over 90 days")


def invoice_ageing(today: datetime.date | None = None) -> tuple[dict, list[dict]]:
    """What each customer owes on open invoices, aged by days past the due date (one query).

    Buckets: current (not yet past due), 1–30, 31–60, 61–90 and over 90 days overdue.
    Returns (totals, rows); rows sorted by most owed.
    """
    today = today or timezone.localdate()

    def ago(days: int) -> datetime.date:
        return today - datetime.timedelta(days=days)

    balance = F("total") - F("amount_paid") - F("credited")
    ranges = {
        "current": Q(due_date__gte=today),
        "days_1_30": Q(due_date__lt=today, due_date__gte=ago(30)),
        "days_31_60": Q(due_date__lt=ago(30), due_date__gte=ago(60)),
        "days_61_90": Q(due_date__lt=ago(60), due_date__gte=ago(90)),
        "days_over_90": Q(due_date__lt=ago(90)),
    }
    sums = {
        name: Coalesce(
            Sum(balance, filter=q, output_field=AMOUNT), Value(ZERO), output_field=AMOUNT
        )
        for name, q in ranges.items()
    }
    rows = list(
        Invoice.objects.filter(status__in=OPEN_INVOICE)
        .values("customer_id", "customer__name", "customer__phone")
        .annotate(invoices=Count("id"), owed=Sum(balance, output_field=AMOUNT), **sums)
        .filter(owed__gt=0)
        .order_by("-owed", "customer__name")
    )
    for row in rows:
        row["total"] = row.pop("owed")
        for name in (*AGEING_BUCKETS, "total"):
            row[name] = _money(row[name])
    totals = {name: sum((row[name] for row in rows), ZERO) for name in (*AGEING_BUCKETS, "total")}
    return totals, rows


def overdue_invoices(today: datetime.date | None = None, limit: int = 20):
    today = today or timezone.localdate()
    return (
        Invoice.objects.filter(status__in=OPEN_INVOICE, due_date__lt=today)
        .select_related("customer")
        .order_by("due_date", "pk")[:limit]
    )


# --- Dashboard ---------------------------------------------------------------------------------


def gross_margin(start, end) -> ProfitRow:
    return profit(start, end, by="category")[0]
