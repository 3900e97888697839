"""Report pages for managers (`pos.view_reports`). Every table: ?format=csv (or json) downloads it.

Views read the period from the query string, call the selectors in `queries`, and hand tables
and charts to the templates; they compute nothing themselves.

Every report takes a store (issue 29): `?store=<pk>`, one of the stores the user works in (the
form's picker, pos.reports.forms.StoreForm); none: all of theirs, which for owners and admins
(and anyone who sees every store) is the consolidated figures. A manager of some stores sees
their stores' figures only; a store they do not work in is a form error (400), never its data.
"""

import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from monitoring.errors import error_response
from pos import scoping
from pos.models import Shift, ShopSettings, Tender
from pos.models.stock import reason_label
from pos.money import format_money
from pos.reports import charts, queries, suspicious
from pos.reports.forms import (
    BREAKDOWNS,
    InventoryForm,
    PeriodForm,
    ProfitForm,
    SalesForm,
    StoreForm,
)
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
        "n": _count(products)
    }


def _money_col(label: str, code: str) -> Column:
    """A money column headed "Label (RWF)"."""
    return Column(f"{label} ({code})", "money")


def _count(number) -> str:
    return number_format(number, 0, use_l10n=True, force_grouping=True)


def _percent(number) -> str:
    return f"{number_format(number, 1, use_l10n=True)} %"


def _day(day: datetime.date) -> str:
    return date_format(day, "DATE_FORMAT")


# Column headings and titles of a report's "group by" and "break down by" choices.
GRAINS = {"day": gettext_lazy("Day"), "week": gettext_lazy("Week"), "month": gettext_lazy("Month")}
SALES_BY_GRAIN = {
    "day": gettext_lazy("Sales by day"),
    "week": gettext_lazy("Sales by week"),
    "month": gettext_lazy("Sales by month"),
}
PROFIT_BY_BREAKDOWN = {
    "product": gettext_lazy("Profit by product"),
    "category": gettext_lazy("Profit by category"),
}
BY_BREAKDOWN = {
    "product": gettext_lazy("By product"),
    "model": gettext_lazy("By product, variants together"),
    "category": gettext_lazy("By category"),
    "cashier": gettext_lazy("By cashier"),
    "tender": gettext_lazy("By tender"),
    "customer": gettext_lazy("By customer"),
}


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
    form = form_class(request.GET, user=request.user)
    return form, form.is_valid()


def _several_stores(form) -> bool:
    """Whether the report's rows may be of several stores (the shop has more than one): then
    its stock tables say whose."""
    return "store" in form.fields


def _invalid(request, template, form):
    if request.GET.get("format") == "json":
        fields = {name: list(messages) for name, messages in form.errors.items()}
        return error_response(request, "invalid", _("Check the report's filters."), 400, fields)
    return render(request, template, {"form": form, "tables": []}, status=400)


