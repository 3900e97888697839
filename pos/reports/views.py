"""Report pages for managers (`pos.view_reports`). Every table: ?format=csv (or json) downloads it.

Views read the period from the query string, call the selectors in `queries`, and hand tables
and charts to the templates; they compute nothing themselves.
"""

import datetime
from decimal import Decimal

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from monitoring.errors import error_response
from pos.models import Shift, ShopSettings, Tender
from pos.money import format_money
from pos.reports import charts, queries
from pos.reports.forms import InventoryForm, PeriodForm, ProfitForm, SalesForm
from pos.reports.tables import Column, Table, csv_response, json_response
from vevurn.db_routers import reads_from_replica


def reports_required(view):
    """pos.view_reports; then the report's own queries read from the replica when there is one
    (DATABASE_REPLICA_URL). Sign-in and permission checks stay on the primary."""
    return permission_required("pos.view_reports", raise_exception=True)(reads_from_replica()(view))


INT, PCT = "int", "percent"
# The inventory's stock table, a page at a time (with 300 products it was 32,000 px long); its
# other long tables show this many rows, and their downloads all.
INVENTORY_PAGE_SIZE = 50
REPORT_ROWS_SHOWN = 50
DASHBOARD_LOW_STOCK = 20


def _total_label(products: int) -> str:
    return ngettext("Total (%(n)s product)", "Total (%(n)s products)", products) % {
        "n": f"{products:,}"
    }


def _money_col(label: str) -> Column:
    return Column(label, "money")


def _respond(request, template, context, tables: list[Table], name: str):
    fmt = request.GET.get("format")
    if fmt == "json":
        return json_response(tables)
    if fmt == "csv":
        wanted = request.GET.get("table") or tables[0].slug
        table = next((t for t in tables if t.slug == wanted), tables[0])
        return csv_response(table, f"{name}-{table.slug}")
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("table", None)
    context.update(tables=tables, query=query.urlencode())
    return render(request, template, context)


def _period_form(request, form_class):
    form = form_class(request.GET)
    return form, form.is_valid()


def _invalid(request, template, form):
    if request.GET.get("format") == "json":
        fields = {name: list(messages) for name, messages in form.errors.items()}
        return error_response(request, "invalid", "Check the report's filters.", 400, fields)
    return render(request, template, {"form": form, "tables": []}, status=400)


@login_required
@reports_required
def dashboard(request):
    shop = ShopSettings.load()
    places = shop.currency_decimal_places
    today = timezone.localdate()
    month_ago = today - datetime.timedelta(days=29)
    summary = queries.sales_summary(today, today)
    margin = queries.gross_margin(today, today)
    hours = queries.sales_by_hour(today)
    days = queries.sales_by_period(month_ago, today, "day")
    top = queries.top_products(today, today, limit=5)
    low = list(queries.low_stock(DASHBOARD_LOW_STOCK))
    low_count = len(low) if len(low) < DASHBOARD_LOW_STOCK else queries.low_stock_count()
    shifts = list(queries.open_shifts())
    overdue = list(queries.overdue_invoices(today))
    code = shop.currency_code
    tables = [
        Table("top-products", "Top products today",
              [Column("Product"), Column("Units", INT), _money_col(f"Sales ({code})"),
               _money_col(f"Refunds ({code})"), _money_col(f"Net ({code})")],
              [[r["label"], r["count"], r["total"], r["refunds"], r["net"]] for r in top],
              places=places,
              empty="No sales yet today."),
        Table("low-stock", "Low stock",
              [Column("Product"), Column("SKU"), Column("On hand", INT), Column("Reorder at", INT)],
              [[p["name"], p["sku"], p["stock_on_hand"], p["reorder_level"]] for p in low],
              empty="Nothing is low.",
              link=(f"{reverse('reports:inventory')}?low=on#stock",
                    ngettext("All %(n)s low-stock product", "All %(n)s low-stock products",
                             low_count) % {"n": f"{low_count:,}"}) if low_count else None),
        Table("open-shifts", "Open shifts",
              [Column("Register"), Column("Cashier"), Column("Opened", "datetime")],
              [[s.register.name, s.cashier.get_full_name() or s.cashier.username, s.opened_at]
               for s in shifts], empty="No shift is open."),
        Table("overdue-invoices", "Overdue invoices",
              [Column("Invoice"), Column("Customer"), Column("Due", "date"),
               _money_col(f"Balance due ({code})")],
              [[i.number, i.customer.name, i.due_date, i.balance_due] for i in overdue],
              places=places, empty="No invoice is overdue."),
        Table("last-30-days", "Last 30 days",
              [Column("Day", "date"), Column("Sales", INT), _money_col(f"Total ({code})"),
               _money_col(f"Refunds ({code})"), _money_col(f"Net ({code})")],
              [[r.period, r.count, r.total, r.refunds, r.net] for r in days], places=places),
        Table("by-hour", "Today by hour",
              [Column("Hour"), Column("Sales", INT), _money_col(f"Total ({code})")],
              [[f"{h:02d}:00", n, total] for h, n, total in hours if n], places=places,
              empty="No sales yet today."),
    ]  # fmt: skip
    cards = [
        ("Sales today", format_money(summary.total)),
        ("Number of sales", f"{summary.count:,}"),
        ("Average basket", format_money(summary.average_basket)),
        ("Gross margin (ex VAT)", format_money(margin.margin)
         + (f" · {margin.margin_percent:.1f} %" if margin.margin_percent is not None else "")),
        ("Refunds today", format_money(summary.refund_total)),
        ("Voided today", f"{summary.void_count} · {format_money(summary.void_total)}"),
    ]  # fmt: skip
    context = {
        "cards": cards,
        "today": today,
        "hour_chart": charts.bar_chart(
            [(f"{h:02d}", total) for h, _, total in hours if 7 <= h <= 22 or total],
            title=f"Sales by hour, {today:%d %b %Y}",
            y_label=code,
            x_label="Hour of the day (shop time)",
        ),
        "days_chart": charts.bar_chart(
            [(f"{r.period:%d}", r.total) for r in days],
            title=f"Sales, last 30 days ({month_ago:%d %b} – {today:%d %b %Y})",
            y_label=code,
            x_label="Day of the month",
        ),
    }
    return _respond(request, "pos/reports/dashboard.html", context, tables, "dashboard")


