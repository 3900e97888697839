"""Draining the fiscal outbox: per device, in FIFO order, one request in flight.

A sender first takes the device's lease (one UPDATE that succeeds for one sender only; it ends
by itself after `LEASE_SECONDS`, so a killed worker's lease passes to the next). Then, for the
oldest pending item:

1. its request body is built once and stored before the first send; every resend sends exactly
   that body (same invoice number), so the VSDC can recognise it (994);
2. the attempt is counted and committed, then the VSDC is called with no transaction open;
3. the answer is written in a short transaction: the signature (once: `Signature` is
   append-only), or the error.

Outcomes: signed (`000`); `994` duplicate: the VSDC's stored data is taken as the signature,
never a second signing; unreachable, slow, 5xx, `894` or `99x`: the item stays pending with a
back-off and the device's queue waits behind it (order matters to RRA); `8xx`/`9xx`: the item
stops ("needs attention"), the queue goes on, and a manager fixes the data and resends it.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from fiscal import device as devices
from fiscal import documents, outbox
from fiscal.client import (
    SAVE_ITEMS,
    SAVE_SALES,
    SAVE_STOCK_ITEMS,
    SAVE_STOCK_MASTER,
    VsdcDuplicate,
    VsdcRejected,
    VsdcUnavailable,
)
from fiscal.models import Device, Item, ItemRegistration, OutboxItem, Signature
from pos.models import (
    MovementKind,
    Payment,
    Product,
    RefundLine,
    SaleLine,
    ShopSettings,
    StockMovement,
)

logger = logging.getLogger("vevurn.fiscal")

LEASE_SECONDS = 120
MAX_BACKOFF_SECONDS = 600
MAX_PER_RUN = 500


@dataclass(frozen=True)
class Line:
    item_code: str
    item_class_code: str
    name: str
    barcode: str
    packaging_unit: str
    quantity_unit: str
    qty: Decimal
    price: Decimal
    discount: Decimal
    tax_type: str


@dataclass(frozen=True)
class FiscalDocument:
    tin: str
    branch_id: str
    invoice_number: int
    original_invoice_number: int
    receipt_type: str
    payment_type: str
    refund_reason_code: str
    customer_tin: str
    customer_name: str
    customer_phone: str
    purchase_code: str
    at: datetime
    user_id: str
    user_name: str
    shop_name: str
    shop_address: str
    top_message: str
    bottom_message: str
    lines: list[Line]
    sales_type: str = "N"  # salesTyCd: N normal, P proforma, T training


def backoff(attempts: int) -> timedelta:
    seconds = settings.FISCAL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


# --- building the body -------------------------------------------------------------------------


def _line(item: Item, *, name, barcode, qty, price, discount) -> Line:
    return Line(
        item.item_code,
        item.item_class_code,
        name,
        barcode or "",
        item.packaging_unit,
        item.quantity_unit,
        qty,
        price,
        discount,
        item.tax_type,
    )


def _sale_lines(sale, items) -> list[Line]:
    lines = []
    for line in SaleLine.objects.filter(sale=sale).select_related("product").order_by("pk"):
        # Sold in a unit (a carton): the quantity is the units and the price each unit's.
        qty = line.unit_quantity if line.unit_quantity is not None else line.quantity
        price = line.unit_price
        lines.append(
            _line(
                items[line.product_id],
                name=line.product_name,
                barcode=line.product.barcode,
                qty=qty,
                price=price,
                discount=line.line_discount + line.order_discount,
            )
        )
    return lines


def _refund_lines(refund, items) -> list[Line]:
    lines = []
    for line in RefundLine.objects.filter(refund=refund).select_related("product").order_by("pk"):
        lines.append(
            _line(
                items[line.product_id],
                name=line.product.name,
                barcode=line.product.barcode,
                qty=line.quantity,
                price=line.unit_price,
                discount=line.unit_price * line.quantity - line.total,
            )
        )
    return lines


def registered_items(products, device: Device) -> dict[int, Item]:
    """Each product's fiscal item, registered with `device` first where that device does not
    have it yet (a document naming an item code its branch does not know is refused): the
    registration goes before the document, by the sender that holds the device's lease.

    :raises VsdcUnavailable: registering needs the VSDC too.
    """
    products = list(products)
    if not devices.knows(SAVE_ITEMS):  # no item route known (OSDC): the codes, made here
        return devices.ensure_items(products)
    items = {i.product_id: i for i in Item.objects.filter(product__in=products)}
    registered = set(
        ItemRegistration.objects.filter(
            device=device, item__product__in=products, registered_at__isnull=False
        ).values_list("item__product_id", flat=True)
    )
    unregistered = [p for p in products if p.pk not in registered]
    if unregistered:
        devices.register_products(unregistered, device)
        items = {i.product_id: i for i in Item.objects.filter(product__in=products)}
    return items


def _original_invoice(sale_id) -> int:
    found = OutboxItem.objects.filter(kind=OutboxItem.Kind.SALE, sale_id=sale_id)
    return found.values_list("invoice_number", flat=True).first() or 0


def _source(item: OutboxItem):
    """(source, its sale, original invoice number, receipt type, user, at, line products,
    payments) of a sale, a refund or a void (the whole sale back, as an R receipt)."""
    if item.kind == OutboxItem.Kind.REFUND:
        refund = item.refund
        return (
            refund,
            refund.sale,
            _original_invoice(refund.sale_id),
            "R",
            refund.created_by,
            refund.created_at,
            RefundLine.objects.filter(refund=refund),
            Payment.objects.filter(refund=refund),
        )
    sale = item.sale
    payments = Payment.objects.filter(sale=sale, is_change=False, amount__gt=0)
    if item.kind == OutboxItem.Kind.VOID:
        original = _original_invoice(sale.pk)
        return sale, sale, original, "R", sale.voided_by, sale.voided_at, sale.lines, payments
    return sale, sale, 0, "S", sale.cashier, sale.created_at, sale.lines, payments


def _proforma_document(item: OutboxItem, device: Device) -> FiscalDocument:
    proforma = item.proforma
    rows = list(proforma.lines.select_related("product"))
    items = registered_items([row.product for row in rows], device)
    lines = [
        _line(
            items[row.product_id],
            name=row.product.name,
            barcode=row.product.barcode,
            qty=row.quantity,
            price=row.unit_price,
            discount=Decimal(0),
        )
        for row in rows
    ]
    return _with_shop(
        device,
        invoice_number=item.invoice_number,
        original_invoice_number=0,
        receipt_type="S",
        payment_type=documents.PAYMENT_TYPES["cash"],
        refund_reason_code="",
        customer_tin=proforma.buyer_tin,
        customer_name=proforma.customer_name,
        customer_phone="",
        purchase_code="",
        at=proforma.created_at,
        user=proforma.created_by,
        lines=lines,
        sales_type="P",
    )


def _training_document(item: OutboxItem, device: Device) -> FiscalDocument:
    """A training sale (S) or refund (R) of a till in training (fiscal.training): salesTyCd T,
    numbered by the training counter; a refund names its sale's training invoice number."""
    receipt = item.training
    rows = list(receipt.lines.select_related("product"))
    items = registered_items([row.product for row in rows], device)
    lines = [
        _line(
            items[row.product_id],
            name=row.product_name,
            barcode=row.product.barcode,
            qty=row.sold_quantity,
            price=row.unit_price,
            discount=row.unit_price * row.sold_quantity - row.total,
        )
        for row in rows
    ]
    original = 0
    if receipt.original_id is not None:
        found = OutboxItem.objects.filter(training_id=receipt.original_id)
        original = found.values_list("invoice_number", flat=True).first() or 0
    tenders = receipt.tenders.all()
    return _with_shop(
        device,
        invoice_number=item.invoice_number,
        original_invoice_number=original,
        receipt_type=receipt.receipt_type,
        payment_type=documents.payment_type((t.tender, abs(t.amount)) for t in tenders),
        refund_reason_code=item.refund_reason_code,
        customer_tin=receipt.buyer_tin,
        customer_name=receipt.customer_name,
        customer_phone="",
        purchase_code="",
        at=receipt.created_at,
        user=receipt.cashier,
        lines=lines,
        sales_type="T",
    )


