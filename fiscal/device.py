"""Setting up the fiscal device: initialise it with RRA, sync the code tables, register items.

Each calls the VSDC with no transaction open, then writes the answer in a short transaction.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fiscal import documents, secrets
from fiscal.client import (
    CODES,
    ITEM_CLASSES,
    SAVE_ITEMS,
    Credentials,
    VsdcClient,
    VsdcDuplicate,
    VsdcRejected,
    route_known,
)
from fiscal.models import Code, Device, Item, ItemClass
from pos.models import Product, ShopSettings

logger = logging.getLogger("vevurn.fiscal")

ITEM_BATCH = 200


class DeviceNotReady(Exception):
    pass


def client() -> VsdcClient:
    return VsdcClient(
        settings.FISCAL_VSDC_URL,
        timeout=settings.FISCAL_TIMEOUT_SECONDS,
        profile=settings.FISCAL_PROFILE,
    )


def knows(endpoint: str) -> bool:
    """Whether the configured profile knows `endpoint`'s route (the OSDC's are partly unknown:
    what it does not know is not sent, never guessed)."""
    return route_known(endpoint, settings.FISCAL_PROFILE)


def active_device() -> Device | None:
    """The shop's main device: the lowest-numbered active one (tills without their own device,
    stock movements and item registration go through it)."""
    return Device.objects.filter(is_active=True).order_by("pk").first()


def credentials(device: Device) -> Credentials:
    return Credentials(device.tin, device.branch_id, secrets.decrypt(device.cmc_key_encrypted))


def initialise_device(*, tin: str, branch_id: str, serial_number: str) -> Device:
    """Ask RRA (selectInitInfo) for the device's SDC ID, MRC and cmcKey and keep them (the key
    encrypted); the device becomes the branch's active one (a device it replaces, on the same TIN
    and branch id, is deactivated). Initialising again keeps the invoice counter from going
    back.

    :raises VsdcError: the VSDC refused or could not be reached.
    """
    secrets.encrypt("check")  # refuse before calling RRA if the key to store cmcKey is missing
    answer = client().initialise(tin=tin, branch_id=branch_id, serial_number=serial_number)
    info = answer.get("info") or answer
    last_invoice = int(info.get("lastSaleInvcNo") or info.get("lastInvcNo") or 0)
    last_training = int(info.get("lastTrainInvcNo") or 0)
    with transaction.atomic():
        Device.objects.filter(is_active=True, tin=tin, branch_id=branch_id).exclude(
            serial_number=serial_number
        ).update(is_active=False)
        device, _created = Device.objects.get_or_create(
            tin=tin, branch_id=branch_id, serial_number=serial_number
        )
        Device.objects.filter(pk=device.pk).update(
            device_id=str(info.get("dvcId") or ""),
            sdc_id=str(info.get("sdcId") or ""),
            mrc=str(info.get("mrcNo") or ""),
            cmc_key_encrypted=secrets.encrypt(str(info.get("cmcKey") or "")),
            is_active=True,
            initialised_at=timezone.now(),
            last_invoice_number=max(device.last_invoice_number, last_invoice),
            last_training_number=max(device.last_training_number, last_training),
        )
    device.refresh_from_db()
    logger.info("Fiscal device %s initialised (MRC %s)", device.sdc_id, device.mrc)
    return device


def record_device(
    *,
    tin: str,
    branch_id: str,
    serial_number: str,
    sdc_id: str,
    mrc: str,
    cmc_key: str,
    last_invoice_number: int = 0,
) -> Device:
    """Keep the SDC ID, MRC and cmcKey RRA issued for a device whose initialisation route is
    not known to the POS (the OSDC profile, docs/fiscal.md): typed from what RRA gave, never
    invented, with the last invoice number RRA holds for it (the counter never goes back). The
    device becomes the branch's active one, as `initialise_device` makes it.

    :raises ValueError: a value is missing.
    """
    if not all((tin, serial_number, sdc_id, mrc, cmc_key)):
        raise ValueError(_("The TIN, serial number, SDC ID, MRC and cmcKey are all needed."))
    encrypted = secrets.encrypt(cmc_key)
    with transaction.atomic():
        Device.objects.filter(is_active=True, tin=tin, branch_id=branch_id).exclude(
            serial_number=serial_number
        ).update(is_active=False)
        device, _created = Device.objects.get_or_create(
            tin=tin, branch_id=branch_id, serial_number=serial_number
        )
        Device.objects.filter(pk=device.pk).update(
            sdc_id=sdc_id,
            mrc=mrc,
            cmc_key_encrypted=encrypted,
            is_active=True,
            initialised_at=timezone.now(),
            last_invoice_number=max(device.last_invoice_number, last_invoice_number),
        )
    device.refresh_from_db()
    logger.info("Fiscal device %s recorded (MRC %s)", device.sdc_id, device.mrc)
    return device


def sync_codes(device: Device | None = None) -> int:
    """Fetch RRA's code tables and item classes; returns how many codes are kept."""
    device = device or _ready_device()
    creds = credentials(device)
    vsdc = client()
    tables = vsdc.select(CODES, creds).get("clsList") or []
    classes = vsdc.select(ITEM_CLASSES, creds).get("itemClsList") or []
    count = 0
    with transaction.atomic():
        for table in tables:
            for entry in table.get("dtlList") or []:
                Code.objects.update_or_create(
                    class_code=str(table.get("cdCls")),
                    code=str(entry.get("cd")),
                    defaults={
                        "class_name": str(table.get("cdClsNm") or "")[:200],
                        "name": str(entry.get("cdNm") or "")[:200],
                        "description": str(entry.get("cdDesc") or "")[:500],
                        "value": str(entry.get("userDfnCd1") or "")[:100],
                        "is_used": entry.get("useYn", "Y") != "N",
                    },
                )
                count += 1
        for entry in classes:
            ItemClass.objects.update_or_create(
                code=str(entry.get("itemClsCd")),
                defaults={
                    "name": str(entry.get("itemClsNm") or "")[:200],
                    "level": int(entry.get("itemClsLvl") or 1),
                    "tax_type": str(entry.get("taxTyCd") or "")[:5],
                },
            )
        Device.objects.filter(pk=device.pk).update(codes_synced_at=timezone.now())
    return count


