"""Setting up the fiscal devices: initialise each with RRA, sync the code tables, register items.

Each calls the VSDC with no transaction open, then writes the answer in a short transaction.

A device belongs to a store and signs with its branch id (fiscal.models). Items are registered
with every device, one product per outbox row of that device (kind "item", sent in its FIFO
order, one request in flight: fiscal.sending), queued by `register_due_items`; a document whose
items its device does not have yet registers them first, in the same sender
(fiscal.sending.registered_items).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
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
from fiscal.models import Code, Device, Item, ItemClass, ItemRegistration, OutboxItem, Till
from pos.models import Product, ShopSettings, Store

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
    """The shop's main device: the lowest-numbered active one (proformas made in the back office
    are signed by it; the code tables are synced through it)."""
    return Device.objects.filter(is_active=True).order_by("pk").first()


def ready_devices():
    """The devices that sign: active and initialised, one per store."""
    return Device.objects.filter(is_active=True, initialised_at__isnull=False).order_by("pk")


def device_for_register(register_id: int) -> Device | None:
    """The device that signs a till's documents: the one it is assigned to (`Till`) when that is
    ready and of the till's store, else its store's; None when its store has none ready (its
    documents are then not signed: check_deployment says so). fiscal.outbox takes the same
    choice in one statement."""
    assigned = Till.objects.filter(
        register_id=register_id, device__store__registers=register_id
    ).values_list("device_id", flat=True)
    ready = ready_devices().select_related("store")
    return (
        ready.filter(pk__in=assigned).first() or ready.filter(store__registers=register_id).first()
    )


def credentials(device: Device) -> Credentials:
    return Credentials(device.tin, device.branch_id, secrets.decrypt(device.cmc_key_encrypted))


def _tin(store: Store, tin: str) -> str:
    """The TIN a store's device is initialised with: the one typed, else the store's, else the
    shop's.

    :raises ValueError: none of them is set.
    """
    found = (tin or store.tin or ShopSettings.load().tin or "").strip()
    if not found:
        raise ValueError(_("Neither the store nor the shop has a TIN: set one first."))
    if not (len(found) == 9 and found.isdigit()):  # RRA's TINs: 9 digits
        raise ValueError(_("The TIN %(tin)s is not 9 digits.") % {"tin": found})
    return found


def _make_active(store: Store, tin: str, serial_number: str) -> Device:
    """The store's device with this serial number (created where new), after deactivating the
    one it replaces: in the caller's transaction."""
    Device.objects.filter(is_active=True, store=store).exclude(serial_number=serial_number).update(
        is_active=False
    )
    device, _created = Device.objects.get_or_create(
        store=store, serial_number=serial_number, defaults={"tin": tin}
    )
    return device