def _with_shop(device: Device, *, user, **fields) -> FiscalDocument:
    """The document, with its device's TIN and branch id, and the address and receipt header of
    the device's store where it has them (the shop's otherwise, as its printed receipts)."""
    shop = ShopSettings.load()
    store = device.store
    return FiscalDocument(
        tin=device.tin,
        branch_id=store.branch_id,
        user_id=user.get_username()[:20],
        user_name=(user.get_full_name() or user.get_username())[:60],
        shop_name=shop.name[:20],
        shop_address=(store.address or shop.address)[:200],
        top_message=(store.receipt_header or shop.receipt_header or "")[:200],
        bottom_message=(shop.receipt_footer or "")[:200],
        **fields,
    )


def _document(item: OutboxItem, device: Device) -> FiscalDocument:
    if item.kind == OutboxItem.Kind.PROFORMA:
        return _proforma_document(item, device)
    if item.kind == OutboxItem.Kind.TRAINING:
        return _training_document(item, device)
    source, sale, original, receipt_type, user, at, line_rows, payments = _source(item)
    line_products = line_rows.values_list("product", flat=True)
    items = registered_items(Product.objects.filter(pk__in=set(line_products)), device)
    customer = sale.customer if sale is not None else None
    lines = (
        _refund_lines(source, items)
        if item.kind == OutboxItem.Kind.REFUND
        else _sale_lines(sale, items)
    )
    return _with_shop(
        device,
        invoice_number=item.invoice_number,
        original_invoice_number=original,
        receipt_type=receipt_type,
        payment_type=documents.payment_type((p.tender, abs(p.amount)) for p in payments),
        refund_reason_code=item.refund_reason_code,
        customer_tin=buyer_tin(sale, customer),
        customer_name=(customer.name if customer else "")[:60],
        customer_phone=(customer.phone if customer else "") or "",
        purchase_code=(sale.purchase_code if sale is not None else "")[:20],
        at=at,
        user=user,
        lines=lines,
    )


