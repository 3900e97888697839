"""Stock transfers between stores: draft -> sent -> received, or a draft cancelled.

The rules this module owns (pos.models.transfers says what a transfer is):

- A manager of the source store drafts, sends and cancels; a manager of the destination
  receives (pos.scoping.works_in); owners and admins act for any store. Permissions:
  `pos.add_transfer` (draft), `pos.send_transfer`, `pos.receive_transfer`, `pos.change_transfer`
  (cancel a draft).
- Sending takes each line's quantity out of the source's stock (`transfer_out`), refused if the
  source has not that much unless the shop allows negative stock; the goods are then in transit.
- Receiving is done once, for every line: the quantity that arrived, at most what was sent. It
  comes into the destination's stock as sent (`transfer_in`), and what is missing goes out of it
  at once as shrinkage (`shrinkage`) with the reason given, which is required when anything is
  missing. The transfer is then closed: nothing is left in transit.
- Each write is one transaction: the transfer and its lines locked first, then one store's
  stock levels (pos.services.locks), the movements through pos.services.stock.apply_movements
  (low-stock alerts per store as for any movement), an audit row, and the journal's event last.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts import audit
from core.errors import NotFound, PermissionDenied
from pos import scoping
from pos.errors import (
    InvalidQuantity,
    InvalidStatusTransition,
    InvalidTransfer,
    OverReceipt,
    ReasonRequired,
)
from pos.journal import events
from pos.models import (
    JournalKind,
    MovementKind,
    Product,
    Store,
    Transfer,
    TransferLine,
    TransferStatus,
)
from pos.quantities import as_json, check_places, summed, to_decimal
from pos.services import journal, locks
from pos.services.stock import MovementLine, Reference, apply_movements

S = TransferStatus
ZERO = Decimal(0)


def _require(user, permission: str, store_id: int, message: str) -> None:
    if not user.has_perm(permission) or not scoping.works_in(user, store_id):
        raise PermissionDenied(message)


def check_stores(source_id: int | None, destination_id: int | None) -> None:
    """Two different active stores.

    :raises InvalidTransfer: the same store twice, or one missing or closed.
    """
    if source_id is None or destination_id is None:
        raise InvalidTransfer(gettext("Choose the store it leaves and the one it goes to."))
    if source_id == destination_id:
        raise InvalidTransfer(
            gettext("A transfer goes from one store to another: choose two different stores."),
            field="destination",
        )
    active = set(
        Store.objects.filter(pk__in=[source_id, destination_id], is_active=True).values_list(
            "pk", flat=True
        )
    )
    if active != {source_id, destination_id}:
        raise InvalidTransfer(gettext("Both stores must be open (active)."), field="destination")


def _checked_quantity(product: Product, quantity, *, field: str = "quantity") -> Decimal:
    quantity = to_decimal(quantity, field=field)
    if quantity <= 0:
        raise InvalidQuantity(
            gettext("%(product)s: the quantity sent must be more than 0.") % {"product": product},
            field=field,
        )
    return check_places(
        quantity,
        product.quantity_places,
        name=product.name,
        unit=product.get_unit_display(),
        field=field,
    )


def create_transfer(*, source, destination, lines: list[tuple], user, notes: str = "") -> Transfer:
    """A draft transfer from `source` to `destination` (Stores or pks); `lines` are (product,
    quantity) pairs, the quantity in the product's stock unit.

    :raises PermissionDenied: the user may not draft transfers from the source store.
    :raises InvalidTransfer: the same store twice, a closed store, no line, a product twice.
    :raises InvalidQuantity: a quantity of 0 or less, or with too many decimal places.
    """
    source_id = source.pk if isinstance(source, Store) else source
    destination_id = destination.pk if isinstance(destination, Store) else destination
    _require(
        user,
        "pos.add_transfer",
        source_id,
        gettext("You are not allowed to transfer stock out of this store."),
    )
    check_stores(source_id, destination_id)
    if not lines:
        raise InvalidTransfer(gettext("Add at least one product to the transfer."), field="lines")
    if len({product.pk for product, _quantity in lines}) != len(lines):
        raise InvalidTransfer(gettext("A product is on the transfer twice."), field="lines")
    checked = [(product, _checked_quantity(product, qty)) for product, qty in lines]
    with transaction.atomic():
        transfer = Transfer.objects.create(
            source_id=source_id, destination_id=destination_id, notes=notes, created_by=user
        )
        TransferLine.objects.bulk_create(
            [
                TransferLine(transfer=transfer, product=product, quantity=quantity)
                for product, quantity in checked
            ]
        )
    return transfer


def _lock(transfer: Transfer) -> Transfer:
    locked = locks.transfer(transfer.pk)
    if locked is None:
        raise NotFound(gettext("Unknown transfer."), field="transfer")
    return locked


def send_transfer(*, transfer: Transfer, user) -> Transfer:
    """Send a draft: each line's quantity leaves the source's stock and is in transit.

    :raises PermissionDenied: the user may not send, or does not work in the source store.
    :raises InvalidStatusTransition: the transfer is not a draft (sent twice, cancelled).
    :raises InvalidTransfer: no lines, the same store twice, a closed store.
    :raises InsufficientStock: the source has less than a line sends (every such line named),
        unless the shop allows negative stock.
    """
    _require(
        user,
        "pos.send_transfer",
        transfer.source_id,
        gettext("You are not allowed to send stock out of this store."),
    )
    with transaction.atomic():
        transfer = _lock(transfer)
        if transfer.status != S.DRAFT:
            raise InvalidStatusTransition(
                gettext("%(transfer)s is %(status)s: only a draft can be sent.")
                % {"transfer": transfer, "status": transfer.get_status_display().lower()}
            )
        check_stores(transfer.source_id, transfer.destination_id)
        lines = [line for _pk, line in sorted(locks.transfer_lines(transfer).items())]
        if not lines:
            raise InvalidTransfer(gettext("Add at least one product to the transfer."))
        products = Product.objects.in_bulk([line.product_id for line in lines])
        for line in lines:
            _checked_quantity(products[line.product_id], line.quantity)
        ref = Reference.to(transfer)  # "TR-00012", as a purchase order's "PO-00012"
        movements = apply_movements(
            lines=[
                MovementLine(
                    line.product_id,
                    -line.quantity,
                    MovementKind.TRANSFER_OUT,
                    products[line.product_id].cost_price,
                    "",
                    ref,
                )
                for line in lines
            ],
            store=transfer.source_id,
            user=user,
        )
        transfer.status, transfer.sent_at, transfer.sent_by = S.SENT, timezone.now(), user
        transfer.save(update_fields=["status", "sent_at", "sent_by"])
        audit.record_on_commit(
            action="transfer.sent",
            actor=user,
            target=transfer,
            details={
                "from": transfer.source_id,
                "to": transfer.destination_id,
                "lines": {str(line.product_id): as_json(line.quantity) for line in lines},
            },
        )
        journal.append(events.transfer_event(JournalKind.TRANSFER_SENT, transfer, lines, movements))
    return transfer


def receive_transfer(*, transfer: Transfer, received: dict, user, reason: str = "") -> Transfer:
    """Receive a sent transfer at its destination, once, every line: `received` maps line id ->
    the quantity that arrived (0 to what was sent). What is missing is shrinkage, written with
    `reason` (required then). The transfer is closed: nothing is left in transit.

    :raises PermissionDenied: the user may not receive, or does not work in the destination.
    :raises InvalidStatusTransition: the transfer is not in transit (a draft, received already).
    :raises InvalidQuantity: a line left out, a negative quantity, too many decimal places.
    :raises OverReceipt: more received than was sent on a line.
    :raises ReasonRequired: something is missing and no reason is given.
    """
    _require(
        user,
        "pos.receive_transfer",
        transfer.destination_id,
        gettext("You are not allowed to receive stock into this store."),
    )
    reason = (reason or "").strip()
    with transaction.atomic():
        transfer = _lock(transfer)
        if transfer.status != S.SENT:
            raise InvalidStatusTransition(
                gettext("%(transfer)s is %(status)s: only a transfer in transit can be received.")
                % {"transfer": transfer, "status": transfer.get_status_display().lower()}
            )
        lines = [line for _pk, line in sorted(locks.transfer_lines(transfer).items())]
        unknown = set(received) - {line.pk for line in lines}
        if unknown:
            raise InvalidQuantity(
                gettext("Line %(line)s is not on %(transfer)s.")
                % {"line": min(unknown), "transfer": transfer},
                field="lines",
            )
        products = Product.objects.in_bulk([line.product_id for line in lines])
        for line in lines:
            product = products[line.product_id]
            if line.pk not in received:
                raise InvalidQuantity(
                    gettext("%(product)s: enter the quantity received.") % {"product": product},
                    field=f"line_{line.pk}",
                )
            quantity = to_decimal(received[line.pk], field=f"line_{line.pk}")
            if quantity < 0:
                raise InvalidQuantity(
                    gettext("Received quantities cannot be negative."), field=f"line_{line.pk}"
                )
            check_places(
                quantity,
                product.quantity_places,
                name=product.name,
                unit=product.get_unit_display(),
                field=f"line_{line.pk}",
            )
            if quantity > line.quantity:
                raise OverReceipt(
                    gettext("%(product)s: %(sent)s sent, %(received)s cannot have arrived.")
                    % {
                        "product": product,
                        "sent": product.format_quantity(line.quantity),
                        "received": product.format_quantity(quantity),
                    },
                    field=f"line_{line.pk}",
                )
            line.quantity_received = quantity
            line.quantity_shrinkage = line.quantity - quantity
        short = [line for line in lines if line.quantity_shrinkage]
        if short and not reason:
            raise ReasonRequired(
                gettext("Some goods did not arrive: give the reason for the shrinkage."),
                field="reason",
            )
        ref = Reference.to(transfer)  # "TR-00012", as a purchase order's "PO-00012"
        movement_lines = []
        for line in lines:
            cost = products[line.product_id].cost_price
            movement_lines.append(
                MovementLine(
                    line.product_id, line.quantity, MovementKind.TRANSFER_IN, cost, "", ref
                )
            )
            if line.quantity_shrinkage:
                movement_lines.append(
                    MovementLine(
                        line.product_id,
                        -line.quantity_shrinkage,
                        MovementKind.SHRINKAGE,
                        cost,
                        reason,
                        ref,
                    )
                )
        # What arrives never takes the destination below where it was: it may receive into a
        # negative stock whatever the shop's policy.
        movements = apply_movements(
            lines=movement_lines, store=transfer.destination_id, user=user, allow_negative=True
        )
        TransferLine.objects.bulk_update(lines, ["quantity_received", "quantity_shrinkage"])
        transfer.status, transfer.received_at, transfer.received_by = (
            S.RECEIVED,
            timezone.now(),
            user,
        )
        transfer.shrinkage_reason = reason if short else ""
        transfer.save(update_fields=["status", "received_at", "received_by", "shrinkage_reason"])
        audit.record_on_commit(
            action="transfer.received",
            actor=user,
            target=transfer,
            details={
                "from": transfer.source_id,
                "to": transfer.destination_id,
                "received": {str(ln.product_id): as_json(ln.quantity_received) for ln in lines},
                "shrinkage": {str(ln.product_id): as_json(ln.quantity_shrinkage) for ln in short},
                "reason": transfer.shrinkage_reason,
            },
        )
        journal.append(
            events.transfer_event(JournalKind.TRANSFER_RECEIVED, transfer, lines, movements)
        )
    return transfer


def cancel_transfer(*, transfer: Transfer, user) -> Transfer:
    """Cancel a draft (nothing has moved). A sent transfer is received, short if need be.

    :raises PermissionDenied: the user may not change transfers of the source store.
    :raises InvalidStatusTransition: the transfer is not a draft.
    """
    _require(
        user,
        "pos.change_transfer",
        transfer.source_id,
        gettext("You are not allowed to cancel transfers of this store."),
    )
    with transaction.atomic():
        transfer = _lock(transfer)
        if transfer.status != S.DRAFT:
            raise InvalidStatusTransition(
                gettext("%(transfer)s is %(status)s: only a draft can be cancelled.")
                % {"transfer": transfer, "status": transfer.get_status_display().lower()}
            )
        transfer.status = S.CANCELLED
        transfer.save(update_fields=["status"])
        audit.record_on_commit(action="transfer.cancelled", actor=user, target=transfer)
    return transfer


@dataclass(frozen=True)
class InTransit:
    product_id: int
    source_id: int
    destination_id: int
    quantity: Decimal


def in_transit(*, store=None, product_ids=None) -> list[InTransit]:
    """What is in transit now, per product and pair of stores (sent, not yet received), for
    transfers from or to `store` (a Store or pk; None: every store) and of `product_ids`."""
    lines = TransferLine.objects.filter(transfer__status=S.SENT)
    if store is not None:
        store_id = store.pk if isinstance(store, Store) else store
        lines = lines.filter(transfer__source_id=store_id) | lines.filter(
            transfer__destination_id=store_id
        )
    if product_ids is not None:
        lines = lines.filter(product_id__in=list(product_ids))
    rows = (
        lines.values("product_id", "transfer__source_id", "transfer__destination_id")
        .annotate(quantity=Sum(F("quantity") - F("quantity_received") - F("quantity_shrinkage")))
        .order_by("product_id", "transfer__source_id", "transfer__destination_id")
    )
    return [
        InTransit(
            r["product_id"],
            r["transfer__source_id"],
            r["transfer__destination_id"],
            summed(r["quantity"]),
        )
        for r in rows
    ]
