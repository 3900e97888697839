"""The fiscal part of a printed receipt (registered with pos.hooks.receipt_blocks).

Per RRA's layout: the label (NS normal sale, NR normal refund, CS/CR their copies, PS a
proforma, TS/TR a training sale and refund), totals per
tax rate, the item count, then the SDC block in order: SDC date and time, SDC ID, `A/B` and the
label (A = this receipt type's counter, B = the total counter), internal data and receipt
signature in groups of 4 separated by dashes, the QR code, the receipt (invoice) number, date,
MRC, and the CIS's software version.

An unsigned document gives a block that is not printable: the till shows "fiscal pending" (or
what the VSDC refused) and offers the print once it is signed. Each printable block counts one
print: the first after signing is the original, every later one a copy, printed from the stored
signature; the VSDC is never called for a copy.
"""

from dataclasses import dataclass
from decimal import Decimal

import segno
from django.conf import settings
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from fiscal.models import OutboxItem, Proforma, Signature, TrainingReceipt

ORIGINAL = {"S": "NS", "R": "NR"}
COPY = {"S": "CS", "R": "CR"}
PROFORMA = "PS"
TRAINING = {"S": "TS", "R": "TR"}  # a copy of one says COPY beside its label
TEMPLATE = "fiscal/receipt_block.html"


@dataclass(frozen=True)
class TaxTotal:
    label: str  # A-EX, B-18%
    taxable: Decimal
    tax: Decimal


def grouped(text: str, size: int = 4) -> str:
    """ABCDEFGH -> ABCD-EFGH"""
    return "-".join(text[i : i + size] for i in range(0, len(text), size))


def qr_content(signature: Signature) -> str:
    """ddmmyyyy#hhmmss#sdcId#sdcReceiptNumber#internalData#receiptSignature"""
    at = timezone.localtime(signature.sdc_date)
    return "#".join(
        [
            at.strftime("%d%m%Y"),
            at.strftime("%H%M%S"),
            signature.sdc_id,
            f"{signature.receipt_number}/{signature.total_receipt_number}",
            signature.internal_data,
            signature.receipt_signature,
        ]
    )


def qr_svg(content: str, *, width: str = "80") -> str:
    qr = segno.make(content, error="m", micro=False)
    return mark_safe(qr.svg_inline(scale=2 if width == "58" else 3, border=2))  # noqa: S308 - segno's SVG


def tax_totals(payload: dict) -> list[TaxTotal]:
    """A-EX and B-18% always, C and D when used."""
    totals = []
    for code in ("A", "B", "C", "D"):
        taxable = Decimal(str(payload.get(f"taxblAmt{code}") or 0))
        tax = Decimal(str(payload.get(f"taxAmt{code}") or 0))
        rate = Decimal(str(payload.get(f"taxRt{code}") or 0))
        if code in ("A", "B") or taxable:
            label = f"{code}-EX" if code == "A" else f"{code}-{rate.normalize():f}%"
            totals.append(TaxTotal(label, taxable, tax))
    return totals


def _item_for(document) -> OutboxItem | None:
    from pos.models import Refund, Sale

    if isinstance(document, Sale):
        found = OutboxItem.objects.filter(kind=OutboxItem.Kind.SALE, sale=document)
    elif isinstance(document, Refund):
        found = OutboxItem.objects.filter(kind=OutboxItem.Kind.REFUND, refund=document)
    elif isinstance(document, Proforma):
        found = OutboxItem.objects.filter(kind=OutboxItem.Kind.PROFORMA, proforma=document)
    elif isinstance(document, TrainingReceipt):
        found = OutboxItem.objects.filter(kind=OutboxItem.Kind.TRAINING, training=document)
    else:
        return None
    return found.select_related("signature", "device").first()


def signature_of(item: OutboxItem) -> Signature | None:
    try:
        return item.signature
    except Signature.DoesNotExist:
        return None


def count_print(item: OutboxItem) -> int:
    """Count one print of a signed document; returns the prints before it (0: the original)."""
    OutboxItem.objects.filter(pk=item.pk).update(prints=F("prints") + 1)
    return OutboxItem.objects.values_list("prints", flat=True).get(pk=item.pk) - 1


def block_context(item: OutboxItem, signature: Signature, *, copy: bool, width: str) -> dict:
    payload = item.payload or {}
    kind = signature.receipt_type
    if item.kind == OutboxItem.Kind.PROFORMA:
        label = PROFORMA  # a copy of it says COPY beside the label
    elif item.kind == OutboxItem.Kind.TRAINING:
        label = TRAINING[kind]
    else:
        label = COPY[kind] if copy else ORIGINAL[kind]
    content = qr_content(signature)
    return {
        "label": label,
        "is_copy": copy,
        "is_training": item.kind == OutboxItem.Kind.TRAINING,
        "is_refund": kind == "R",
        "tax_totals": tax_totals(payload),
        "total": Decimal(str(payload.get("totAmt") or 0)),
        "total_tax": Decimal(str(payload.get("totTaxAmt") or 0)),
        "item_count": payload.get("totItemCnt") or 0,
        "sdc_date": timezone.localtime(signature.sdc_date),
        "sdc_id": signature.sdc_id,
        "counters": f"{signature.receipt_number}/{signature.total_receipt_number} {label}",
        "internal_data": grouped(signature.internal_data),
        "receipt_signature": grouped(signature.receipt_signature),
        "qr": qr_svg(content, width=width),
        "qr_content": content,
        "invoice_number": item.invoice_number,
        "mrc": signature.mrc,
        "software_version": settings.APP_VERSION,
        "original_invoice_number": payload.get("orgInvcNo") or 0,
        "refund_reason_code": payload.get("rfdRsnCd") or "",
        "buyer_tin": payload.get("custTin") or "",
        "purchase_code": payload.get("prcOrdCd") or "",
    }


