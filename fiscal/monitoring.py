"""What fiscal hands to monitoring (registered in fiscal/apps.py): the unsigned-documents alert
rule and the deployment checks (check_deployment)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from fiscal import secrets
from fiscal.models import Device, OutboxItem, Till
from monitoring import registry
from monitoring.alert_rules import Rule
from monitoring.deployment.base import check, failed, passed, warned
from pos.models import ShopSettings, Store


def unsigned(*, older_than_minutes: int = 0):
    """Sales and refunds not signed (pending, or refused and waiting for a manager)."""
    queryset = OutboxItem.objects.exclude(status=OutboxItem.Status.SIGNED).filter(
        kind__in=OutboxItem.RECEIPT_KINDS
    )
    if older_than_minutes:
        queryset = queryset.filter(
            created_at__lt=timezone.now() - timedelta(minutes=older_than_minutes)
        )
    return queryset


def check_unsigned(config: dict) -> dict[str, str]:
    """One key per day that has documents unsigned for longer than the configured minutes (or
    refused by the VSDC): fires once for the day, and ends when they are signed."""
    found: dict[str, list] = {}
    waiting = unsigned(older_than_minutes=config["minutes"])
    refused = unsigned().filter(status=OutboxItem.Status.NEEDS_ATTENTION)
    for item in (waiting | refused).order_by("pk").select_related("sale", "refund"):
        day = timezone.localdate(item.created_at).isoformat()
        found.setdefault(day, []).append(item)
    return {
        day: (
            f"{len(items)} fiscal document(s) of {day} not signed by the VSDC "
            f"({sum(1 for i in items if i.status == OutboxItem.Status.NEEDS_ATTENTION)} refused): "
            + ", ".join(_name(i) for i in items[:5])
        )
        for day, items in found.items()
    }


def _name(item: OutboxItem) -> str:
    document = item.sale or item.refund
    suffix = f" ({item.result_code})" if item.result_code else ""
    return f"{document.number if document else item.pk}{suffix}"


def alert_rules(config: dict) -> list[Rule]:
    if settings.FISCAL_BACKEND == "none":
        return [Rule("fiscal_unsigned", "Unsigned fiscal receipts", dict, business=True)]
    minutes = config["fiscal_unsigned"]["minutes"]
    return [
        Rule(
            "fiscal_unsigned",
            f"Sales not signed by the VSDC after {minutes} min",
            lambda: check_unsigned(config["fiscal_unsigned"]),
            business=True,
        )
    ]


@check("app.fiscal", category="application", title="Fiscal receipts (RRA EBM)", severity="high")
def fiscal_device(context):
    shop = ShopSettings.load()
    if settings.FISCAL_BACKEND == "none":
        if shop.tin.strip() and shop.vat_rate > 0:
            return warned(
                "the shop is VAT-registered (TIN and VAT set) but FISCAL_BACKEND=none: "
                "no receipt is signed by RRA's EBM",
                "Set FISCAL_BACKEND=rra-vsdc, FISCAL_VSDC_URL and FISCAL_SECRET_KEY, then run "
                "manage.py fiscal_init (docs/fiscal.md).",
            )
        return passed("no fiscal backend (the shop is not VAT-registered)")
    fix = "Run manage.py fiscal_init --tin ... --serial ... (docs/fiscal.md)."
    try:
        secrets.encrypt("check")
    except secrets.SecretKeyMissing as error:
        return failed(str(error), "Set FISCAL_SECRET_KEY to a Fernet key (docs/fiscal.md).")
    if not settings.FISCAL_VSDC_URL:
        return failed("FISCAL_BACKEND is set but FISCAL_VSDC_URL is empty", fix)
    device = Device.objects.filter(is_active=True).order_by("pk").first()
    if device is None or not device.is_initialised:
        return failed("FISCAL_BACKEND is set but the fiscal device was never initialised", fix)
    ready = Device.objects.filter(is_active=True, initialised_at__isnull=False)
    unsigned = sorted(
        Store.objects.filter(is_active=True, registers__is_active=True)
        .exclude(fiscal_devices__in=ready)
        .values_list("name", flat=True)
        .distinct()
    )
    if unsigned:
        return failed(
            f"store(s) {', '.join(unsigned)} have tills but no initialised fiscal device: "
            "their sales are not signed",
            "Initialise a device for each store: manage.py fiscal_init --store CODE --serial ... "
            "(docs/fiscal.md, Several branches).",
        )
    stranded = sorted(
        Till.objects.exclude(
            device__is_active=True, device__initialised_at__isnull=False
        ).values_list("register__name", flat=True)
    )
    if stranded:
        return warned(
            f"till(s) {', '.join(stranded)} assigned to a fiscal device that is inactive or "
            "not initialised: their sales go to their store's device",
            "Assign them to an active device (admin: Fiscal devices) or remove the assignment.",
        )
    count = ready.count()
    return passed(
        f"device {device.sdc_id}, MRC {device.mrc}, invoice {device.last_invoice_number}"
        + (f"; {count} branch devices" if count > 1 else "")
    )


def register() -> None:
    registry.register_alert_rules(alert_rules)
