"""Sending ESC/POS bytes to a network receipt printer: raw TCP, port 9100 by default.

python-escpos' `Network` printer opens the socket (with the printer's timeout) and writes the
bytes; every failure becomes a `PrinterError` with one of three codes, each with a message the
cashier can act on: the printer refused the connection (on, but its port closed or busy), did
not answer in time (off, asleep, or out of paper and stalled), or cannot be reached at all (a
wrong address, no network). The browser's print stays the fallback.
"""

import socket

from django.utils.translation import gettext, gettext_noop
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network

from core.errors import DomainError

MESSAGES = {
    "printer_refused": gettext_noop(
        "The receipt printer %(printer)s refused the connection (is another device printing, "
        "or is its port not %(port)s?). Print from the browser instead."
    ),
    "printer_timeout": gettext_noop(
        "The receipt printer %(printer)s did not answer within %(seconds)s s (is it on, with "
        "paper?). Print from the browser instead."
    ),
    "printer_unreachable": gettext_noop(
        "The receipt printer %(printer)s cannot be reached at %(host)s (check its address and "
        "the network). Print from the browser instead."
    ),
}


class PrinterError(DomainError):
    """A print that did not reach the printer; `code` says why."""

    status = 503

    def __init__(self, code: str, printer):
        values = {
            "printer": printer.name,
            "host": printer.host,
            "port": printer.port,
            "seconds": printer.timeout_seconds,
        }
        super().__init__(gettext(MESSAGES[code]) % values, code=code)


def _cause(error: BaseException) -> str:
    """The code of a socket failure (python-escpos wraps the OSError of connect())."""
    seen = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "printer_refused"
        if isinstance(seen, TimeoutError | socket.timeout):
            return "printer_timeout"
        seen = seen.__cause__ or seen.__context__
    return "printer_unreachable"


def send(printer, payload: bytes) -> None:
    """Write `payload` to `printer` (a ReceiptPrinter) in one connection.

    :raises PrinterError: refused, timed out, or unreachable.
    """
    device = Network(host=printer.host, port=printer.port, timeout=printer.timeout_seconds)
    try:
        device.open()
        device._raw(payload)  # noqa: SLF001 - python-escpos' one way to write bytes as they are
    except (DeviceNotFoundError, OSError) as error:
        raise PrinterError(_cause(error), printer) from error
    finally:
        device.close()
