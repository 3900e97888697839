"""ESC/POS documents for a receipt printer: a sale's receipt (or its copy), a refund slip, a
shift's report, a test page, and the cash drawer's kick.

Each document is built on python-escpos' `Dummy` printer, which collects the bytes (the code
page is selected once, `ESC t n`, and the text encoded in it), then sent in one write. Layout is
plain text in the paper's columns (32 on 58 mm, 48 on 80 mm, font A), with a few commands:
initialise, align, bold, double height, feed and cut. Texts are in the slip's language (the
customer's, else the shop's), as on the browser's receipt.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override
from escpos.constants import QR_ECLEVEL_M, QR_MODEL_2
from escpos.printer import Dummy

from pos.models import Tender
from pos.money import format_money
from pos.receipts import header_lines
from pos.services.shop_logo import printable_logo

ESC, GS = b"\x1b", b"\x1d"
INIT = ESC + b"@"
ALIGN_LEFT, ALIGN_CENTER = ESC + b"a\x00", ESC + b"a\x01"
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
DOUBLE_ON, DOUBLE_OFF = GS + b"!\x11", GS + b"!\x00"  # double width and height
# The drawer's kick-out, ESC p m t1 t2: pin 2 (m 0), a 50 ms pulse (25 x 2 ms), then 500 ms
# off (250 x 2 ms): 1B 70 00 19 FA.
KICK_PULSE = (0x1B, 0x70, 0, 25, 250)
COLUMNS = {"58": 32, "80": 48}
DOTS = {"58": 384, "80": 576}  # printable dots across the paper (203 dpi)
# The QR code's module size in dots: about 37 modules wide for the SDC's content, within the
# 384 (58 mm) or 576 (80 mm) dots of the line.
QR_SIZE = {"58": 5, "80": 6}


class Slip:
    """A document being written in `columns` characters in `code_page`."""

    def __init__(self, *, columns: int, code_page: str, dots: int = 576):
        self.columns = columns
        self.dots = dots
        self.out = Dummy(profile="default")
        # The paper's width in dots, which python-escpos asks of its profile before an image
        # (on this slip's profile only: the profile's data is shared by its class).
        data = self.out.profile.profile_data
        media = {**data["media"], "width": {**data["media"]["width"], "pixels": dots}}
        self.out.profile.profile_data = {**data, "media": media}
        self.out._raw(INIT)  # noqa: SLF001 - raw commands through python-escpos' own writer
        self.out.charcode(code_page)

    def raw(self, command: bytes) -> None:
        self.out._raw(command)  # noqa: SLF001

    def line(self, text: str = "") -> None:
        self.out.text(text[: self.columns] + "\n")

    def wrapped(self, text: str) -> None:
        words, current = text.split(), ""
        for word in words:
            if current and len(current) + 1 + len(word) > self.columns:
                self.line(current)
                current = ""
            current = f"{current} {word}".strip()
        if current or not words:
            self.line(current)

    def pair(self, left: str, right: str) -> None:
        """`left` and `right` on one line, right-aligned; `left` cut short if both do not fit."""
        room = self.columns - len(right) - 1
        self.line(f"{left[:room]:<{room}} {right}")

    def rule(self) -> None:
        self.line("-" * self.columns)

    def centred(self, text: str, *, bold: bool = False, big: bool = False) -> None:
        self.raw(ALIGN_CENTER)
        if bold:
            self.raw(BOLD_ON)
        if big:
            self.raw(DOUBLE_ON)
        self.line(text)
        if big:
            self.raw(DOUBLE_OFF)
        if bold:
            self.raw(BOLD_OFF)
        self.raw(ALIGN_LEFT)

    def image(self, picture) -> None:
        """A black-and-white picture as a raster image (GS v 0), centred."""
        self.raw(ALIGN_CENTER)
        self.out.image(picture, impl="bitImageRaster")
        self.raw(ALIGN_LEFT)

    def kick(self) -> None:
        self.out.cashdraw(KICK_PULSE)

    def qr(self, content: str, *, size: int) -> None:
        """A QR code drawn by the printer itself (GS ( k: model 2, correction M), centred."""
        self.raw(ALIGN_CENTER)
        self.out.qr(content, ec=QR_ECLEVEL_M, size=size, model=QR_MODEL_2, native=True)
        self.line()
        self.raw(ALIGN_LEFT)

    def finish(self) -> bytes:
        self.out.cut()
        return self.out.output


def _money(amount) -> str:
    return format_money(amount, code=False)


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _head(slip: Slip, shop, *, copy: bool, store=None) -> None:
    if shop.logo_updated_at and (logo := printable_logo(slip.dots)) is not None:
        slip.image(logo)
    slip.centred(shop.name, bold=True, big=True)
    for text in header_lines(shop, store):
        slip.centred(text)
    if copy:
        slip.centred(_("COPY"), bold=True, big=True)


def _foot(slip: Slip, shop, *, copy: bool) -> None:
    for text in (shop.receipt_footer or "").splitlines():
        slip.centred(text.strip())
    if copy:
        slip.centred(_("COPY"), bold=True, big=True)


def _slip(printer) -> Slip:
    return Slip(
        columns=COLUMNS[printer.width], code_page=printer.code_page, dots=DOTS[printer.width]
    )


def receipt(
    sale,
    lines,
    payments,
    shop,
    printer,
    *,
    copy: bool,
    kick: bool,
    points=None,
    blocks=(),
    store=None,
) -> bytes:
    """A sale's receipt; "COPY" above and below when it is a reprint; the drawer kicked first
    (it opens while the receipt prints) when `kick`; the customer's `points` (earned, balance:
    pos.services.ledger.receipt_points) when given. `blocks`: what other apps add
    (pos.hooks.ReceiptBlock): a signed sale's label, SDC block and QR code (`_sdc`). The till's
    `store` prints its address, TIN and header where it has them (pos.receipts.header_lines)."""
    slip = _slip(printer)
    if kick:
        slip.kick()
    with override(shop.document_language(sale.customer)):
        _head(slip, shop, copy=copy, store=store)
        _labels(slip, blocks)
        slip.pair(_("Receipt"), sale.number)
        slip.pair(_("Date"), _when(sale.created_at))
        slip.pair(_("Cashier"), sale.cashier.get_full_name() or sale.cashier.get_username())
        if sale.customer_id:
            slip.pair(_("Customer"), sale.customer.name)
        slip.rule()
        for line in lines:
            slip.wrapped(line.product_name)
            slip.pair(f"  {line.sold_as} x {_money(line.unit_price)}", _money(line.total))
            if line.discount:
                slip.pair(f"  {_('discount')}", f"-{_money(line.discount)}")
        slip.rule()
        if sale.discount_total:
            slip.pair(_("Discounts"), f"-{_money(sale.discount_total)}")
        slip.raw(BOLD_ON)
        slip.pair(f"{_('Total')} {shop.currency_code}", _money(sale.total))
        slip.raw(BOLD_OFF)
        if sale.cash_rounding:
            slip.pair(_("Cash rounding"), _money(sale.cash_rounding))
        slip.pair(_vat_label(shop), _money(sale.tax_total))
        for payment in payments:
            label = str(payment.tender_label)
            if payment.reference:
                label = f"{label} ({payment.reference})"
            slip.pair(label, _money(payment.amount))
        if sale.change_given:
            slip.pair(_("Change"), _money(sale.change_given))
        if points is not None:
            slip.pair(_("Points earned"), f"{points.earned:.0f}")
            slip.pair(_("Points balance"), f"{points.balance:.0f}")
        slip.rule()
        _sdc(slip, printer, blocks)
        _foot(slip, shop, copy=copy)
    return slip.finish()


def _labels(slip: Slip, blocks) -> None:
    """The document's fiscal label (NS, CS, NR, CR) under the shop's name."""
    for block in blocks:
        if block.label:
            slip.centred(block.label, bold=True, big=True)


def _sdc(slip: Slip, printer, blocks, *, minus: bool = False) -> None:
    """The SDC block of a signed document as the fiscal app stored it (its receipt block's
    context, pos.hooks): totals per tax rate, the SDC's date, id, counters, internal data and
    signature, the QR code (the printer's own), then the invoice number and the MRC."""
    sign = "-" if minus else ""  # an R receipt: a minus before every amount
    for block in blocks:
        sdc = block.context
        if not sdc.get("qr_content"):
            continue
        for total in sdc.get("tax_totals", ()):
            slip.pair(f"{_('Total')} {total.label}", sign + _money(total.taxable))
            slip.pair(f"{_('Total tax')} {total.label}", sign + _money(total.tax))
        slip.pair(_("Items"), str(sdc.get("item_count", "")))
        if sdc.get("buyer_tin"):
            slip.pair(_("Buyer's TIN"), sdc["buyer_tin"])
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
        slip.rule()


def _vat_label(shop) -> str:
    rate = f"{shop.vat_rate.normalize():f}"
    if shop.prices_include_vat:
        return _("VAT %(rate)s%% included") % {"rate": rate}
    return _("VAT %(rate)s%%") % {"rate": rate}


def refund_slip(
    refund, lines, shop, printer, *, kick: bool, copy: bool = False, blocks=(), store=None
) -> bytes:
    """A refund's slip; "COPY" above and below when it is a reprint; the drawer kicked first
    when `kick`; a signed refund's label, SDC block and QR code (`blocks`, as on a receipt).
    A signed refund is an R receipt: a minus before every amount, its lines', its total and
    the SDC block's tax totals (RRA's rule; the refund is sent positive)."""
    slip = _slip(printer)
    sign = "-" if any(block.context.get("qr_content") for block in blocks) else ""
    if kick:
        slip.kick()
    customer = refund.sale.customer if refund.sale_id else None
    with override(shop.document_language(customer)):
        _head(slip, shop, copy=copy, store=store)
        _labels(slip, blocks)
        slip.centred(_("Refund"), bold=True)
        slip.pair(_("Refund"), refund.number)
        if refund.sale_id:
            slip.pair(_("Receipt"), refund.sale.number)
        slip.pair(_("Date"), _when(refund.created_at))
        slip.wrapped(f"{_('Reason')}: {refund.reason}")
        slip.rule()
        for line in lines:
            slip.wrapped(line.product.name)
            slip.pair(
                f"  {line.quantity.normalize():f} x {sign}{_money(line.unit_price)}",
                sign + _money(line.total),
            )
        slip.rule()
        slip.raw(BOLD_ON)
        slip.pair(f"{_('Refunded')} ({refund.get_tender_display()})", sign + _money(refund.total))
        slip.raw(BOLD_OFF)
        if blocks:
            slip.rule()
        _sdc(slip, printer, blocks, minus=True)
        _foot(slip, shop, copy=copy)
    return slip.finish()


def quote_slip(quote, lines, shop, printer, *, blocks=()) -> bytes:
    """A proforma quote (pos.hooks' fiscal signing: sales type P): "PROFORMA: NOT A RECEIPT",
    its lines (`(line, amount)` pairs) and total at the shelf prices, then its signed block
    (label PS, SDC block, QR code). A copy says "COPY" above and below; it never kicks the
    drawer (no money moves)."""
    slip = _slip(printer)
    copy = any(block.context.get("is_copy") for block in blocks)
    with override(shop.receipt_language):
        _head(slip, shop, copy=copy)
        _labels(slip, blocks)
        slip.centred(_("PROFORMA: NOT A RECEIPT"), bold=True)
        slip.pair(_("Proforma"), quote.number)
        slip.pair(_("Date"), _when(quote.created_at))
        if quote.customer_name:
            slip.pair(_("Customer"), quote.customer_name)
        if quote.buyer_tin:
            slip.pair(_("Buyer's TIN"), quote.buyer_tin)
        slip.rule()
        total = Decimal(0)
        for line, amount in lines:
            total += amount
            slip.wrapped(line.product.name)
            slip.pair(
                f"  {line.quantity.normalize():f} x {_money(line.unit_price)}", _money(amount)
            )
        slip.rule()
        slip.raw(BOLD_ON)
        slip.pair(f"{_('Total')} {shop.currency_code}", _money(total))
        slip.raw(BOLD_OFF)
        slip.rule()
        _sdc(slip, printer, blocks)
        _foot(slip, shop, copy=copy)
    return slip.finish()


def void_slip(sale, lines, shop, printer, *, blocks=()) -> bytes:
    """The R receipt of a voided sale (pos.hooks' fiscal signing: the whole sale back): label
    NR (CR and "COPY" on a reprint), the sale's lines and total with a minus before every
    amount, the void's reason, then its SDC block and QR code. It never kicks the drawer (the
    void paid back when it was made)."""
    slip = _slip(printer)
    copy = any(block.context.get("is_copy") for block in blocks)
    with override(shop.document_language(sale.customer)):
        _head(slip, shop, copy=copy)
        _labels(slip, blocks)
        slip.centred(_("Void"), bold=True)
        slip.pair(_("Receipt"), sale.number)
        if sale.voided_at:
            slip.pair(_("Date"), _when(sale.voided_at))
        slip.wrapped(f"{_('Reason')}: {sale.void_reason}")
        slip.rule()
        for line in lines:
            slip.wrapped(line.product_name)
            slip.pair(f"  {line.sold_as} x -{_money(line.unit_price)}", f"-{_money(line.total)}")
        slip.rule()
        slip.raw(BOLD_ON)
        slip.pair(f"{_('Total')} {shop.currency_code}", f"-{_money(sale.total)}")
        slip.raw(BOLD_OFF)
        slip.pair(_vat_label(shop), f"-{_money(sale.tax_total)}")
        slip.rule()
        _sdc(slip, printer, blocks, minus=True)
        _foot(slip, shop, copy=copy)
    return slip.finish()


def shift_report(shift, report: dict, shop, printer, *, store=None) -> bytes:
    """The Z-report (or the running totals of an open shift) on paper."""
    slip = _slip(printer)
    _head(slip, shop, copy=False, store=store)
    slip.centred(_("Z-report"), bold=True)
    slip.pair(_("Till"), str(shift.register))
    slip.pair(_("Cashier"), shift.cashier.get_username())
    slip.pair(_("Opened"), _when(shift.opened_at))
    if shift.closed_at:
        slip.pair(_("Closed"), _when(shift.closed_at))
    slip.rule()
    sales = report.get("sales", {})
    slip.pair(_("Sales"), str(sales.get("count", 0)))
    slip.pair(_("Net sales"), _money(sales.get("total", 0)))
    slip.pair(_("VAT included"), _money(sales.get("tax", 0)))
    slip.pair(_("Refunds"), _money(report.get("refunds", {}).get("total", 0)))
    slip.pair(_("Voids"), _money(report.get("voids", {}).get("total", 0)))
    slip.rule()
    for tender, row in report.get("by_tender", {}).items():
        slip.pair(Tender.label_of(tender), _money(row["net"]))
    counts = report.get("counts") or {}
    if counts:
        slip.rule()
        slip.line(_("Counted at close"))
        for tender, row in counts.items():
            if row.get("counted") is None:
                continue
            slip.wrapped(Tender.label_of(tender))
            slip.pair(f"  {_('Expected')}", _money(row["expected"]))
            slip.pair(f"  {_('Counted')}", _money(row["counted"]))
            slip.pair(f"  {_('Over/short')}", _money(Decimal(row["over_short"])))
    return slip.finish()


def test_page(printer, shop) -> bytes:
    """What a new printer prints to show it works: its settings, a ruler of its columns and the
    characters of its code page."""
    slip = _slip(printer)
    slip.centred(shop.name, bold=True, big=True)
    slip.centred(_("Test page"), bold=True)
    slip.pair(_("Printer"), printer.name)
    slip.pair(_("Paper"), f"{printer.width} mm, {slip.columns}")
    slip.pair(_("Code page"), printer.code_page)
    slip.line("1234567890" * (slip.columns // 10) + "1234567890"[: slip.columns % 10])
    slip.line("àâçéèêëîïôûù ÀÇÉÈ 12 500 RWF")
    return slip.finish()


def drawer_kick(printer) -> bytes:
    """Only the kick: the drawer opened without printing."""
    slip = _slip(printer)
    slip.kick()
    return slip.out.output
