"""What the shop hands to monitoring, registered when the app is ready (pos/apps.py).

monitoring never imports `pos`: it runs the business alert rules, exports the business metrics,
names the shop in alert messages, refuses the demo passwords and runs the shop's deployment
check through what is registered here (monitoring/registry.py, monitoring/deployment/base.py).
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from monitoring import registry
from monitoring.alert_rules import Rule
from monitoring.deployment.base import check, failed, passed, warned
from pos.models import LowStockAlert, Sale, SaleLine, Shift, ShopSettings, StockLevel, TillDevice
from pos.money import format_money
from pos.services.stock import low_stock


def check_low_stock(config: dict) -> dict[str, str]:
    """A store's stock of a product at or below its reorder level, with an alert not yet
    acknowledged; keyed "<product pk>@<store pk>"."""
    alerted = LowStockAlert.objects.filter(
        acknowledged=False, store=OuterRef("store"), product=OuterRef("product")
    )
    levels = low_stock().filter(Exists(alerted)).order_by("product_id", "store_id")
    return {
        f"{level.product_id}@{level.store_id}": f"{level.product.name} ({level.product.sku}): "
        f"{level.product.format_quantity(level.on_hand)} left, "
        f"reorder level {level.product.format_quantity(level.reorder_at)}. Store: {level.store}."
        for level in levels
    }


def check_cash_difference(config: dict) -> dict[str, str]:
    threshold = Decimal(config["threshold"])
    since = timezone.now() - timedelta(hours=config["lookback_hours"])
    shifts = (
        Shift.objects.filter(status=Shift.Status.CLOSED, closed_at__gte=since)
        .filter(Q(over_short__gt=threshold) | Q(over_short__lt=-threshold))
        .select_related("register", "cashier")
        .order_by("pk")
    )
    found = {}
    for shift in shifts:
        direction = "over" if shift.over_short > 0 else "short"
        found[str(shift.pk)] = (
            f"Shift {shift.pk} on {shift.register.name} ({shift.cashier.get_username()}) closed "
            f"{format_money(abs(shift.over_short))} {direction} at "
            f"{timezone.localtime(shift.closed_at):%Y-%m-%d %H:%M}."
        )
    return found


def check_offline_pending(config: dict) -> dict[str, str]:
    """Tills whose device has had sales waiting to sync for longer than the configured time."""
    since = timezone.now() - timedelta(minutes=config["after_minutes"])
    devices = (
        TillDevice.objects.filter(pending_count__gt=0, oldest_pending_at__lte=since)
        .select_related("register")
        .order_by("pk")
    )
    return {
        str(d.pk): f"{d.register.name} (device {d}): {d.pending_count} sale(s) made offline not "
        f"synced since {timezone.localtime(d.oldest_pending_at):%Y-%m-%d %H:%M}."
        for d in devices
    }


def check_offline_oversold(config: dict) -> dict[str, str]:
    """Lines sold offline with less in stock than they took: stock went below zero."""
    since = timezone.now() - timedelta(hours=config["lookback_hours"])
    # The stock now of the store whose till sold it.
    now = StockLevel.objects.filter(
        store=OuterRef("sale__register__store"), product=OuterRef("product")
    ).values("on_hand")
    lines = (
        SaleLine.objects.filter(oversold=True, sale__created_at__gte=since)
        .select_related("sale", "product")
        .annotate(store_stock=Subquery(now[:1]))
        .order_by("pk")
    )
    return {
        str(line.pk): f"{line.product_name} ({line.sku}) sold offline on {line.sale.number} with "
        f"too little in stock: {line.product.format_quantity(line.store_stock or 0)} now. "
        "Count it."
        for line in lines
    }


def alert_rules(config: dict) -> list[Rule]:
    """The shop's alert rules (settings.ALERT_RULES holds their thresholds)."""
    return [
        Rule(
            "low_stock",
            "Low stock",
            lambda: check_low_stock(config["low_stock"]),
            business=True,
        ),
        Rule(
            "cash_difference",
            f"Cash difference beyond {config['cash_difference']['threshold']:,} at a shift close",
            lambda: check_cash_difference(config["cash_difference"]),
            is_event=True,
            business=True,
        ),
        Rule(
            "offline_pending",
            f"Offline sales not synced after {config['offline_pending']['after_minutes']} min",
            lambda: check_offline_pending(config["offline_pending"]),
            business=True,
        ),
        Rule(
            "offline_oversold",
            "Sold offline below zero stock",
            lambda: check_offline_oversold(config["offline_oversold"]),
            is_event=True,
            business=True,
        ),
    ]