def receipt_block(document, *, width: str = "80", count: bool = True):
    """The block for one print of `document` (a sale, a refund or a proforma); None when it has
    no fiscal record (FISCAL_BACKEND=none, or a document from before the device). `count=False`
    shows the last print again without counting one (the page after a print on the till's
    printer)."""
    if settings.FISCAL_BACKEND == "none":
        return None
    item = _item_for(document)
    if item is None:
        return None
    return item_block(item, width=width, count=count)


def void_item(sale) -> OutboxItem | None:
    """The R receipt a void of `sale` sent to the VSDC, if it went there."""
    found = OutboxItem.objects.filter(kind=OutboxItem.Kind.VOID, sale=sale)
    return found.select_related("signature", "device").first()


def item_block(item: OutboxItem, *, width: str = "80", count: bool = True):
    """The block for one print of `item`'s document (see `receipt_block`): not printable until
    it is signed; then the original (NS, NR, PS) the first time, a copy (CS, CR) after."""
    from pos.hooks import ReceiptBlock

    signature = signature_of(item)
    if signature is None:
        attention = item.status == OutboxItem.Status.NEEDS_ATTENTION
        return ReceiptBlock(
            TEMPLATE,
            {
                "pending": True,
                "attention": attention,
                "error": item.error,
                "message": _("Refused by the VSDC: a manager must fix and resend it.")
                if attention
                else _("Fiscal pending: the receipt prints once the VSDC has signed it."),
                "send_later_url": reverse("fiscal:send_later", args=[item.sale_id])
                if item.kind == OutboxItem.Kind.SALE
                else "",
            },
            printable=False,
        )
    copies_before = count_print(item) if count else max(item.prints - 1, 0)
    context = block_context(item, signature, copy=copies_before > 0, width=width)
    return ReceiptBlock(TEMPLATE, context, printable=True, label=context["label"])


def document_actions(document, user) -> list[tuple[str, str]]:
    """A voided sale's page links to its void's R receipt (pos.hooks.document_actions); no
    query for a sale that is not voided."""
    from pos.models import Sale

    if (
        settings.FISCAL_BACKEND == "none"
        or not isinstance(document, Sale)
        or document.status != Sale.Status.VOIDED
        or not OutboxItem.objects.filter(kind=OutboxItem.Kind.VOID, sale=document).exists()
    ):
        return []
    return [(_("Void receipt (NR)"), reverse("fiscal:void_receipt", args=[document.pk]))]


# --- the shift's X/Z report: what the VSDC signed, and what it has not yet -------------------

SECTION = "fiscal/z_report_section.html"


def z_report_section(report: str, *, shift=None, **subject):
    """The fiscal part of a shift's X (open) or Z (closed) report: receipts signed per label,
    signed totals per tax rate, and every sale or refund of the shift not signed yet."""
    from pos.hooks import ReceiptBlock

    if report != "z_report" or shift is None or settings.FISCAL_BACKEND == "none":
        return None
    items = list(
        OutboxItem.objects.filter(Q(sale__shift=shift) | Q(refund__shift=shift))
        .select_related("sale", "refund", "signature")
        .order_by("pk")
    )
    signed = [(i, signature_of(i)) for i in items]
    counts = {"NS": 0, "NR": 0}
    by_tax: dict[str, list[Decimal]] = {}
    for item, signature in signed:
        if signature is None:
            continue
        counts[ORIGINAL[signature.receipt_type]] += 1
        sign = -1 if signature.receipt_type == "R" else 1
        for total in tax_totals(item.payload or {}):
            sums = by_tax.setdefault(total.label, [Decimal(0), Decimal(0)])
            sums[0] += sign * total.taxable
            sums[1] += sign * total.tax
    unsigned = [
        {
            "number": (item.sale or item.refund).number,
            "invoice_number": item.invoice_number,
            "attention": item.status == OutboxItem.Status.NEEDS_ATTENTION,
            "error": item.error,
        }
        for item, signature in signed
        if signature is None
    ]
    return ReceiptBlock(
        SECTION,
        {
            "counts": counts,
            "by_tax": [(label, sums[0], sums[1]) for label, sums in sorted(by_tax.items())],
            "unsigned": unsigned,
        },
    )
