"""Where other apps plug into the shop: pos calls what is registered here and imports none of them.

The fiscal app (RRA EBM, fiscal/) registers here when it is ready; pos never imports it (an
import contract says so). Rules for what is registered:

- `sale_recorded(sale, lines, payments)` and `refund_recorded(refund, lines)` run inside the
  service's own transaction, after every row of the sale (or refund) exists and before its
  journal entry: whatever they write commits or rolls back with the sale. They must be cheap
  (checkout's query count is asserted) and must never call out over the network.
- `sale_voided(sale)` runs inside `void_sale`'s transaction once the sale is marked voided
  (before its journal entry), under the same rules as `sale_recorded`.
- `stock_moved(movements)` runs inside `apply_movements`' transaction for the movements that are
  neither a sale's nor a refund's (those are reported with their sale or refund).
- `refund_reasons()` answers the coded refund reasons the till offers ((code, label) pairs,
  translated); the code chosen goes to `refund_recorded` as `reason_code`.
- `report_sections(report, **subject)` adds a section (`ReceiptBlock`) to a report screen:
  the shift's X/Z report (`"z_report"`, shift=...) lists the sales not signed yet.
- `receipt_blocks(document, *, width)` answers what a printed slip (of a sale or a refund)
  carries besides the shop's own content (`ReceiptBlock`), once per slip rendered: a printable
  block counts that print; one that is not `printable` holds the slip back (the till shows the
  block's message instead and offers to print when it is ready).
- `till_actions(user)` answers links the till offers beside "Hold sale" for the cart in
  progress ((label, url) pairs; fiscal signing: a proforma quote of the cart). Cheap: the till
  renders it on every change of the cart, so no query.
- `message_attachments(message)` answers the files an emailed customer message carries
  ((name, bytes, mimetype) triples; fiscal signing: a receipt's QR code), asked when it is sent.
- `document_actions(document, user)` answers links a document's page (a sale's receipt) offers
  besides its own ((label, url) pairs; fiscal signing: a voided sale's R receipt).
- `till_modes(register_id, *, fresh)` answers a `TillMode` when a till works in a mode where
  its sales are not sales (the fiscal app's training mode), else None. The till shows the
  mode's banner on every screen, takes the cart's actions (`pos.register.views.CART_ACTIONS`)
  and refuses every other action that writes; "Complete" hands the cart to `mode.checkout`
  instead of pos.services.checkout. It is asked on every till request: answer from a cache,
  and from the database itself when `fresh` (the till asks so just before completing a sale).
  `cached`, when given, holds the cache's values read ahead under the keys of
  `till_mode_keys(register_id)` (the cache key each source reads first, a missing value left
  out): the API's checkout reads them with the shop settings in one round trip.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

sale_recorded: list[Callable] = []
refund_recorded: list[Callable] = []
sale_voided: list[Callable] = []
stock_moved: list[Callable] = []
receipt_blocks: list[Callable] = []
refund_reason_sources: list[Callable] = []
report_sections: list[Callable] = []
till_actions: list[Callable] = []
message_attachments: list[Callable] = []
document_actions: list[Callable] = []
till_modes: list[Callable] = []
till_mode_keys: list[Callable] = []


@dataclass(frozen=True)
class ReceiptBlock:
    """A part of a printed slip another app adds: rendered with `template` and `context`."""

    template: str
    context: dict = field(default_factory=dict)
    printable: bool = True  # False: the slip waits (e.g. "fiscal pending")
    label: str = ""  # e.g. "NS" or "CS": the slip's title carries it


@dataclass(frozen=True)
class TillMode:
    """A till working in another mode than selling (training): what it shows and what takes
    its carts. `checkout(*, shift, cashier, cart, tenders, idempotency_key)` answers a
    document with `replayed` and `get_absolute_url()` (its receipt), or raises a DomainError."""

    name: str
    banner_template: str  # rendered atop every till screen
    refusal: str  # why an action other than the cart's is refused
    checkout: Callable


def register(hooks: list[Callable], function: Callable) -> Callable:
    if function not in hooks:
        hooks.append(function)
    return function


def run(hooks: list[Callable], *args, **kwargs) -> None:
    for function in hooks:
        function(*args, **kwargs)


def refund_reasons() -> list[tuple[str, str]]:
    """The coded refund reasons to choose from at the till; none without a registered source."""
    return [choice for source in refund_reason_sources for choice in source()]


def sections_for(report: str, **subject) -> list[ReceiptBlock]:
    found = []
    for function in report_sections:
        section = function(report, **subject)
        if section is not None:
            found.append(section)
    return found


def blocks_for(document, *, width: str = "80") -> list[ReceiptBlock]:
    found = []
    for function in receipt_blocks:
        block = function(document, width=width)
        if block is not None:
            found.append(block)
    return found


def till_actions_for(user) -> list[tuple[str, str]]:
    """The links other apps offer at the till for the cart in progress: (label, url) pairs."""
    return [action for function in till_actions for action in function(user)]


def attachments_for(message) -> list[tuple[str, bytes, str]]:
    """The files other apps attach to an emailed customer message."""
    return [found for function in message_attachments for found in function(message)]


def document_actions_for(document, user) -> list[tuple[str, str]]:
    """The links other apps offer on `document`'s page: (label, url) pairs."""
    return [action for function in document_actions for action in function(document, user)]


def till_mode(
    register_id: int, *, fresh: bool = False, cached: dict | None = None
) -> TillMode | None:
    """The mode the till works in, if any app puts it in one (e.g. training). `cached`: the
    cache's values under `till_mode_cache_keys(register_id)`, read by the caller."""
    for source in till_modes:
        mode = source(register_id, fresh=fresh, cached=cached)
        if mode is not None:
            return mode
    return None


def till_mode_cache_keys(register_id: int) -> list[str]:
    """The cache keys the till mode's sources read first (see `till_modes`)."""
    return [key(register_id) for key in till_mode_keys]