@login_required
@reports_required
def sales(request):
    form, valid = _period_form(request, SalesForm)
    if not valid:
        return _invalid(request, "pos/reports/sales.html", form)
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    grain = form.cleaned_data["grain"]
    by = form.cleaned_data.get("by") or "product"
    summary = queries.sales_summary(start, end)
    periods = queries.sales_by_period(start, end, grain)
    breakdown = queries.sales_breakdown(start, end, by)
    by_line = by in ("product", "category")
    count_label, refunded_label, voided_label = (
        ("Units", "Returned", "Voided")
        if by_line
        else ("Payments", "Refunds", "Voids")
        if by == "tender"
        else ("Sales", "Refunds", "Voids")
    )
    tables = [
        Table("periods", f"Sales by {grain}",
              [Column(grain.title(), "date"), Column("Sales", INT), _money_col(f"Total ({code})"),
               _money_col(f"VAT ({code})"), Column("Voided", INT), _money_col(f"Refunds ({code})"),
               _money_col(f"Net ({code})")],
              [[r.period, r.count, r.total, r.tax, r.void_count, r.refunds, r.net]
               for r in periods],
              footer=["Total", summary.count, summary.total, summary.tax, summary.void_count,
                      summary.refund_total, summary.net_total], places=places),
        Table("breakdown", f"By {by}",
              [Column(by.title()), Column(count_label, INT), _money_col(f"Total ({code})"),
               Column(refunded_label, INT), _money_col(f"Refunded ({code})"),
               _money_col(f"Net ({code})"), Column(voided_label, INT),
               _money_col(f"Voided ({code})")],
              [[r["label"], r["count"], r["total"], r["refund_count"], r["refunds"], r["net"],
                r["void_count"], r["voided"]] for r in breakdown],
              footer=["Total", "", summary.total, "", summary.refund_total, summary.net_total,
                      "", summary.void_total], places=places),
    ]  # fmt: skip
    context = {
        "form": form,
        "start": start,
        "end": end,
        "summary": summary,
        "cards": [
            ("Sales", format_money(summary.total)),
            ("Number of sales", f"{summary.count:,}"),
            ("Discounts given", format_money(summary.discounts)),
            ("VAT collected (net of refunds)", format_money(summary.net_tax)),
            ("Refunds", f"{summary.refund_count} · {format_money(summary.refund_total)}"),
            ("Voided", f"{summary.void_count} · {format_money(summary.void_total)}"),
            ("Net sales", format_money(summary.net_total)),
        ],
        "chart": charts.bar_chart(
            [(_period_label(r.period, grain), r.total) for r in periods],
            title=f"Sales by {grain}, {start:%d %b %Y} – {end:%d %b %Y}",
            y_label=code,
            x_label=grain.title(),
        ),
    }
    return _respond(request, "pos/reports/sales.html", context, tables, "sales")


def _period_label(day: datetime.date, grain: str) -> str:
    return {"day": f"{day:%d %b}", "week": f"{day:%d %b}", "month": f"{day:%b %y}"}[grain]