def buyer_tin(sale, customer) -> str:
    """The buyer's TIN: typed at the till for this sale, else the customer's on file."""
    typed = sale.buyer_tin if sale is not None else ""
    return (typed or (customer.tin if customer else "") or "")[:9]


def _stock_body(item: OutboxItem, device: Device) -> dict:
    movements = list(
        StockMovement.objects.filter(pk__in=item.movement_ids).select_related("product")
    )
    items = registered_items({m.product for m in movements}, device)
    item_list = []
    total = Decimal(0)
    for seq, movement in enumerate(movements, start=1):
        fiscal_item = items[movement.product_id]
        qty = abs(movement.quantity)
        supply = documents.cents(qty * movement.unit_cost)
        total += supply
        item_list.append(
            {
                "itemSeq": seq,
                "itemCd": fiscal_item.item_code,
                "itemClsCd": fiscal_item.item_class_code,
                "itemNm": movement.product.name[:200],
                "bcd": movement.product.barcode or None,
                "pkgUnitCd": fiscal_item.packaging_unit,
                "pkg": documents.quantity(qty),
                "qtyUnitCd": fiscal_item.quantity_unit,
                "qty": documents.quantity(qty),
                "prc": documents.amount(movement.unit_cost),
                "splyAmt": documents.amount(supply),
                "totDcAmt": 0,
                "taxTyCd": fiscal_item.tax_type,
                "taxblAmt": documents.amount(supply),
                "taxAmt": 0,
                "totAmt": documents.amount(supply),
            }
        )
    return {
        "tin": device.tin,
        "bhfId": device.branch_id,
        "sarNo": item.pk,
        "orgSarNo": 0,
        "regTyCd": "M",
        "custTin": None,
        "sarTyCd": item.stock_type_code,
        "ocrnDt": timezone.localtime(item.created_at).strftime("%Y%m%d"),
        "totItemCnt": len(item_list),
        "totTaxblAmt": documents.amount(total),
        "totTaxAmt": 0,
        "totAmt": documents.amount(total),
        "regrId": "system",
        "regrNm": "Vevurn POS",
        "modrId": "system",
        "modrNm": "Vevurn POS",
        "itemList": item_list,
    }


def _stock_master_body(item: OutboxItem, device: Device) -> dict:
    """One product's stock level after the movement reported (rsdQty)."""
    movement = StockMovement.objects.select_related("product").get(pk=item.movement_ids[0])
    fiscal_item = registered_items([movement.product], device)[movement.product_id]
    return {
        "tin": device.tin,
        "bhfId": device.branch_id,
        "itemCd": fiscal_item.item_code,
        "rsdQty": documents.quantity(movement.stock_after),
        "regrId": "system",
        "regrNm": "Vevurn POS",
        "modrId": "system",
        "modrNm": "Vevurn POS",
    }


def _item_body(item: OutboxItem, device: Device) -> dict:
    """A product's item as `device` registers it (saveItems), with its branch id."""
    fiscal_item = item.item
    return documents.item_body(
        tin=device.tin, branch_id=device.branch_id, item=fiscal_item, product=fiscal_item.product
    )


PATHS = {
    OutboxItem.Kind.ITEM: SAVE_ITEMS,
    OutboxItem.Kind.SALE: SAVE_SALES,
    OutboxItem.Kind.REFUND: SAVE_SALES,
    OutboxItem.Kind.VOID: SAVE_SALES,
    OutboxItem.Kind.PROFORMA: SAVE_SALES,
    OutboxItem.Kind.TRAINING: SAVE_SALES,
    OutboxItem.Kind.STOCK: SAVE_STOCK_ITEMS,
    OutboxItem.Kind.STOCK_MASTER: SAVE_STOCK_MASTER,
}