def _ready_device() -> Device:
    device = active_device()
    if device is None or not device.is_initialised:
        raise DeviceNotReady(_("The fiscal device is not initialised."))
    return device


def products_to_register():
    """Products never registered, or changed since they were (name, price, barcode, status)."""
    return Product.objects.filter(
        Q(fiscal_item__isnull=True)
        | Q(fiscal_item__registered_at__isnull=True)
        | Q(updated_at__gt=F("fiscal_item__registered_at"))
    ).order_by("pk")


def _new_item(device: Device, product: Product, tax_type: str) -> Item:
    """An item code for `product`: the device's next sequence, taken in this transaction."""
    Device.objects.filter(pk=device.pk).update(last_item_sequence=F("last_item_sequence") + 1)
    sequence = Device.objects.values_list("last_item_sequence", flat=True).get(pk=device.pk)
    unit = documents.QUANTITY_UNITS.get(product.unit, "U")
    defaults = {
        f.name: f.default
        for f in Item._meta.fields
        if f.name in ("origin_country", "item_type", "packaging_unit")
    }
    code = documents.item_code(
        country=defaults["origin_country"],
        item_type=defaults["item_type"],
        packaging=defaults["packaging_unit"],
        unit=unit,
        sequence=sequence,
    )
    item = Item.objects.create(
        product=product,
        item_code=code,
        item_class_code=_default_class(tax_type),
        tax_type=tax_type,
        quantity_unit=unit,
    )
    return item


def _default_class(tax_type: str) -> str:
    found = (
        ItemClass.objects.filter(tax_type=tax_type).order_by("code").values_list("code", flat=True)
    )
    return found.first() or settings.FISCAL_DEFAULT_ITEM_CLASS


def ensure_items(products: list[Product], device: Device) -> dict[int, Item]:
    """Each product's fiscal item (created, with a new item code, where missing)."""
    items = {i.product_id: i for i in Item.objects.filter(product__in=products)}
    missing = [p for p in products if p.pk not in items]
    if missing:
        tax_type = documents.tax_type_for(ShopSettings.load().vat_rate)
        with transaction.atomic():
            for product in missing:
                items[product.pk] = _new_item(device, product, tax_type)
    return items


def register_products(products: list[Product], device: Device | None = None) -> dict:
    """Send each product's item to the VSDC (saveItems) when it is new or changed since.

    :raises VsdcUnavailable: the VSDC is not reachable (the rest waits for the next run).
    """
    device = device or _ready_device()
    creds = credentials(device)
    items = ensure_items(products, device)
    vsdc = client()
    sent = refused = 0
    for product in products:
        item = items[product.pk]
        body = documents.item_body(
            tin=device.tin, branch_id=device.branch_id, item=item, product=product
        )
        fingerprint = documents.fingerprint(body)
        if fingerprint == item.registered_fingerprint and item.registered_at:
            Item.objects.filter(pk=item.pk).update(registered_at=timezone.now())
            continue
        try:
            vsdc.send(SAVE_ITEMS, body, creds)
        except VsdcDuplicate:
            pass  # already there with this code
        except VsdcRejected as error:  # kept for a manager to see (the fiscal item's admin)
            Item.objects.filter(pk=item.pk).update(error=str(error)[:500])
            refused += 1
            continue
        Item.objects.filter(pk=item.pk).update(
            registered_at=timezone.now(), registered_fingerprint=fingerprint, error=""
        )
        sent += 1
    return {"registered": sent, "refused": refused}


def register_due_items() -> dict:
    """The job's work: register new and changed products, a batch at a time."""
    device = active_device()
    if device is None or not device.is_initialised or not knows(SAVE_ITEMS):
        return {"registered": 0, "refused": 0}
    products = list(products_to_register()[:ITEM_BATCH])
    return register_products(products, device) if products else {"registered": 0, "refused": 0}
