"""Printing fiscal documents of their own (a proforma quote, a void's R receipt) on the till's
receipt printer, as
ESC/POS through pos's printing code. Like a receipt, nothing is sent while the document is not
signed, and each print counts (the first is the original, later ones copies)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from fiscal import receipts
from fiscal.models import Proforma
from pos.models import ReceiptPrinter, ShopSettings
from pos.printing import escpos_documents
from pos.printing.network import send
from pos.services.printing import ReceiptHeld


def proforma_lines(proforma: Proforma) -> list[tuple]:
    """(line, amount) pairs of a quote, and nothing else to compute: amount = price x qty."""
    return [
        (line, line.unit_price * line.quantity) for line in proforma.lines.select_related("product")
    ]


def proforma_total(lines) -> Decimal:
    return sum((amount for _line, amount in lines), Decimal(0))


def print_proforma(*, proforma: Proforma, printer: ReceiptPrinter) -> bool:
    """Print `proforma` (PS, with its SDC block) on `printer`; True for a copy.

    :raises ReceiptHeld: not signed yet; nothing is sent and no print counted.
    :raises PrinterError: the printer was not reached (the print is counted: the VSDC's block
        was shown for it).
    """
    block = receipts.receipt_block(proforma, width=printer.width)
    if block is None or not block.printable:
        raise ReceiptHeld(
            (block.context.get("message") if block else None)
            or _("The proforma is not signed yet: it prints once the VSDC has signed it.")
        )
    payload = escpos_documents.quote_slip(
        proforma, proforma_lines(proforma), ShopSettings.load(), printer, blocks=[block]
    )
    send(printer, payload)
    return bool(block.context.get("is_copy"))


def print_void(*, sale, printer: ReceiptPrinter) -> bool:
    """Print the R receipt of `sale`'s void (NR, then CR copies) on `printer`; True for a copy.

    :raises ReceiptHeld: the void is not signed yet (or never went to the VSDC).
    :raises PrinterError: the printer was not reached.
    """
    item = receipts.void_item(sale)
    block = receipts.item_block(item, width=printer.width) if item is not None else None
    if block is None or not block.printable:
        raise ReceiptHeld(
            (block.context.get("message") if block else None)
            or _("This void sent nothing to the VSDC: it has no fiscal receipt.")
        )
    payload = escpos_documents.void_slip(
        sale, list(sale.lines.all()), ShopSettings.load(), printer, blocks=[block]
    )
    send(printer, payload)
    return bool(block.context.get("is_copy"))