@login_required
@reports_required
def profit(request):
    form, valid = _period_form(request, ProfitForm)
    if not valid:
        return _invalid(request, "pos/reports/profit.html", form)
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    by = form.cleaned_data.get("by") or "product"
    total, rows = queries.profit(start, end, by=by)
    tables = [
        Table("profit", f"Profit by {by}",
              [Column(by.title()), Column("Units", INT), _money_col(f"Revenue ex VAT ({code})"),
               _money_col(f"Cost ({code})"), _money_col(f"Gross margin ({code})"),
               Column("Margin", PCT)],
              [[r.label, r.quantity, r.revenue, r.cost, r.margin, r.margin_percent]
               for r in rows],
              footer=["Total", total.quantity, total.revenue, total.cost, total.margin,
                      total.margin_percent], places=places),
    ]  # fmt: skip
    context = {
        "form": form,
        "start": start,
        "end": end,
        "cards": [
            ("Revenue (ex VAT)", format_money(total.revenue)),
            ("Cost of goods sold", format_money(total.cost)),
            ("Gross margin", format_money(total.margin)),
            (
                "Margin",
                f"{total.margin_percent:.1f} %" if total.margin_percent is not None else "—",
            ),
        ],
        "chart": charts.bar_chart(
            [(charts.short(r.label.split(" (")[0]), r.margin) for r in rows[:12]],
            title=f"Gross margin by {by} (top 12)",
            y_label=code,
            x_label=by.title(),
        ),
    }
    return _respond(request, "pos/reports/profit.html", context, tables, "profit")


