"""What every printed slip of the till shares (sale receipt, refund slip, payment receipt):
one header, the paper it is printed on, and a code a scanner reads back into the till.

The code is a QR of the document's number (`segno`, drawn as inline SVG: no image request, no
script). Scanned into the register's box or the returns search, a sale's number opens the sale.
"""

import segno
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Thermal paper widths; each has its own stylesheet with its @page size.
PAPERS = {"80": "pos/receipt.css", "58": "pos/receipt-58.css"}
PAPER_COOKIE = "receipt_paper"
PAPER_COOKIE_AGE = 365 * 24 * 3600


def header_lines(shop, store=None) -> list[str]:
    """The lines under the shop's name: address, phone, TIN, then the header text, leaving out
    any line already printed (the name and address are often typed there too).

    The till's `store` (pos.models.Store) prints its own address, TIN and header text where it
    has one; the shop's fill in the rest. The phone is the shop's."""
    address = (store.address.strip() if store else "") or shop.address
    tin = (store.tin.strip() if store else "") or shop.tin
    header = (store.receipt_header.strip() if store else "") or shop.receipt_header
    lines = [
        address,
        _("Tel %(phone)s") % {"phone": shop.phone} if shop.phone else "",
        _("TIN %(tin)s") % {"tin": tin} if tin else "",
    ]
    lines = [line.strip() for line in lines if line and line.strip()]
    printed = {shop.name.strip().casefold(), *(line.casefold() for line in lines)}
    for line in (header or "").splitlines():
        line = line.strip()
        if line and line.casefold() not in printed:
            lines.append(line)
            printed.add(line.casefold())
    return lines


def paper(request) -> str:
    """The paper width chosen on this device (`?paper=58` once, then remembered), else 80 mm."""
    chosen = request.GET.get("paper") or request.COOKIES.get(PAPER_COOKIE) or "80"
    return chosen if chosen in PAPERS else "80"


def remember_paper(request, response) -> None:
    if request.GET.get("paper") in PAPERS:
        response.set_cookie(
            PAPER_COOKIE, request.GET["paper"], max_age=PAPER_COOKIE_AGE, samesite="Lax"
        )


def code_svg(number: str, *, width: str = "80") -> SafeString:
    """A QR code of `number` as inline SVG, sized for the paper."""
    qr = segno.make(number, error="m", micro=False)
    svg = qr.svg_inline(scale=3 if width == "80" else 2, border=2)
    return format_html(
        '<div class="code" role="img" aria-label="{}" data-code="{}">{}</div>',
        _("Code of %(number)s") % {"number": number},
        number,
        mark_safe(svg),  # noqa: S308 - segno's own SVG of our number
    )
