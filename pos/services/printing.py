"""Printing on the till's receipt printer: receipts and their copies, refund slips, shift
reports, a test page, and the cash drawer's kick.

A till prints on a network printer when one is assigned to it (`Register.receipt_printer`, in
use); otherwise the browser prints, as it always did. A print that fails raises `PrinterError`
with a message per cause (refused, timeout, unreachable) and the screen offers the browser's
print instead. Nothing here holds a lock or a transaction while talking to the printer: the
bytes are sent first and the print is recorded after (a receipt's print count and its reprint
journal entry), so a printer that hangs for its timeout never holds up the till's sales.
"""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from pos import hooks
from pos.models import (
    Payment,
    ReceiptPrinter,
    Refund,
    Register,
    Sale,
    Shift,
    ShopSettings,
    Store,
    Tender,
)
from pos.printing import escpos_documents
from pos.printing.network import PrinterError, send
from pos.services import ledger
from pos.services.receipt_prints import record_receipt_print

__all__ = [
    "PrinterError",
    "ReceiptHeld",
    "kick_drawer",
    "print_receipt",
    "print_refund_slip",
    "printer_for",
]


def printer_for(register: Register | None) -> ReceiptPrinter | None:
    """The printer in use assigned to `register`, if any."""
    if register is None or register.receipt_printer_id is None:
        return None
    return ReceiptPrinter.objects.filter(pk=register.receipt_printer_id, is_active=True).first()


class ReceiptHeld(DomainError):
    """Another app's part of the slip (fiscal signing, pos.hooks) holds its print back."""

    code = "receipt_held"
    message = _("This receipt cannot be printed yet.")
    status = 409


def _printable_blocks(document, printer: ReceiptPrinter) -> list:
    """The other apps' blocks of one print of `document` (asked once: the fiscal app counts
    each print, the first after signing being the original).

    :raises ReceiptHeld: one of them holds the print back (e.g. not signed yet).
    """
    blocks = hooks.blocks_for(document, width=printer.width)
    held = [block for block in blocks if not block.printable]
    if held:
        raise ReceiptHeld(held[0].context.get("message") or None)
    return blocks


def _store_of(register_id: int) -> Store | None:
    """The till's store, whose address, TIN and header its slips print (one query)."""
    return Store.objects.filter(registers=register_id).first()


def _takes_cash(payments) -> bool:
    return any(p.tender == Tender.CASH and p.amount for p in payments)


def print_receipt(*, sale: Sale, user, printer: ReceiptPrinter) -> bool:
    """Print `sale`'s receipt; every print after the first is a copy (marked "COPY" and
    journalled as a reprint). The first print of a sale paid (partly) in cash kicks the drawer.
    Returns True for a copy. A signed sale prints its fiscal label, SDC block and QR code.

    :raises ReceiptHeld: not printable yet (fiscal pending); nothing is sent.
    :raises PrinterError: the printer was not reached; nothing is recorded.
    """
    blocks = _printable_blocks(sale, printer)
    copy = Sale.objects.filter(pk=sale.pk).values_list("receipt_prints", flat=True).get() > 0
    all_payments = list(sale.payments.all())
    payload = escpos_documents.receipt(
        sale,
        list(sale.lines.all()),
        [p for p in all_payments if not p.is_change],
        ShopSettings.load(),
        printer,
        copy=copy,
        kick=not copy and printer.kicks_drawer and _takes_cash(all_payments),
        points=ledger.receipt_points(sale),
        blocks=blocks,
        store=_store_of(sale.register_id),
    )
    send(printer, payload)
    return record_receipt_print(sale=sale, user=user)


def print_refund_slip(*, refund: Refund, printer: ReceiptPrinter, copy: bool = False) -> None:
    """Print a refund's slip: the original when the refund is done (a refund paid in cash
    kicks the drawer), or a `copy` (marked "COPY", no kick). A signed refund prints its fiscal
    label (NR, CR), SDC block and QR code.

    :raises ReceiptHeld: not printable yet (fiscal pending); nothing is sent.
    :raises PrinterError: the printer was not reached.
    """
    blocks = _printable_blocks(refund, printer)
    cash = Payment.objects.filter(refund=refund, tender=Tender.CASH).exists()
    payload = escpos_documents.refund_slip(
        refund,
        list(refund.lines.select_related("product")),
        ShopSettings.load(),
        printer,
        kick=not copy and cash and printer.kicks_drawer,
        copy=copy,
        blocks=blocks,
        store=Store.objects.filter(registers__shifts=refund.shift_id).first(),
    )
    send(printer, payload)


def print_shift_report(*, shift: Shift, report: dict, printer: ReceiptPrinter) -> None:
    """:raises PrinterError: the printer was not reached."""
    store = _store_of(shift.register_id)
    send(
        printer,
        escpos_documents.shift_report(shift, report, ShopSettings.load(), printer, store=store),
    )


def print_test_page(printer: ReceiptPrinter) -> None:
    """:raises PrinterError: the printer was not reached."""
    send(printer, escpos_documents.test_page(printer, ShopSettings.load()))


def kick_drawer(printer: ReceiptPrinter) -> None:
    """Open the drawer plugged into `printer` (after `shifts.open_drawer` has recorded why).

    :raises PrinterError: the printer was not reached.
    """
    send(printer, escpos_documents.drawer_kick(printer))