@login_required
@reports_required
def dashboard(request):
    form, valid = _period_form(request, StoreForm)
    if not valid:
        return _invalid(request, "pos/reports/dashboard.html", form)
    stores = form.cleaned_data["stores"]
    shop = ShopSettings.load()
    places = shop.currency_decimal_places
    today = timezone.localdate()
    month_ago = today - datetime.timedelta(days=29)
    summary = queries.sales_summary(today, today, stores)
    margin = queries.gross_margin(today, today, stores)
    hours = queries.sales_by_hour(today, stores)
    days = queries.sales_by_period(month_ago, today, "day", stores)
    top = queries.top_products(today, today, limit=5, stores=stores)
    low = list(queries.low_stock(DASHBOARD_LOW_STOCK, stores))
    low_count = len(low) if len(low) < DASHBOARD_LOW_STOCK else queries.low_stock_count(stores)
    shifts = list(queries.open_shifts(stores))
    overdue = list(queries.overdue_invoices(today, stores=stores))
    code = shop.currency_code
    several = _several_stores(form)
    low_query = {"low": "on", **({"store": form.cleaned_data["store"]} if several else {})}
    tables = [
        Table("top-products", _("Top products today"),
              [Column(_("Product")), Column(_("Units"), INT), _money_col(_("Sales"), code),
               _money_col(_("Refunds"), code), _money_col(_("Net"), code)],
              [[r["label"], r["count"], r["total"], r["refunds"], r["net"]] for r in top],
              places=places,
              empty=_("No sales yet today.")),
        Table("low-stock", _("Low stock"),
              [Column(_("Product")), Column(_("SKU")), *([Column(_("Store"))] if several else []),
               Column(_("On hand"), INT), Column(_("Reorder at"), INT)],
              [[p["product__name"], p["product__sku"], *([p["store__name"]] if several else []),
                p["on_hand"], p["reorder_at"]] for p in low],
              empty=_("Nothing is low."),
              link=(f"{reverse('reports:inventory')}?{urlencode(low_query)}#stock",
                    ngettext("All %(n)s low-stock product", "All %(n)s low-stock products",
                             low_count) % {"n": _count(low_count)}) if low_count else None),
        Table("open-shifts", _("Open shifts"),
              [Column(_("Register")), Column(_("Cashier")), Column(_("Opened"), "datetime")],
              [[s.register.name, s.cashier.get_full_name() or s.cashier.username, s.opened_at]
               for s in shifts], empty=_("No shift is open.")),
        Table("overdue-invoices", _("Overdue invoices"),
              [Column(_("Invoice")), Column(_("Customer")), Column(_("Due"), "date"),
               _money_col(_("Balance due"), code)],
              [[i.number, i.customer.name, i.due_date, i.balance_due] for i in overdue],
              places=places, empty=_("No invoice is overdue.")),
        Table("last-30-days", _("Last 30 days"),
              [Column(_("Day"), "date"), Column(_("Sales"), INT), _money_col(_("Total"), code),
               _money_col(_("Refunds"), code), _money_col(_("Net"), code)],
              [[r.period, r.count, r.total, r.refunds, r.net] for r in days], places=places),
        Table("by-hour", _("Today by hour"),
              [Column(_("Hour")), Column(_("Sales"), INT), _money_col(_("Total"), code)],
              [[f"{h:02d}:00", n, total] for h, n, total in hours if n], places=places,
              empty=_("No sales yet today.")),
    ]  # fmt: skip
    cards = [
        (_("Sales today"), format_money(summary.total)),
        (_("Number of sales"), _count(summary.count)),
        (_("Average basket"), format_money(summary.average_basket)),
        (_("Gross margin (ex VAT)"), format_money(margin.margin)
         + (f" · {_percent(margin.margin_percent)}" if margin.margin_percent is not None else "")),
        (_("Refunds today"), format_money(summary.refund_total)),
        (_("Voided today"), f"{summary.void_count} · {format_money(summary.void_total)}"),
    ]  # fmt: skip
    context = {
        "form": form,
        "cards": cards,
        "today": today,
        "hour_chart": charts.bar_chart(
            [(f"{h:02d}", total) for h, _, total in hours if 7 <= h <= 22 or total],
            title=_("Sales by hour, %(day)s") % {"day": _day(today)},
            y_label=code,
            x_label=_("Hour of the day (shop time)"),
        ),
        "days_chart": charts.bar_chart(
            [(f"{r.period:%d}", r.total) for r in days],
            title=_("Sales, last 30 days (%(start)s – %(end)s)")
            % {"start": _day(month_ago), "end": _day(today)},
            y_label=code,
            x_label=_("Day of the month"),
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
    stores = form.cleaned_data["stores"]
    summary = queries.sales_summary(start, end, stores)
    periods = queries.sales_by_period(start, end, grain, stores)
    breakdown = queries.sales_breakdown(start, end, by, stores)
    by_line = by in ("product", "model", "category")
    count_label, refunded_label, voided_label = (
        (_("Units"), _("Returned"), _("Voided"))
        if by_line
        else (_("Payments"), _("Refunds"), _("Voids"))
        if by == "tender"
        else (_("Sales"), _("Refunds"), _("Voids"))
    )
    tables = [
        Table("periods", str(SALES_BY_GRAIN[grain]),
              [Column(str(GRAINS[grain]), "date"), Column(_("Sales"), INT),
               _money_col(_("Total"), code),
               _money_col(_("VAT"), code), Column(_("Voided"), INT), _money_col(_("Refunds"), code),
               _money_col(_("Net"), code)],
              [[r.period, r.count, r.total, r.tax, r.void_count, r.refunds, r.net]
               for r in periods],
              footer=[_("Total"), summary.count, summary.total, summary.tax, summary.void_count,
                      summary.refund_total, summary.net_total], places=places),
        Table("breakdown", str(BY_BREAKDOWN[by]),
              [Column(str(BREAKDOWNS[by])), Column(count_label, INT), _money_col(_("Total"), code),
               Column(refunded_label, INT), _money_col(_("Refunded"), code),
               _money_col(_("Net"), code), Column(voided_label, INT),
               _money_col(_("Voided"), code)],
              [[r["label"], r["count"], r["total"], r["refund_count"], r["refunds"], r["net"],
                r["void_count"], r["voided"]] for r in breakdown],
              footer=[_("Total"), "", summary.total, "", summary.refund_total, summary.net_total,
                      "", summary.void_total], places=places),
    ]  # fmt: skip
    context = {
        "form": form,
        "start": start,
        "end": end,
        "summary": summary,
        "cards": [
            (_("Sales"), format_money(summary.total)),
            (_("Number of sales"), _count(summary.count)),
            (_("Discounts given"), format_money(summary.discounts)),
            (_("VAT collected (net of refunds)"), format_money(summary.net_tax)),
            (_("Refunds"), f"{summary.refund_count} · {format_money(summary.refund_total)}"),
            (_("Voided"), f"{summary.void_count} · {format_money(summary.void_total)}"),
            (_("Net sales"), format_money(summary.net_total)),
        ],
        "chart": charts.bar_chart(
            [(_period_label(r.period, grain), r.total) for r in periods],
            title=_("%(title)s, %(start)s – %(end)s")
            % {"title": SALES_BY_GRAIN[grain], "start": _day(start), "end": _day(end)},
            y_label=code,
            x_label=str(GRAINS[grain]),
        ),
    }
    return _respond(request, "pos/reports/sales.html", context, tables, "sales")


def _period_label(day: datetime.date, grain: str) -> str:
    return date_format(day, "M y" if grain == "month" else "d M")


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
    total, rows = queries.profit(start, end, by=by, stores=form.cleaned_data["stores"])
    tables = [
        Table("profit", str(PROFIT_BY_BREAKDOWN[by]),
              [Column(str(BREAKDOWNS[by])), Column(_("Units"), INT),
               _money_col(_("Revenue ex VAT"), code),
               _money_col(_("Cost"), code), _money_col(_("Gross margin"), code),
               Column(_("Margin"), PCT)],
              [[r.label, r.quantity, r.revenue, r.cost, r.margin, r.margin_percent]
               for r in rows],
              footer=[_("Total"), total.quantity, total.revenue, total.cost, total.margin,
                      total.margin_percent], places=places),
    ]  # fmt: skip
    context = {
        "form": form,
        "start": start,
        "end": end,
        "cards": [
            (_("Revenue (ex VAT)"), format_money(total.revenue)),
            (_("Cost of goods sold"), format_money(total.cost)),
            (_("Gross margin"), format_money(total.margin)),
            (
                _("Margin"),
                _percent(total.margin_percent) if total.margin_percent is not None else "—",
            ),
        ],
        "chart": charts.bar_chart(
            [(charts.short(r.label.split(" (")[0]), r.margin) for r in rows[:12]],
            title=_("%(title)s (top 12)") % {"title": PROFIT_BY_BREAKDOWN[by]},
            y_label=code,
            x_label=str(BREAKDOWNS[by]),
        ),
    }
    return _respond(request, "pos/reports/profit.html", context, tables, "profit")


@login_required
@reports_required
def inventory(request):
    form, valid = _period_form(request, InventoryForm)
    if not valid:
        return _invalid(request, "pos/reports/inventory.html", form)
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    days = form.cleaned_data["days"] or 30
    stores, several = form.cleaned_data["stores"], _several_stores(form)
    totals, products = queries.inventory(stores=stores)
    search, low = form.cleaned_data["q"], form.cleaned_data["low"]
    listed = totals
    if search or low:
        listed, products = queries.inventory(search=search, low_stock_only=low, stores=stores)
    download = request.GET.get("format") in ("csv", "json")
    page = (
        None
        if download
        else Paginator(products, INVENTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    )
    page_query = request.GET.copy()
    page_query.pop("page", None)
    slow = list(queries.slow_movers(days, stores=stores))
    on_the_way, moving = queries.in_transit(stores)
    movements = list(
        queries.stock_movements(
            product=form.cleaned_data["product"],
            kind=form.cleaned_data["kind"],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            limit=200,
            stores=stores,
        )
    )
    tables = [
        Table("stock", _("Stock on hand"),
              [Column(_("Product")), Column(_("SKU")), Column(_("Category")),
               Column(_("On hand"), INT),
               _money_col(_("Value at cost"), code), _money_col(_("Value at retail"), code)],
              [[p.name, p.sku, p.category.name, p.on_hand, p.cost_value, p.retail_value]
               for p in (products if page is None else page.object_list)],
              footer=[_total_label(listed["products"]), "", "", listed["units"],
                      listed["cost_value"], listed["retail_value"]], places=places,
              page=page, page_query=page_query.urlencode(),
              empty=_("No product matches.")),
        Table("slow-movers",
              _("Slow movers: in stock, no sale in %(days)s days") % {"days": days},
              [Column(_("Product")), Column(_("SKU")), Column(_("On hand"), INT),
               _money_col(_("Value at cost"), code), Column(_("Last sold"), "date")],
              [[p["name"], p["sku"], p["on_hand"], p["cost_value"], p["last_sold"]]
               for p in slow], places=places, empty=_("Everything in stock has sold recently."),
              shown=REPORT_ROWS_SHOWN),
        Table("in-transit", _("In transit between stores"),
              [Column(_("Transfer")), Column(_("Sent"), "datetime"), Column(_("From")),
               Column(_("To")), Column(_("Product")), Column(_("SKU")),
               Column(_("On the way"), INT), _money_col(_("Value at cost"), code)],
              [[m["number"], m["transfer__sent_at"], m["transfer__source__name"],
                m["transfer__destination__name"], m["product__name"], m["product__sku"],
                m["on_the_way"], m["cost_value"]] for m in moving],
              footer=[_("Total"), "", "", "", "", "", on_the_way["units"],
                      on_the_way["cost_value"]], places=places,
              empty=_("Nothing is on its way between stores."), shown=REPORT_ROWS_SHOWN),
        Table("movements", _("Stock movements (latest 200)"),
              [Column(_("When"), "datetime"), Column(_("Product")),
               *([Column(_("Store"))] if several else []), Column(_("Kind")),
               Column(_("Quantity"), INT), Column(_("After"), INT), Column(_("Reference")),
               Column(_("Reason")), Column(_("By"))],
              [[m.created_at, m.product.name, *([m.store.name] if several else []),
                m.get_kind_display(), m.quantity, m.stock_after,
                m.reference_label, reason_label(m.reason),
                m.created_by.username if m.created_by else ""]
               for m in movements], empty=_("No movements match."), shown=REPORT_ROWS_SHOWN),
    ]  # fmt: skip
    context = {
        "form": form,
        "cards": [
            (_("Units in stock"), _count(totals["units"])),
            (_("Value at cost"), format_money(totals["cost_value"])),
            (_("Value at retail"), format_money(totals["retail_value"])),
            (_("Slow movers (%(days)s days)") % {"days": days}, _count(len(slow))),
            (_("In transit, at cost"), format_money(on_the_way["cost_value"])),
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
    closed = queries.closed_shifts(start, end, form.cleaned_data["stores"])
    rows = list(scoping.for_user(closed, request.user))
    tables = [
        Table("shifts", _("Closed shifts"),
              [Column(_("Shift")), Column(_("Register")), Column(_("Cashier")),
               Column(_("Opened"), "datetime"),
               Column(_("Closed"), "datetime"), _money_col(_("Sales"), code),
               _money_col(_("Cash over/short"), code)],
              [[s.pk, s.register.name, s.cashier.username, s.opened_at, s.closed_at,
                Decimal(s.z_report.get("sales", {}).get("total") or 0), s.over_short]
               for s in rows], places=places, empty=_("No shift closed in this period.")),
    ]  # fmt: skip
    context = {"form": form, "start": start, "end": end, "shifts": rows}
    return _respond(request, "pos/reports/shifts.html", context, tables, "shifts")


@login_required
@reports_required
def shift_detail(request, pk: int):
    shift = get_object_or_404(
        scoping.for_user(Shift.objects.all(), request.user).select_related(
            "register", "cashier", "closed_by"
        ),
        pk=pk,
        status=Shift.Status.CLOSED,
    )
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    z = shift.z_report
    counts = z.get("counts", {})
    tables = [
        Table("counts", _("Drawer count by tender"),
              [Column(_("Tender")), _money_col(_("Expected"), code), _money_col(_("Counted"), code),
               _money_col(_("Over/short"), code)],
              [[Tender.label_of(t), _dec(v.get("expected")), _dec(v.get("counted")),
                _dec(v.get("over_short"))]
               for t, v in counts.items()], places=places),
        Table("tenders", _("Takings by tender"),
              [Column(_("Tender")), _money_col(_("Net"), code),
               _money_col(_("Change given"), code)],
              # change is kept as the negative cash row it is; shown as the amount given
              [[Tender.label_of(t), _dec(v.get("net")), abs(_dec(v.get("change")))]
               for t, v in z.get("by_tender", {}).items()], places=places),
        Table("categories", _("Sales by category"),
              [Column(_("Category")), Column(_("Units"), INT), _money_col(_("Total"), code)],
              [[c["category"], c["quantity"], _dec(c["total"])]
               for c in z.get("by_category", [])], places=places),
    ]  # fmt: skip
    sales = z.get("sales", {})
    context = {
        "shift": shift,
        "cards": [
            (_("Sales"), f"{sales.get('count', 0)} · {format_money(_dec(sales.get('total')))}"),
            (_("Discounts"), format_money(_dec(sales.get("discounts")))),
            (_("VAT"), format_money(_dec(sales.get("tax")))),
            (
                _("Voids"),
                f"{z.get('voids', {}).get('count', 0)} · "
                f"{format_money(_dec(z.get('voids', {}).get('total')))}",
            ),
            (
                _("Refunds"),
                f"{z.get('refunds', {}).get('count', 0)} · "
                f"{format_money(_dec(z.get('refunds', {}).get('total')))}",
            ),
            (_("Opening float"), format_money(_dec(z.get("opening_float")))),
            (_("Cash over/short"), format_money(shift.over_short or Decimal(0))),
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
    stores = form.cleaned_data["stores"]
    walk_in = queries.walk_in_label()
    top = [r for r in queries.top_customers(start, end, stores=stores) if r["label"] != walk_in]
    top = top[:20]
    totals, ageing = queries.invoice_ageing(stores=stores)
    buckets = [_money_col(label, code) for label in queries.ageing_labels()]
    tables = [
        Table("top-customers", _("Top customers"),
              [Column(_("Customer")), Column(_("Sales"), INT), _money_col(_("Total"), code),
               _money_col(_("Refunds"), code), _money_col(_("Net"), code)],
              [[r["label"], r["count"], r["total"], r["refunds"], r["net"]] for r in top],
              places=places,
              empty=_("No named customer bought in this period.")),
        Table("ageing", _("What customers owe, by days past due"),
              [Column(_("Customer")), Column(_("Phone")), Column(_("Invoices"), INT), *buckets,
               _money_col(_("Total owed"), code)],
              [[r["customer__name"], r["customer__phone"], r["invoices"],
                *(r[b] for b in queries.AGEING_BUCKETS), r["total"]] for r in ageing],
              footer=[_("Total"), "", sum(r["invoices"] for r in ageing),
                      *(totals[b] for b in queries.AGEING_BUCKETS), totals["total"]],
              places=places, empty=_("No customer owes anything.")),
    ]  # fmt: skip
    context = {
        "form": form,
        "start": start,
        "end": end,
        "chart": charts.bar_chart(
            [
                (label, totals[b])
                for label, b in zip(queries.ageing_labels(), queries.AGEING_BUCKETS, strict=True)
            ],
            title=_("Unpaid invoices by days past due"),
            y_label=code,
            x_label=_("Days past the due date"),
        ),  # fmt: skip
    }
    return _respond(request, "pos/reports/customers.html", context, tables, "customers")


@login_required
@reports_required
def suspicious_activity(request):
    """Voids and refunds soon after the sale, drawer openings, overrides, reprints and cash
    over/short per cashier: read from the journal's hashed entries."""
    form, valid = _period_form(request, PeriodForm)
    if not valid:
        return _invalid(request, "pos/reports/suspicious.html", form)
    shop = ShopSettings.load()
    code, places = shop.currency_code, shop.currency_decimal_places
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    found = suspicious.suspicious_activity(start, end, stores=form.cleaned_data["stores"])
    soon = int(suspicious.SOON.total_seconds() // 60)
    kinds = {"void": _("Void"), "refund": _("Refund")}
    tables = [
        Table("quick-reversals",
              _("Voids and refunds within %(minutes)s minutes of the sale") % {"minutes": soon},
              [Column(_("Receipt")), Column(_("What")), Column(_("Sold by")), Column(_("By")),
               Column(_("Sold"), "datetime"), Column(_("Reversed"), "datetime"),
               Column(_("Minutes after"), INT), _money_col(_("Amount"), code)],
              [[r.number, kinds[r.kind], r.cashier, r.by, r.sold_at, r.at, r.minutes, r.total]
               for r in found.quick_reversals],
              places=places, empty=_("No sale was voided or refunded soon after it was rung.")),
        Table("by-cashier", _("By cashier"),
              [Column(_("Cashier")), Column(_("Drawer opened, no sale"), INT),
               Column(_("Price overrides"), INT), Column(_("Discounts approved"), INT),
               Column(_("Receipts reprinted"), INT), Column(_("Quick voids and refunds"), INT),
               Column(_("Shifts closed"), INT), Column(_("Shifts short"), INT),
               _money_col(_("Cash over/short"), code)],
              [[c.name, c.drawer_openings, c.price_overrides, c.discount_approvals, c.reprints,
                c.quick_reversals, c.shifts_closed, c.shifts_short, c.over_short]
               for c in found.cashiers],
              places=places, empty=_("Nothing to report in this period.")),
        Table("drawer-openings", _("Drawer opened without a sale"),
              [Column(_("When"), "datetime"), Column(_("Who")), Column(_("Reason"))],
              [list(row) for row in found.drawer_openings],
              empty=_("The drawer was not opened without a sale.")),
        Table("over-short", _("Cash over/short, shift by shift"),
              [Column(_("Closed"), "datetime"), Column(_("Cashier")),
               _money_col(_("Cash over/short"), code)],
              [list(row) for row in found.over_short], places=places,
              empty=_("No shift closed in this period.")),
    ]  # fmt: skip
    context = {"form": form, "start": start, "end": end}
    return _respond(request, "pos/reports/suspicious.html", context, tables, "suspicious")