def metric_families() -> list:
    """Today's sales and the products to reorder, for the scrape (/api/monitoring/metrics)."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = Sale.objects.filter(status=Sale.Status.COMPLETED, created_at__gte=start).aggregate(
        count=Count("id"), value=Sum("total")
    )
    currency = ShopSettings.load().currency_code
    count = GaugeMetricFamily(
        "vevurn_sales_today", "Completed sales since midnight, shop time (voids excluded)."
    )
    count.add_metric([], today["count"])
    # Money is Decimal everywhere in the app; the exposition format is a float by definition.
    value = GaugeMetricFamily(
        "vevurn_sales_today_value",
        "Value of completed sales since midnight, shop time, in the shop's currency.",
        labels=["currency"],
    )
    value.add_metric([currency], float(today["value"] or 0))
    low = GaugeMetricFamily(
        "vevurn_low_stock_products",
        "Active products at or below their reorder level, counted once per store.",
    )
    low.add_metric([], low_stock().count())
    return [count, value, low]


@check("app.shop_settings", category="application", title="Shop settings filled", severity="medium")
def shop_settings(context):
    shop = ShopSettings.load()
    default_name = ShopSettings._meta.get_field("name").default
    fix = "Fill the shop settings in the admin (Shop settings): name, TIN, currency, VAT."
    if not shop.name.strip() or shop.name == default_name:
        return failed(f"the shop is still called {shop.name!r}: receipts show it", fix)
    code = shop.currency_code or ""
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        return failed(f"currency code {code!r} is not an ISO 4217 code such as RWF", fix)
    if not shop.tin.strip():
        return warned("no TIN: invoices and receipts need the shop's tax number", fix)
    if not 0 < shop.vat_rate <= 100:
        return warned(f"VAT rate {shop.vat_rate}%: no VAT is charged", fix)
    return passed(f"{shop.name}, TIN {shop.tin}, {code}, VAT {shop.vat_rate}%")


@check(
    "app.mobile_money",
    category="application",
    title="Mobile Money requests set up",
    severity="medium",
)
def mobile_money(context):
    """Each provider is off (typed transaction ids only) or fully set up; half a setup fails."""
    from django.conf import settings

    from pos.mobile_money.providers import PROVIDERS

    fix = "Set every variable of the provider in .env (see .env.example), or none of them."
    on = []
    for code, provider in PROVIDERS.items():
        names = provider.required_settings
        missing = [name for name in names if not getattr(settings, name, "")]
        secrets_set = [name for name in names[1:] if getattr(settings, name, "")]
        if secrets_set and missing:
            return failed(f"{code}: {', '.join(missing)} missing", fix)
        if missing:
            continue
        base_url = getattr(settings, names[0])
        if not base_url.startswith("https://"):
            return failed(f"{code}: {names[0]} {base_url!r} is not https", fix)
        on.append(code)
    if "mtn" in on and settings.MOMO_TARGET_ENVIRONMENT == "sandbox":
        return warned(
            "mtn: MOMO_TARGET_ENVIRONMENT is sandbox: no real payment is taken",
            "Set MOMO_TARGET_ENVIRONMENT to your market (mtnrwanda) with live credentials.",
        )
    if not on:
        return passed("requests to pay off: the till takes typed transaction ids")
    return passed(f"requests to pay through {', '.join(on)}")


def register() -> None:
    from pos.management.commands.seed_demo import DEMO_USERS

    registry.register_alert_rules(alert_rules)
    registry.register_metric_families(metric_families)
    registry.register_shop_name(lambda: ShopSettings.load().name)
    registry.register_demo_passwords(user.password for user in DEMO_USERS)
