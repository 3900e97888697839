"""A training receipt (TS/TR, fiscal.training) in ESC/POS for the till's receipt printer, on
80 or 58 mm paper: "TRAINING: NOT AN OFFICIAL RECEIPT" above and below, its label, lines,
totals and tenders, then the SDC block the VSDC signed (the printer draws the QR code). Written
with pos.printing's `Slip`, in the shop's language; the drawer is never kicked (no money moves).
"""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from fiscal import training
from pos.money import format_money
from pos.printing.escpos_documents import BOLD_OFF, BOLD_ON, COLUMNS, DOTS, QR_SIZE, Slip
from pos.receipts import header_lines


def _money(amount, *, minus: bool = False) -> str:
    text = format_money(amount, code=False)
    return f"-{text}" if minus and amount else text


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _fitted(text: str, columns: int) -> list[str]:
    """`text` in lines of at most `columns`, broken between words."""
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > columns:
            lines.append(current)
            current = ""
        current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def _notice(slip: Slip) -> None:
    slip.rule()
    slip.centred(_("TRAINING"), bold=True, big=True)
    for text in _fitted(str(training.TRAINING_NOTICE), slip.columns):
        slip.centred(text, bold=True)
    slip.rule()


def training_receipt_bytes(receipt, shop, printer, blocks=()) -> bytes:
    """The receipt's bytes; `blocks`: its fiscal block (pos.hooks.ReceiptBlock), if signed."""
    slip = Slip(
        columns=COLUMNS[printer.width], code_page=printer.code_page, dots=DOTS[printer.width]
    )
    refund = receipt.is_refund
    with override(shop.document_language()):
        slip.centred(shop.name, bold=True, big=True)
        for text in header_lines(shop):
            slip.centred(text)
        _notice(slip)
        label = next((b.label for b in blocks if b.label), training.receipt_label(receipt))
        slip.centred(label, bold=True, big=True)
        slip.pair(_("Receipt"), receipt.number)
        if receipt.original_id:
            slip.pair(_("Refund of"), receipt.original.number)
        slip.pair(_("Date"), _when(receipt.created_at))
        slip.pair(_("Cashier"), receipt.cashier.get_full_name() or receipt.cashier.get_username())
        slip.pair(_("Till"), receipt.register.name)
        slip.rule()
        for line in receipt.lines.all():
            slip.wrapped(line.product_name)
            count = f"{line.sold_quantity.normalize():f}"
            slip.pair(f"  {count} x {_money(line.unit_price)}", _money(line.total, minus=refund))
        slip.rule()
        if receipt.discount_total:
            slip.pair(_("Discounts"), f"-{_money(receipt.discount_total)}")
        slip.raw(BOLD_ON)
        slip.pair(f"{_('Total')} {shop.currency_code}", _money(receipt.total, minus=refund))
        slip.raw(BOLD_OFF)
        slip.pair(_("VAT"), _money(receipt.tax_total, minus=refund))
        for tender in receipt.tenders.all():
            name = _("Change") if tender.amount < 0 and not refund else tender.tender_label
            slip.pair(name, _money(abs(tender.amount), minus=refund))
        slip.rule()
        _sdc(slip, printer, blocks, refund=refund)
        _notice(slip)
    return slip.finish()


def _sdc(slip: Slip, printer, blocks, *, refund: bool) -> None:
    for block in blocks:
        sdc = block.context
        if not sdc.get("qr_content"):
            continue
        for total in sdc.get("tax_totals", ()):
            slip.pair(f"{_('Total')} {total.label}", _money(total.taxable, minus=refund))
            slip.pair(f"{_('Total tax')} {total.label}", _money(total.tax, minus=refund))
        slip.pair(_("Items"), str(sdc.get("item_count", "")))
        slip.rule()
        slip.centred(_("SDC information"), bold=True)
        slip.pair(_("Date"), _when(sdc["sdc_date"]))
        slip.pair(_("SDC ID"), sdc["sdc_id"])
        slip.pair(_("Receipt number"), sdc["counters"])
        slip.line(_("Internal data:"))
        slip.centred(sdc["internal_data"])
        slip.line(_("Receipt signature:"))
        slip.centred(sdc["receipt_signature"])
        slip.qr(sdc["qr_content"], size=QR_SIZE[printer.width])
        slip.pair(_("Invoice number"), str(sdc["invoice_number"]))
        slip.pair(_("MRC"), sdc["mrc"])
        slip.pair("CIS", f"Vevurn POS {sdc['software_version']}")