def build_payload(item: OutboxItem, device: Device) -> dict:
    if item.kind == OutboxItem.Kind.ITEM:
        return _item_body(item, device)
    if item.kind == OutboxItem.Kind.STOCK:
        return _stock_body(item, device)
    if item.kind == OutboxItem.Kind.STOCK_MASTER:
        return _stock_master_body(item, device)
    return documents.sales_body(_document(item, device))


# What a signed document moved, reported after it (saveStockItems, then saveStockMaster):
# kind -> (the movements' reference type, their kind, RRA's stock type).
STOCK_OF_DOCUMENT = {
    OutboxItem.Kind.SALE: ("pos.sale", MovementKind.SALE, "11"),  # out: sale
    OutboxItem.Kind.VOID: ("pos.sale", MovementKind.REFUND, "03"),  # in: return
    OutboxItem.Kind.REFUND: ("pos.refund", MovementKind.REFUND, "03"),
}


def _queue_stock_of(item: OutboxItem) -> None:
    if not devices.knows(SAVE_STOCK_ITEMS):  # no stock route known (OSDC): nothing to queue
        return
    reference_type, kind, code = STOCK_OF_DOCUMENT[item.kind]
    document_id = item.refund_id if item.kind == OutboxItem.Kind.REFUND else item.sale_id
    movements = list(
        StockMovement.objects.filter(
            reference_type=reference_type, reference_id=str(document_id), kind=kind
        ).order_by("pk")
    )
    if movements:
        outbox.queue_stock(item.device, movements, stock_type_code=code)


# --- the lease -----------------------------------------------------------------------------


def _claim(device_id: int, token: str, now) -> bool:
    free = Q(sending_until__isnull=True) | Q(sending_until__lt=now) | Q(sender=token)
    claimed = Device.objects.filter(free, pk=device_id).update(
        sending_until=now + timedelta(seconds=LEASE_SECONDS), sender=token
    )
    return claimed == 1


def _release(device_id: int, token: str) -> None:
    Device.objects.filter(pk=device_id, sender=token).update(sending_until=None, sender="")


# --- one item ------------------------------------------------------------------------------


def _parse_date(value: str):
    try:
        naive = datetime.strptime(str(value), "%Y%m%d%H%M%S")
    except ValueError:
        return timezone.now()
    return timezone.make_aware(naive)


def _store_signature(item: OutboxItem, data: dict, receipt_type: str) -> None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                Signature.objects.create(
                    item=item,
                    receipt_type=receipt_type,
                    receipt_number=int(data.get("rcptNo") or data.get("curRcptNo") or 0),
                    total_receipt_number=int(data.get("totRcptNo") or 0),
                    internal_data=str(data.get("intrlData") or ""),
                    receipt_signature=str(data.get("rcptSign") or ""),
                    sdc_date=_parse_date(
                        data.get("vsdcRcptPbctDate") or data.get("sdcDateTime") or ""
                    ),
                    sdc_id=str(data.get("sdcId") or ""),
                    mrc=str(data.get("mrcNo") or ""),
                    raw=data,
                )
        except IntegrityError:
            pass  # stored already (a sender that lost its lease wrote it first): once only
        else:
            if item.kind in STOCK_OF_DOCUMENT:
                _queue_stock_of(item)  # once, behind the receipt
        OutboxItem.objects.filter(pk=item.pk).update(
            status=OutboxItem.Status.SIGNED, result_code="000", error="", next_attempt_at=None
        )


def _stop(item: OutboxItem, error) -> None:
    if item.kind == OutboxItem.Kind.ITEM:  # what this branch's device refused, on the item too
        devices.record_registration(item.device, item.item, at=None, error=str(error))
    OutboxItem.objects.filter(pk=item.pk).update(
        status=OutboxItem.Status.NEEDS_ATTENTION,
        result_code=(error.code or "")[:3],
        error=str(error)[:500],
        next_attempt_at=None,
    )


def _retry_later(item: OutboxItem, error, now) -> None:
    OutboxItem.objects.filter(pk=item.pk).update(
        next_attempt_at=now + backoff(item.attempts),
        result_code=(error.code or "")[:3],
        error=str(error)[:500],
    )


def _has_item(device: Device, item: Item, payload: dict) -> bool:
    """Whether `device` already has `item` exactly as `payload` would send it."""
    return ItemRegistration.objects.filter(
        device=device,
        item=item,
        registered_at__isnull=False,
        fingerprint=documents.fingerprint(payload),
    ).exists()


