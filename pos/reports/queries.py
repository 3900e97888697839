"""Report selectors: every figure is aggregated in the database, in the shop's time zone.

Sales are placed on their shop-local day (Sale.business_day, written at checkout). Sales figures
read the snapshots on each sale and sale line (price, discount, VAT, cost), never today's product
prices. A *completed* sale counts in sales; a *voided* sale is reported apart and
counts nowhere else; refunds are reported apart, on the day they were given, and the net figures
subtract them. Periods are shop-local dates, both ends included: [start 00:00, end+1 00:00).

Each selector runs one or a few grouped queries, so a report's query count does not depend on
the number of sales. Python only loops over grouped rows (days, products), never sale lines.

Stores (issue 29): every selector takes `stores`, the pks of the stores whose figures it adds up
(None: every store, the consolidated figures). A sale, its lines and its payments count in its
till's store; a refund, its lines and its payments in the store of the till that paid it out
(as on the Z-report); stock in each store's own levels; an invoice in its sale's store (one with
no sale only in the consolidated figures). So each store's figures add up to the consolidated
ones (tests/pos/reports/test_stores.py).
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
    Exists,
    ExpressionWrapper,
    F,
    Max,
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
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from pos import selectors
from pos.models import (
    Category,
    Invoice,
    Payment,
    Product,
    ProductDaySales,
    ProductStatus,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    Shift,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
    TransferStatus,
)
from pos.quantities import STORED, summed

ZERO = Decimal(0)
AMOUNT = DecimalField(max_digits=20, decimal_places=2)
COMPLETED = Sale.Status.COMPLETED
VOIDED = Sale.Status.VOIDED
GRAINS = ("day", "week", "month")
BREAKDOWNS = ("product", "model", "category", "cashier", "tender", "customer")


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


# The way from each row a report reads to the store it counts in.
SALE_STORE = "register__store"
REFUND_STORE = "shift__register__store"


def _at(stores, path: str) -> Q:
    """Rows of the stores `stores` (`path`: the row's way to its store); None: every store."""
    return Q() if stores is None else Q(**{f"{path}__in": stores})


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(value)


QUANTITY = DecimalField(**STORED)


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


def _on_days(start, end, field="business_day") -> Q:
    """Sales rung on the shop-local days start..end (Sale.business_day, written at checkout)."""
    return Q(**{f"{field}__gte": start, f"{field}__lte": end})


def sales_summary(start: datetime.date, end: datetime.date, stores=None) -> SalesSummary:
    """Completed sales, voids and refunds of the period (two queries)."""
    completed = Q(status=COMPLETED)
    voided = Q(status=VOIDED)
    sales = Sale.objects.filter(_on_days(start, end), _at(stores, SALE_STORE)).aggregate(
        n=Count("id", filter=completed),
        gross=Sum("subtotal", filter=completed),
        discounts=Sum("discount_total", filter=completed),
        vat=Sum("tax_total", filter=completed),
        amount=Sum("total", filter=completed),
        void_count=Count("id", filter=voided),
        void_amount=Sum("total", filter=voided),
    )
    refunds = Refund.objects.filter(_in_period(start, end), _at(stores, REFUND_STORE)).aggregate(
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


def _trunc_day(grain: str, field: str = "business_day"):
    """The week or month of a shop-local date column (no time zone arithmetic per row)."""
    if grain == "day":
        return F(field)
    if grain == "week":
        return TruncWeek(field, output_field=DateField())
    if grain == "month":
        return TruncMonth(field, output_field=DateField())
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


def sales_by_period(start, end, grain: str = "day", stores=None) -> list[PeriodRow]:
    """One row per day/week/month of the range (empty periods included): two grouped queries."""
    completed = Q(status=COMPLETED)
    sales = (
        Sale.objects.filter(_on_days(start, end), _at(stores, SALE_STORE))
        .annotate(period=_trunc_day(grain))
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
        Refund.objects.filter(_in_period(start, end), _at(stores, REFUND_STORE))
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


def sales_by_hour(day: datetime.date, stores=None) -> list[tuple[int, int, Decimal]]:
    """(hour 0-23, number of sales, total) of completed sales on a shop-local day: one query."""
    rows = (
        Sale.objects.filter(_on_days(day, day), _at(stores, SALE_STORE), status=COMPLETED)
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


# --- Sales lines by product or category -------------------------------------------------------

# "model": a product's variants (red, blue) rolled up to the product they vary; "product" shows
# each variant apart.
LINE_KEYS = {"product": "product_id", "category": "product__category_id", "model": "model_id"}


def _keyed(queryset, key: str):
    """`queryset.values(key)`, the model key being the product a variant varies, or itself."""
    if key == "model_id":
        return queryset.values(model_id=Coalesce("product__variant_of_id", "product_id"))
    return queryset.values(key)


@dataclass(frozen=True)
class LineSums:
    units: Decimal = ZERO
    total: Decimal = ZERO
    tax: Decimal = ZERO
    discounts: Decimal = ZERO
    cost: Decimal = ZERO

    @classmethod
    def of(cls, row: dict) -> "LineSums":
        return cls(
            units=summed(row["units"]),
            total=_money(row["total"]),
            tax=_money(row["tax"]),
            discounts=_money(row["discounts"]),
            cost=_money(row["cost"]),
        )

    def __sub__(self, other: "LineSums") -> "LineSums":
        return LineSums(
            self.units - other.units,
            self.total - other.total,
            self.tax - other.tax,
            self.discounts - other.discounts,
            self.cost - other.cost,
        )


def _line_totals() -> dict:
    """The LineSums of sale lines, as aggregates."""
    return {
        "units": Sum("quantity"),
        "total": Sum("total"),
        "tax": Sum("tax"),
        "discounts": Sum(F("line_discount") + F("order_discount"), output_field=AMOUNT),
        "cost": Sum(_mul("unit_cost", "quantity")),
    }


def line_sums(start, end, by: str, stores=None) -> tuple[dict, dict]:
    """(completed, voided): the sale lines of the period summed per product or category id.

    Two grouped queries. The lines of every sale rung in the period come from the daily sums
    (ProductDaySales, at most one row per product and day), not from the lines themselves; the
    lines of the period's voided sales, few, are read through the sale day index and taken out.
    The daily sums are the whole business's: some stores' lines are read from the lines of their
    sales (the sale day index), in as many queries.
    """
    key = LINE_KEYS[by]
    if stores is None:
        rung = _keyed(ProductDaySales.objects.filter(_on_days(start, end, "day")), key).annotate(
            units=Sum("quantity"),
            total=Sum("total"),
            tax=Sum("tax"),
            discounts=Sum("discounts"),
            cost=Sum("cost"),
        )
    else:
        lines = SaleLine.objects.filter(
            _on_days(start, end, "sale__business_day"), _at(stores, f"sale__{SALE_STORE}")
        )
        rung = _keyed(lines, key).annotate(**_line_totals())
    rung = rung.order_by()
    voided_lines = (
        _keyed(
            SaleLine.objects.filter(
                _on_days(start, end, "sale__business_day"),
                _at(stores, f"sale__{SALE_STORE}"),
                sale__status=VOIDED,
            ),
            key,
        )
        .annotate(**_line_totals())
        .order_by()
    )
    voided = {row[key]: LineSums.of(row) for row in voided_lines}
    completed = {row[key]: LineSums.of(row) - voided.get(row[key], LineSums()) for row in rung}
    return completed, voided


# --- Breakdowns --------------------------------------------------------------------------------


@dataclass
class _Group:
    label: str = ""
    count: int = 0
    total: Decimal = ZERO
    refund_count: int = 0
    refunds: Decimal = ZERO
    void_count: int = 0
    voided: Decimal = ZERO


def sales_breakdown(start, end, by: str, stores=None) -> list[dict]:
    """The period's sales grouped by product, category, cashier, tender or customer.

    Each row: `label`; `count` and `total` of completed sales (units for product and category,
    payments taken for tender); `refund_count` and `refunds` given in the period; `net` = total −
    refunds; `void_count` and `voided`, apart. Largest net first. Every breakdown adds up to the
    sales summary of the same period: its totals, refunds, net and voids.

    A refund counts on the day it was given (as in the summary), for the products of its lines,
    the customer of its sale, the cashier whose shift paid it out (as in the Z-report) and the
    tender it was paid out in (a credit to an invoice shows as "On account"). A voided sale
    counts only in the void columns. Tender rows are payments net of change given.
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}")
    groups: dict = {}

    def group(key, label=None) -> _Group:
        entry = groups.setdefault(key, _Group())
        if label is not None:
            entry.label = label
        return entry

    if by in LINE_KEYS:
        field = LINE_KEYS[by]
        completed, voided = line_sums(start, end, by, stores)
        for key, sums in completed.items():
            group(key).count, group(key).total = sums.units, sums.total
        for key, sums in voided.items():
            group(key).void_count, group(key).voided = sums.units, sums.total
        refunds = (
            _keyed(
                RefundLine.objects.filter(
                    _in_period(start, end, "refund__created_at"),
                    _at(stores, f"refund__{REFUND_STORE}"),
                ),
                field,
            )
            .annotate(n=Sum("quantity"), amount=Sum("total"))
            .order_by()
        )
        for row in refunds:
            group(row[field]).refund_count = summed(row["n"])
            group(row[field]).refunds = row["amount"]
        for key, label in _labels(by, list(groups)).items():
            group(key, label)
    elif by == "tender":
        _tender_groups(start, end, group, stores)
    else:
        _sale_groups(start, end, by, group, stores)
    out = []
    for key, g in groups.items():
        total, refunds, voided = _money(g.total), _money(g.refunds), _money(g.voided)
        out.append(
            {
                "label": g.label or str(key),
                "count": g.count,
                "total": total,
                "refund_count": g.refund_count,
                "refunds": refunds,
                "net": total - refunds,
                "void_count": g.void_count,
                "voided": voided,
            }
        )
    return sorted(out, key=lambda row: (-row["net"], row["label"]))


def walk_in_label() -> str:
    """The label of sales without a named customer."""
    return _("Walk-in customer")


def _sale_groups(start, end, by: str, group, stores=None) -> None:
    """By cashier or customer: one query over the period's sales, one over its refunds."""
    completed, voided = Q(status=COMPLETED), Q(status=VOIDED)
    if by == "cashier":
        sale_key, sale_label = "cashier_id", "cashier__username"
        refund_key, refund_label = "shift__cashier_id", "shift__cashier__username"
    else:
        sale_key, sale_label = "customer_id", "customer__name"
        refund_key, refund_label = "sale__customer_id", "sale__customer__name"
    sales = (
        Sale.objects.filter(_on_days(start, end), _at(stores, SALE_STORE))
        .values(sale_key, sale_label)
        .annotate(
            n=Count("id", filter=completed),
            amount=Sum("total", filter=completed),
            void_n=Count("id", filter=voided),
            void_amount=Sum("total", filter=voided),
        )
        .order_by()
    )
    for row in sales:
        g = group(row[sale_key], row[sale_label] or walk_in_label())
        g.count, g.total = row["n"], row["amount"]
        g.void_count, g.voided = row["void_n"], row["void_amount"]
    refunds = (
        Refund.objects.filter(_in_period(start, end), _at(stores, REFUND_STORE))
        .values(refund_key, refund_label)
        .annotate(n=Count("id"), amount=Sum("total"))
        .order_by()
    )
    for row in refunds:
        g = group(row[refund_key], row[refund_label] or walk_in_label())
        g.refund_count, g.refunds = row["n"], row["amount"]


# A sale's own payments: tenders in (positive) and change out (negative). A void writes their
# exact opposites; this tells the two apart without reading the sale.
SALE_PAYMENT = Q(amount__gt=0, is_change=False) | Q(amount__lt=0, is_change=True)


def _tender_groups(start, end, group, stores=None) -> None:
    """By tender, three queries. A sale's payments carry the sale's own time (checkout writes
    them together), so the period's payments are found by their time, without reading a third
    of a million sales; the few of voided sales are then read through the sale day index."""
    labels = dict(Payment._meta.get_field("tender").choices)
    paid = Sum("amount")
    # Payments taken, not distinct sales: counting distinct sales over a long period sorts
    # every payment. Change is not a payment.
    sales = Count("id", filter=Q(is_change=False))
    rung = (
        Payment.objects.filter(
            _in_period(start, end),
            _at(stores, f"sale__{SALE_STORE}"),
            SALE_PAYMENT,
            sale__isnull=False,
        )
        .values("tender")
        .annotate(n=sales, amount=paid)
        .order_by()
    )
    voided = (
        Payment.objects.filter(
            _on_days(start, end, "sale__business_day"),
            _at(stores, f"sale__{SALE_STORE}"),
            SALE_PAYMENT,
            sale__status=VOIDED,
        )
        .values("tender")
        .annotate(n=sales, amount=paid)
        .order_by()
    )
    refunds = (
        Payment.objects.filter(
            _in_period(start, end, "refund__created_at"), _at(stores, f"refund__{REFUND_STORE}")
        )
        .values("tender")
        .annotate(n=Count("id"), amount=paid)
        .order_by()
    )
    for row in voided:
        g = group(row["tender"], str(labels.get(row["tender"], row["tender"])))
        g.void_count, g.voided = row["n"], _money(row["amount"])
    for row in rung:
        g = group(row["tender"], str(labels.get(row["tender"], row["tender"])))
        g.count, g.total = row["n"] - g.void_count, _money(row["amount"]) - g.voided
    for row in refunds:
        g = group(row["tender"], str(labels.get(row["tender"], row["tender"])))
        g.refund_count, g.refunds = row["n"], -_money(row["amount"])


def _labels(by: str, ids: list[int]) -> dict[int, str]:
    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return {}
    if by in ("product", "model"):
        products = Product.objects.filter(pk__in=ids).values_list("pk", "name", "sku")
        return {pk: f"{name} ({sku})" for pk, name, sku in products}
    return dict(Category.objects.filter(pk__in=ids).values_list("pk", "name"))


def top_products(start, end, limit: int = 10, stores=None) -> list[dict]:
    return sales_breakdown(start, end, "product", stores)[:limit]


# --- Profit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfitRow:
    label: str
    quantity: Decimal
    revenue: Decimal  # net of VAT, after discounts and returns
    cost: Decimal  # cost snapshot × quantity, less restocked returns

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        return self.margin * 100 / self.revenue if self.revenue else None


def profit(start, end, by: str = "product", stores=None) -> tuple[ProfitRow, list[ProfitRow]]:
    """Revenue (ex VAT), cost of goods sold and gross margin of the period, by product/category.

    Sales: completed sale lines of the period, revenue = line total − line VAT, cost = unit cost
    snapshot × quantity (`line_sums`). Returns given in the period take back their revenue (ex
    VAT); a returned item put back on the shelf also takes back its cost, a damaged one does not.
    Four queries.
    """
    if by == "product":
        refund_key = "sale_line__product_id"
    elif by == "category":
        refund_key = "sale_line__product__category_id"
    else:
        raise ValueError(f"unknown profit breakdown {by!r}")
    sold, _voided = line_sums(start, end, by, stores)
    returned = (
        RefundLine.objects.filter(
            _in_period(start, end, "refund__created_at"), _at(stores, f"refund__{REFUND_STORE}")
        )
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
    returned = list(returned)
    labels = _labels(by, list(sold) + [r[refund_key] for r in returned])
    rows: dict = {}
    for key, sums in sold.items():
        label = labels.get(key, str(key))
        rows[key] = [label, sums.units, sums.total - sums.tax, sums.cost]
    for row in returned:
        label = labels.get(row[refund_key], str(row[refund_key]))
        entry = rows.setdefault(row[refund_key], [label, ZERO, ZERO, ZERO])
        entry[1] -= summed(row["units"])
        entry[2] -= _money(row["revenue"])
        entry[3] -= _money(row["cost"])
    # A product whose every sale of the period was voided has nothing left to show.
    entries = [e for e in rows.values() if e[1] or e[2] or e[3]]
    out = sorted((ProfitRow(*entry) for entry in entries), key=lambda r: (-r.margin, r.label))
    total = ProfitRow(
        gettext("Total"),
        sum((r.quantity for r in out), ZERO),
        sum((r.revenue for r in out), ZERO),
        sum((r.cost for r in out), ZERO),
    )
    return total, out


# --- Inventory ---------------------------------------------------------------------------------


def _on_hand(stores):
    """The stock of the row's product in `stores`: a subquery summing their levels; None: the
    business's total (`Product.stock_on_hand`, kept by the stock ledger), read without summing."""
    if stores is None:
        return F("stock_on_hand")
    levels = (
        StockLevel.objects.filter(product=OuterRef("pk"), store__in=stores)
        .order_by()
        .values("product")
        .annotate(total=Sum("on_hand"))
        .values("total")
    )
    return Coalesce(Subquery(levels[:1]), Value(ZERO), output_field=QUANTITY)


def _low_levels(stores):
    """The stock levels at or below their reorder level (the store's own, else the product's)
    of active products in `stores`; None: in every active store."""
    levels = StockLevel.objects.filter(
        on_hand__lte=Coalesce("reorder_level", "product__reorder_level"),
        product__status=ProductStatus.ACTIVE,
    )
    if stores is None:
        return levels.filter(store__is_active=True)
    return levels.filter(store__in=stores)


def inventory(*, low_stock_only: bool = False, search: str = "", stores=None):
    """Products not discontinued, with their stock on hand in `stores` (`on_hand`) and its value
    at cost and at retail; with `low_stock_only` only the active ones whose stock is at or below
    its reorder level in one of those stores; with `search` only those whose name contains it or
    whose SKU or barcode is it.

    Returns (totals, queryset); totals count the products too; negative stock counts as none in
    the values.
    """
    products = Product.objects.exclude(status=ProductStatus.DISCONTINUED).select_related("category")
    if low_stock_only:  # as on the dashboard: the active products to reorder
        products = products.filter(Exists(_low_levels(stores).filter(product=OuterRef("pk"))))
    search = search.strip()
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku=search) | Q(barcode=search))
    products = products.annotate(on_hand=_on_hand(stores))
    in_stock = Case(
        When(on_hand__gt=0, then=F("on_hand")),
        default=Value(ZERO),
        output_field=QUANTITY,
    )
    cost_value = ExpressionWrapper(in_stock * F("cost_price"), output_field=AMOUNT)
    retail_value = ExpressionWrapper(in_stock * F("retail_price"), output_field=AMOUNT)
    # The totals repeat the expressions: SQLite cannot SUM an annotation by its alias.
    totals = products.aggregate(
        products=Count("pk"),
        units=Coalesce(Sum(in_stock, output_field=QUANTITY), Value(ZERO, output_field=QUANTITY)),
        cost_value=Sum(cost_value),
        retail_value=Sum(retail_value),
    )
    products = products.annotate(cost_value=cost_value, retail_value=retail_value)
    totals = {
        **totals,
        "units": summed(totals["units"]),
        "cost_value": _money(totals["cost_value"]),
    }
    totals["retail_value"] = _money(totals["retail_value"])
    return totals, products.order_by("category__name", "name")


def in_transit(stores=None) -> tuple[dict, list[dict]]:
    """The goods sent between stores and not yet received: each line of a sent transfer from or
    to one of `stores` (None: every store) with what is still on the way and its value at cost,
    oldest first. Sending takes them off the source's stock and receiving puts them on the
    destination's, so in between they are in no store's stock on hand: this is where they are.

    Returns (totals, rows): the units and the value at cost of all the lines."""
    lines = TransferLine.objects.filter(transfer__status=TransferStatus.SENT)
    if stores is not None:
        lines = lines.filter(
            Q(transfer__source_id__in=stores) | Q(transfer__destination_id__in=stores)
        )
    on_the_way = ExpressionWrapper(
        F("quantity") - F("quantity_received") - F("quantity_shrinkage"), output_field=QUANTITY
    )
    rows = list(
        lines.annotate(on_the_way=on_the_way)
        .filter(on_the_way__gt=0)
        .annotate(
            cost_value=ExpressionWrapper(
                F("on_the_way") * F("product__cost_price"), output_field=AMOUNT
            )
        )
        .order_by("transfer__sent_at", "transfer_id", "pk")
        .values(
            "transfer_id",
            "transfer__sent_at",
            "transfer__source__name",
            "transfer__destination__name",
            "product__name",
            "product__sku",
            "on_the_way",
            "cost_value",
        )
    )
    for row in rows:
        row["number"] = Transfer.number_of(row["transfer_id"])
        row["on_the_way"] = summed(row["on_the_way"])
        row["cost_value"] = _money(row["cost_value"])
    totals = {
        "units": summed(sum((r["on_the_way"] for r in rows), ZERO)),
        "cost_value": sum((r["cost_value"] for r in rows), ZERO),
    }
    return totals, rows


def low_stock(limit: int = 20, stores=None):
    """The stock levels at or below their reorder level of the active products in `stores`
    (None: every active store), the emptiest first: a product low in two stores is two rows."""
    return (
        _low_levels(stores)
        .annotate(reorder_at=Coalesce("reorder_level", "product__reorder_level"))
        .order_by("on_hand", "product__name", "store__name")
        .values(
            "product_id", "product__name", "product__sku", "store__name", "on_hand", "reorder_at"
        )[:limit]
    )


def low_stock_count(stores=None) -> int:
    """How many products are low in one of `stores` (the inventory's "only low stock")."""
    return _low_levels(stores).values("product_id").distinct().count()


def slow_movers(days: int, *, today: datetime.date | None = None, stores=None) -> list[dict]:
    """Products in stock (in `stores`) with no completed sale (there) in the last `days` shop
    days, and the last day each was sold (None: never). Two queries: the products sold since then
    come from the recent sales (the sale date index); the few slow movers' last days come from
    the daily sums (a voided sale's day counts there), or for some stores from their sales' lines.
    Reading every line of a never-sold product's sales is what made PostgreSQL plan (and
    JIT-compile) this for seconds."""
    today = today or timezone.localdate()
    since, _ = bounds(today - datetime.timedelta(days=days - 1), today)
    sold_since = SaleLine.objects.filter(
        _at(stores, f"sale__{SALE_STORE}"), sale__status=COMPLETED, sale__created_at__gte=since
    ).values("product_id")
    slow = list(
        Product.objects.annotate(on_hand=_on_hand(stores))
        .filter(on_hand__gt=0)
        .exclude(status=ProductStatus.DISCONTINUED)
        .exclude(pk__in=sold_since)
        .annotate(cost_value=ExpressionWrapper(F("on_hand") * F("cost_price"), output_field=AMOUNT))
        .values("pk", "name", "sku", "on_hand", "cost_value")
    )
    # By the listed ids (no second query when there are none): the product index, a few rows.
    listed = [p["pk"] for p in slow]
    if stores is None:
        last = ProductDaySales.objects.filter(product__in=listed).values("product")
        last_days = dict(last.annotate(last=Max("day")).values_list("product", "last"))
    else:
        last = SaleLine.objects.filter(
            _at(stores, f"sale__{SALE_STORE}"), product__in=listed
        ).values("product")
        last_days = dict(
            last.annotate(last=Max("sale__business_day")).values_list("product", "last")
        )
    for product in slow:
        product["last_sold"] = last_days.get(product["pk"])
    never = datetime.date.min
    return sorted(slow, key=lambda p: (p["last_sold"] or never, p["name"]))


def stock_movements(
    *, product=None, kind: str = "", start=None, end=None, limit: int = 500, stores=None
):
    """Stock movements of `stores`, newest first, filtered by product, kind and shop-local date
    range."""
    movements = StockMovement.objects.filter(_at(stores, "store")).select_related(
        "product", "created_by", "store"
    )
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


def closed_shifts(start, end, stores=None):
    """Shifts closed in the period with their over/short, newest first (one query)."""
    return (
        Shift.objects.filter(
            _in_period(start, end, "closed_at"), _at(stores, SALE_STORE), status=Shift.Status.CLOSED
        )
        .select_related("register", "cashier", "closed_by")
        .order_by("-closed_at")
    )


def open_shifts(stores=None):
    return Shift.objects.filter(_at(stores, SALE_STORE), status=Shift.Status.OPEN).select_related(
        "register", "cashier"
    )


# --- Customers ---------------------------------------------------------------------------------


def top_customers(start, end, limit: int = 20, stores=None) -> list[dict]:
    return sales_breakdown(start, end, "customer", stores)[: limit + 1]


AGEING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
AGEING_LABELS = (
    gettext_lazy("Current"),
    gettext_lazy("1–30 days"),
    gettext_lazy("31–60 days"),
    gettext_lazy("61–90 days"),
    gettext_lazy("Over 90 days"),
)


def ageing_labels() -> list[str]:
    return [str(label) for label in AGEING_LABELS]


def invoice_ageing(today: datetime.date | None = None, stores=None) -> tuple[dict, list[dict]]:
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
        Invoice.objects.open()
        .filter(_at(stores, f"sale__{SALE_STORE}"))
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


def overdue_invoices(today: datetime.date | None = None, limit: int = 20, stores=None):
    return selectors.overdue_invoices(today).filter(_at(stores, f"sale__{SALE_STORE}"))[:limit]


# --- Dashboard ---------------------------------------------------------------------------------


def gross_margin(start, end, stores=None) -> ProfitRow:
    return profit(start, end, by="category", stores=stores)[0]