def initialise_device(*, store: Store, serial_number: str, tin: str = "") -> Device:
    """Ask RRA (selectInitInfo) for the device's SDC ID, MRC and cmcKey, with the store's branch
    id (bhfId) and TIN (`_tin`), and keep them (the key encrypted); the device becomes the
    store's active one (the one it replaces is deactivated). Initialising again keeps the
    invoice counter from going back.

    :raises VsdcError: the VSDC refused or could not be reached.
    :raises ValueError: no TIN is known for the store.
    """
    tin = _tin(store, tin)
    secrets.encrypt("check")  # refuse before calling RRA if the key to store cmcKey is missing
    answer = client().initialise(tin=tin, branch_id=store.branch_id, serial_number=serial_number)
    info = answer.get("info") or answer
    last_invoice = int(info.get("lastSaleInvcNo") or info.get("lastInvcNo") or 0)
    last_training = int(info.get("lastTrainInvcNo") or 0)
    with transaction.atomic():
        device = _make_active(store, tin, serial_number)
        Device.objects.filter(pk=device.pk).update(
            tin=tin,
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
    logger.info(
        "Fiscal device %s of store %s (branch %s) initialised (MRC %s)",
        device.sdc_id,
        store.code,
        store.branch_id,
        device.mrc,
    )
    return device


def record_device(
    *,
    store: Store,
    serial_number: str,
    sdc_id: str,
    mrc: str,
    cmc_key: str,
    tin: str = "",
    last_invoice_number: int = 0,
) -> Device:
    """Keep the SDC ID, MRC and cmcKey RRA issued for a store's device whose initialisation
    route is not known to the POS (the OSDC profile, docs/fiscal.md): typed from what RRA gave,
    never invented, with the last invoice number RRA holds for it (the counter never goes
    back). The device becomes the store's active one, as `initialise_device` makes it.

    :raises ValueError: a value is missing.
    """
    tin = _tin(store, tin)
    if not all((serial_number, sdc_id, mrc, cmc_key)):
        raise ValueError(_("The TIN, serial number, SDC ID, MRC and cmcKey are all needed."))
    encrypted = secrets.encrypt(cmc_key)
    with transaction.atomic():
        device = _make_active(store, tin, serial_number)
        Device.objects.filter(pk=device.pk).update(
            tin=tin,
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


def products_to_register(device: Device):
    """Products `device` does not have yet, or changed since it had them (name, price, barcode,
    status, or their fiscal codes), and not waiting in its outbox already (pending, or refused
    and waiting for a manager)."""
    up_to_date = ItemRegistration.objects.filter(
        device=device,
        item__product=OuterRef("pk"),
        registered_at__gte=OuterRef("updated_at"),
    ).filter(registered_at__gte=F("item__changed_at"))
    queued = OutboxItem.objects.filter(
        device=device,
        kind=OutboxItem.Kind.ITEM,
        item__product=OuterRef("pk"),
        status__in=[OutboxItem.Status.PENDING, OutboxItem.Status.NEEDS_ATTENTION],
    )
    return Product.objects.exclude(Exists(up_to_date)).exclude(Exists(queued)).order_by("pk")


def _new_item(product: Product, tax_type: str) -> Item:
    """An item code for `product`: the next sequence, taken in this transaction. Item codes are
    the taxpayer's, one per product for every branch: the sequence is kept on the first device
    the shop ever had (whichever device asks), so two branches never make the same code."""
    first = Device.objects.order_by("pk").values_list("pk", flat=True)[:1]
    Device.objects.filter(pk__in=first).update(last_item_sequence=F("last_item_sequence") + 1)
    sequence = Device.objects.values_list("last_item_sequence", flat=True).get(pk__in=first)
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


def ensure_items(products: list[Product], device: Device | None = None) -> dict[int, Item]:
    """Each product's fiscal item (created, with a new item code, where missing); the same
    for every device."""
    items = {i.product_id: i for i in Item.objects.filter(product__in=products)}
    missing = [p for p in products if p.pk not in items]
    if missing:
        tax_type = documents.tax_type_for(ShopSettings.load().vat_rate)
        with transaction.atomic():
            for product in missing:
                items[product.pk] = _new_item(product, tax_type)
    return items


def record_registration(
    device: Device, item: Item, *, at, fingerprint: str = "", error: str = ""
) -> None:
    """What `device` has of `item`: registered at `at` with `fingerprint`, or refused (`error`,
    the registration it had kept)."""
    if error:
        ItemRegistration.objects.update_or_create(
            device=device, item=item, defaults={"error": error[:500]}
        )
        return
    ItemRegistration.objects.update_or_create(
        device=device,
        item=item,
        defaults={"registered_at": at, "fingerprint": fingerprint, "error": ""},
    )
    # A refusal of the same item by this device, waiting for a manager, is settled by it.
    OutboxItem.objects.filter(
        device=device,
        item=item,
        kind=OutboxItem.Kind.ITEM,
        status=OutboxItem.Status.NEEDS_ATTENTION,
    ).update(status=OutboxItem.Status.SIGNED, result_code="000", error="")


def register_products(products: list[Product], device: Device) -> dict:
    """Send each product's item to `device`'s VSDC (saveItems) where it is new there or changed
    since; the caller holds the device's lease (fiscal.sending: one request in flight).

    :raises VsdcUnavailable: the VSDC is not reachable (the rest waits for the next run).
    """
    creds = credentials(device)
    items = ensure_items(products, device)
    registrations = {
        r.item_id: r
        for r in ItemRegistration.objects.filter(device=device, item__in=items.values())
    }
    vsdc = client()
    sent = refused = 0
    for product in products:
        item = items[product.pk]
        body = documents.item_body(
            tin=device.tin, branch_id=device.branch_id, item=item, product=product
        )
        fingerprint = documents.fingerprint(body)
        now = timezone.now()
        known = registrations.get(item.pk)
        if known and known.registered_at and known.fingerprint == fingerprint:
            record_registration(device, item, at=now, fingerprint=fingerprint)
            continue
        try:
            vsdc.send(SAVE_ITEMS, body, creds)
        except VsdcDuplicate:
            pass  # already there with this code
        except VsdcRejected as error:  # kept for a manager to see (the fiscal item's admin)
            record_registration(device, item, at=now, error=str(error))
            refused += 1
            continue
        record_registration(device, item, at=now, fingerprint=fingerprint)
        sent += 1
    return {"registered": sent, "refused": refused}


def register_due_items(device: Device | None = None) -> dict:
    """The job's work: queue each new or changed product for registration with every ready
    device (or `device`), a batch at a time, in each device's own outbox (sent in its FIFO
    order by fiscal.sending). Returns how many were queued."""
    if not knows(SAVE_ITEMS):
        return {"queued": 0}
    queued = 0
    for ready in [device] if device is not None else ready_devices():
        if not ready.is_initialised:
            continue
        products = list(products_to_register(ready)[:ITEM_BATCH])
        if not products:
            continue
        items = ensure_items(products, ready)
        OutboxItem.objects.bulk_create(
            OutboxItem(device=ready, kind=OutboxItem.Kind.ITEM, item=items[p.pk]) for p in products
        )
        queued += len(products)
    return {"queued": queued}