def send_one(item: OutboxItem, device: Device, now) -> str:
    """Send `item` once; returns "signed" (a receipt), "reported" (stock), "stopped" or
    "retry"."""
    item.attempts += 1
    OutboxItem.objects.filter(pk=item.pk).update(
        attempts=item.attempts,
        last_attempt_at=now,
        first_attempt_at=item.first_attempt_at or now,
    )
    if item.kind == OutboxItem.Kind.ITEM:
        # An item's body is read again at each attempt: saveItems is idempotent, and the
        # registration then records the product as it was at `now` (a change after it is
        # registered again by the next run of register_due_items).
        built_at = timezone.now()
        payload = build_payload(item, device)
        OutboxItem.objects.filter(pk=item.pk).update(payload=payload)
        item.payload = payload
        if _has_item(device, item.item, payload):  # registered meanwhile (before a document)
            devices.record_registration(
                device, item.item, at=built_at, fingerprint=documents.fingerprint(payload)
            )
            OutboxItem.objects.filter(pk=item.pk).update(
                status=OutboxItem.Status.SIGNED, result_code="000", error=""
            )
            return "reported"
    if item.payload is None:
        try:
            payload = build_payload(item, device)
        except VsdcUnavailable as error:  # registering its items needs the VSDC too
            _retry_later(item, error, now)
            return "retry"
        OutboxItem.objects.filter(pk=item.pk, payload__isnull=True).update(payload=payload)
        item.refresh_from_db(fields=["payload"])
    try:
        data = devices.client().send(PATHS[item.kind], item.payload, devices.credentials(device))
    except VsdcDuplicate as error:
        if item.kind not in OutboxItem.SIGNED_KINDS or error.data.get("rcptSign"):
            data = error.data
        else:
            _stop(item, error)
            return "stopped"
    except VsdcRejected as error:
        _stop(item, error)
        return "stopped"
    except VsdcUnavailable as error:
        _retry_later(item, error, now)
        return "retry"
    if item.kind not in OutboxItem.SIGNED_KINDS:
        with transaction.atomic():
            if item.kind == OutboxItem.Kind.ITEM:
                devices.record_registration(
                    device, item.item, at=built_at, fingerprint=documents.fingerprint(item.payload)
                )
            OutboxItem.objects.filter(pk=item.pk).update(
                status=OutboxItem.Status.SIGNED, result_code="000", error=""
            )
        return "reported"
    _store_signature(item, data, item.payload.get("rcptTyCd", "S"))
    return "signed"


def drain(device: Device | None = None, *, now=None) -> dict:
    """Send the pending items of `device` (default: of every active device, one after the
    other), oldest first, until one must wait; returns counts."""
    if device is not None:
        return _drain_device(device, now=now)
    outcome = {"signed": 0, "reported": 0, "stopped": 0, "retry": 0}
    for ready in Device.objects.filter(is_active=True, initialised_at__isnull=False).order_by("pk"):
        for key, count in _drain_device(ready, now=now).items():
            outcome[key] += count
    return outcome


def _drain_device(device: Device, *, now=None) -> dict:
    outcome = {"signed": 0, "reported": 0, "stopped": 0, "retry": 0}
    if not device.is_initialised:
        return outcome
    token = uuid.uuid4().hex
    if not _claim(device.pk, token, now or timezone.now()):
        return outcome  # another sender has this device: one request in flight
    try:
        for _ in range(MAX_PER_RUN):
            now_ = now or timezone.now()
            item = (
                OutboxItem.objects.filter(device=device, status=OutboxItem.Status.PENDING)
                .select_related("sale", "refund", "proforma", "training", "item__product")
                .order_by("pk")
                .first()
            )
            if item is None or (item.next_attempt_at and item.next_attempt_at > now_):
                break
            if not _claim(device.pk, token, now_):  # the lease passed on: stop here
                break
            result = send_one(item, device, now_)
            outcome[result] += 1
            if result == "retry":
                break
    finally:
        _release(device.pk, token)
    return outcome


def resend(item: OutboxItem, *, user) -> None:
    """A manager's resend of an item that needed attention (after fixing the data): its body is
    built again from the corrected data, with the same invoice number, and it goes back in the
    queue in its place."""
    OutboxItem.objects.filter(pk=item.pk, status=OutboxItem.Status.NEEDS_ATTENTION).update(
        status=OutboxItem.Status.PENDING,
        payload=None,
        next_attempt_at=None,
        resent_by=user,
    )