@login_required
@reports_required
def inventory(request):
    form = InventoryForm(request.GET)
    if not form.is_valid():
        return _invalid(request, "pos/reports/inventory.html", form)
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    days = form.cleaned_data["days"] or 30
    totals, products = queries.inventory()
    search, low = form.cleaned_data["q"], form.cleaned_data["low"]
    listed = totals
    if search or low:
        listed, products = queries.inventory(search=search, low_stock_only=low)
    download = request.GET.get("format") in ("csv", "json")
    page = (
        None
        if download
        else Paginator(products, INVENTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    )
    page_query = request.GET.copy()
    page_query.pop("page", None)
    slow = list(queries.slow_movers(days))
    movements = list(
        queries.stock_movements(
            product=form.cleaned_data["product"],
            kind=form.cleaned_data["kind"],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            limit=200,
        )
    )
    tables = [
        Table("stock", "Stock on hand",
              [Column("Product"), Column("SKU"), Column("Category"), Column("On hand", INT),
               _money_col(f"Value at cost ({code})"), _money_col(f"Value at retail ({code})")],
              [[p.name, p.sku, p.category.name, p.stock_on_hand, p.cost_value, p.retail_value]
               for p in (products if page is None else page.object_list)],
              footer=[_total_label(listed["products"]), "", "", listed["units"],
                      listed["cost_value"], listed["retail_value"]], places=places,
              page=page, page_query=page_query.urlencode(),
              empty=_("No product matches.")),
        Table("slow-movers", f"Slow movers: in stock, no sale in {days} days",
              [Column("Product"), Column("SKU"), Column("On hand", INT),
               _money_col(f"Value at cost ({code})"), Column("Last sold", "date")],
              [[p["name"], p["sku"], p["stock_on_hand"], p["cost_value"], p["last_sold"]]
               for p in slow], places=places, empty="Everything in stock has sold recently.",
              shown=REPORT_ROWS_SHOWN),
        Table("movements", "Stock movements (latest 200)",
              [Column("When", "datetime"), Column("Product"), Column("Kind"),
               Column("Quantity", INT), Column("After", INT), Column("Reference"), Column("Reason"),
               Column("By")],
              [[m.created_at, m.product.name, m.get_kind_display(), m.quantity, m.stock_after,
                m.reference_label, m.reason, m.created_by.username if m.created_by else ""]
               for m in movements], empty="No movements match.", shown=REPORT_ROWS_SHOWN),
    ]  # fmt: skip
    context = {
        "form": form,
        "cards": [
            ("Units in stock", f"{totals['units']:,}"),
            ("Value at cost", format_money(totals["cost_value"])),
            ("Value at retail", format_money(totals["retail_value"])),
            (f"Slow movers ({days} days)", f"{len(slow):,}"),
        ],
    }
    return _respond(request, "pos/reports/inventory.html", context, tables, "inventory")


@login_required
@reports_required
def shifts(request):
    form, valid = _period_form(request, PeriodForm)
    if not valid:
        return _invalid(request, "pos/reports/shifts.html", form)
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = list(queries.closed_shifts(start, end))
    tables = [
        Table("shifts", "Closed shifts",
              [Column("Shift"), Column("Register"), Column("Cashier"), Column("Opened", "datetime"),
               Column("Closed", "datetime"), _money_col(f"Sales ({code})"),
               _money_col(f"Cash over/short ({code})")],
              [[s.pk, s.register.name, s.cashier.username, s.opened_at, s.closed_at,
                Decimal(s.z_report.get("sales", {}).get("total") or 0), s.over_short]
               for s in rows], places=places, empty="No shift closed in this period."),
    ]  # fmt: skip
    context = {"form": form, "start": start, "end": end, "shifts": rows}
    return _respond(request, "pos/reports/shifts.html", context, tables, "shifts")


@login_required
@reports_required
def shift_detail(request, pk: int):
    shift = get_object_or_404(
        Shift.objects.select_related("register", "cashier", "closed_by"),
        pk=pk,
        status=Shift.Status.CLOSED,
    )
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    z = shift.z_report
    counts = z.get("counts", {})
    tables = [
        Table("counts", "Drawer count by tender",
              [Column("Tender"), _money_col(f"Expected ({code})"), _money_col(f"Counted ({code})"),
               _money_col(f"Over/short ({code})")],
              [[Tender.label_of(t), _dec(v.get("expected")), _dec(v.get("counted")),
                _dec(v.get("over_short"))]
               for t, v in counts.items()], places=places),
        Table("tenders", "Takings by tender",
              [Column("Tender"), _money_col(f"Net ({code})"), _money_col(f"Change given ({code})")],
              # change is kept as the negative cash row it is; shown as the amount given
              [[Tender.label_of(t), _dec(v.get("net")), abs(_dec(v.get("change")))]
               for t, v in z.get("by_tender", {}).items()], places=places),
        Table("categories", "Sales by category",
              [Column("Category"), Column("Units", INT), _money_col(f"Total ({code})")],
              [[c["category"], c["quantity"], _dec(c["total"])]
               for c in z.get("by_category", [])], places=places),
    ]  # fmt: skip
    sales = z.get("sales", {})
    context = {
        "shift": shift,
        "cards": [
            ("Sales", f"{sales.get('count', 0)} · {format_money(_dec(sales.get('total')))}"),
            ("Discounts", format_money(_dec(sales.get("discounts")))),
            ("VAT", format_money(_dec(sales.get("tax")))),
            (
                "Voids",
                f"{z.get('voids', {}).get('count', 0)} · "
                f"{format_money(_dec(z.get('voids', {}).get('total')))}",
            ),
            (
                "Refunds",
                f"{z.get('refunds', {}).get('count', 0)} · "
                f"{format_money(_dec(z.get('refunds', {}).get('total')))}",
            ),
            ("Opening float", format_money(_dec(z.get("opening_float")))),
            ("Cash over/short", format_money(shift.over_short or Decimal(0))),
        ],  # fmt: skip
    }
    return _respond(request, "pos/reports/shift_detail.html", context, tables, f"shift-{pk}")


def _dec(value) -> Decimal:
    return Decimal(value) if value not in (None, "") else Decimal(0)


@login_required
@reports_required
def customers(request):
    form, valid = _period_form(request, PeriodForm)
    if not valid:
        return _invalid(request, "pos/reports/customers.html", form)
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    top = [r for r in queries.top_customers(start, end) if r["label"] != "Walk-in customer"][:20]
    totals, ageing = queries.invoice_ageing()
    buckets = [_money_col(f"{label} ({code})") for label in queries.AGEING_LABELS]
    tables = [
        Table("top-customers", "Top customers",
              [Column("Customer"), Column("Sales", INT), _money_col(f"Total ({code})"),
               _money_col(f"Refunds ({code})"), _money_col(f"Net ({code})")],
              [[r["label"], r["count"], r["total"], r["refunds"], r["net"]] for r in top],
              places=places,
              empty="No named customer bought in this period."),
        Table("ageing", "What customers owe, by days past due",
              [Column("Customer"), Column("Phone"), Column("Invoices", INT), *buckets,
               _money_col(f"Total owed ({code})")],
              [[r["customer__name"], r["customer__phone"], r["invoices"],
                *(r[b] for b in queries.AGEING_BUCKETS), r["total"]] for r in ageing],
              footer=["Total", "", sum(r["invoices"] for r in ageing),
                      *(totals[b] for b in queries.AGEING_BUCKETS), totals["total"]],
              places=places, empty="No customer owes anything."),
    ]  # fmt: skip
    context = {
        "form": form,
        "start": start,
        "end": end,
        "chart": charts.bar_chart(
            [
                (label, totals[b])
                for label, b in zip(queries.AGEING_LABELS, queries.AGEING_BUCKETS, strict=True)
            ],
            title="Unpaid invoices by days past due",
            y_label=code,
            x_label="Days past the due date",
        ),  # fmt: skip
    }
    return _respond(request, "pos/reports/customers.html", context, tables, "customers")
