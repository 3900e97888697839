"""Putting documents in the fiscal outbox, inside the transaction that creates them.

Registered with pos.hooks (fiscal/apps.py): checkout calls `enqueue_sale`, refunds
`enqueue_refund`, a void `enqueue_void`, stock movements `enqueue_stock`, each inside its own
transaction. A signed document (`enqueue`) takes the device's invoice counter (one UPDATE ...
RETURNING: choose the device, lock, increment and read in one) and writes the outbox row: one
statement on PostgreSQL (the UPDATE in the INSERT's WITH), two elsewhere. The number is
consumed only if the sale commits, so each device's invoice numbers have no gaps; the row lock
on the device row is held to the commit, so the numbers follow the commit order of the sales
(lock order: pos.services.locks, after the sequence rows and before the journal's head).

Which device (fiscal.models): a refund's or a void's is the one that signed the original sale
(while it is active; a replaced device's successor otherwise); else the device the till is
assigned to (`Till`, when it is of the till's store), else the till's store's device: a store's
sales are signed with its own branch id (bhfId). A till whose store has no ready device has
its sales taken but not queued (check_deployment fails and names the store).

A sale's own stock-out (and a refund's or a void's stock coming back) is reported after its
receipt is signed (fiscal.sending queues it then, not checkout); other stock movements (goods
received, adjustments, counts, damage) are queued here with the device of the store whose stock
moved, each followed by the stock level of every product they moved (saveStockMaster).

With FISCAL_BACKEND=none, or no initialised device, nothing is written: the shop sells as
before (check_deployment says why no receipt is signed).
"""

import functools
import logging

from django.conf import settings
from django.db import connection

from fiscal.client import SAVE_STOCK_ITEMS, route_known
from fiscal.documents import stock_type
from fiscal.models import Device, OutboxItem, Till
from pos.models import Register
from pos.services import rows

logger = logging.getLogger("vevurn.fiscal")

# RRA's refund reasons (code class 32): "Other" when none was chosen; a void is a cancelled sale.
DEFAULT_REFUND_REASON = "13"
VOID_REASON = "12"

_READY = "d.is_active AND d.initialised_at IS NOT NULL"


def enabled() -> bool:
    return settings.FISCAL_BACKEND != "none"


def _counter_update(
    *, register_id: int | None, original_sale_id: int | None
) -> tuple[str, list] | None:
    """The UPDATE ... RETURNING that takes the next invoice number (device id, number) of the
    device of the original sale (a refund's, a void's), else of the till's device of its store
    (fiscal.device.device_for_register is the same choice), and its parameters; None when
    neither is given."""
    params = [] if original_sale_id is None else [original_sale_id]
    if register_id is not None:
        params += [register_id, register_id]
    if not params:
        return None
    return _counter_sql(original_sale_id is not None, register_id is not None), params


@functools.cache
def _counter_sql(by_original_sale: bool, by_register: bool) -> str:
    """The counter's UPDATE text, built once per kind of document."""
    quote = connection.ops.quote_name
    device, till, outbox, register = (
        quote(m._meta.db_table) for m in (Device, Till, OutboxItem, Register)
    )
    candidates = []
    if by_original_sale:
        candidates.append(
            f"(SELECT o.device_id FROM {outbox} o JOIN {device} d ON d.id = o.device_id "  # noqa: S608
            f"WHERE o.sale_id = %s AND o.kind = 'sale' AND {_READY})"
        )
    if by_register:
        candidates.append(
            f"(SELECT t.device_id FROM {till} t JOIN {device} d ON d.id = t.device_id "  # noqa: S608
            f"JOIN {register} r ON r.id = t.register_id "
            f"WHERE t.register_id = %s AND d.store_id = r.store_id AND {_READY})"
        )
        candidates.append(
            f"(SELECT MIN(d.id) FROM {device} d JOIN {register} r ON r.store_id = d.store_id "  # noqa: S608
            f"WHERE r.id = %s AND {_READY})"
        )
    return (
        f"UPDATE {device} SET last_invoice_number = last_invoice_number + 1 "  # noqa: S608 - the models' own names
        f"WHERE id = COALESCE({', '.join(candidates)}) "
        "AND is_active AND initialised_at IS NOT NULL "
        "RETURNING id, last_invoice_number"
    )


# The outbox row's columns that enqueue writes from the item (the device and its number come
# from the counter's UPDATE).
_FROM_ITEM = [
    f
    for f in OutboxItem._meta.concrete_fields
    if not f.primary_key and f.attname not in ("device_id", "invoice_number")
]


@functools.cache
def _take_and_insert_sql(counter_sql: str) -> str:
    """PostgreSQL: the counter's UPDATE as a WITH query whose row the INSERT of the outbox row
    selects (no ready device, no row), built once per kind of document."""
    quote = connection.ops.quote_name
    meta = OutboxItem._meta
    taken = [quote(meta.get_field(name).column) for name in ("device", "invoice_number")]
    columns = ", ".join([*(quote(f.column) for f in _FROM_ITEM), *taken])
    return (
        f"WITH taken AS ({counter_sql}) INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - the model's own names
        f"SELECT {', '.join(['%s'] * len(_FROM_ITEM))}, taken.id, taken.last_invoice_number "
        f"FROM taken RETURNING {quote(meta.pk.column)}, {', '.join(taken)}"
    )


def _take_and_insert(item: OutboxItem, update: tuple[str, list]) -> bool:
    """PostgreSQL: the counter's UPDATE and the outbox row's INSERT in one statement, one round
    trip fewer in every sale's transaction. Sets the item's pk, device and number; False when
    no device was ready."""
    sql, params = update
    values = [f.get_db_prep_save(f.pre_save(item, True), connection) for f in _FROM_ITEM]
    with rows.cursor() as cursor:
        cursor.execute(_take_and_insert_sql(sql), [*params, *values])
        row = cursor.fetchone()
    if row is None:
        return False
    item.pk, item.device_id, item.invoice_number = row
    item._state.adding = False
    item._state.db = connection.alias
    return True


def enqueue(
    kind: str, document, *, register_id: int, original_sale_id: int | None = None, **fields
) -> OutboxItem | None:
    """Queue `document` (a sale, a refund, a voided sale) for signing with the next invoice
    number of its device: one statement on PostgreSQL (`_take_and_insert`), elsewhere two (the
    counter's UPDATE, then the row's plain INSERT, pos.services.rows: the ORM's building of it
    cost a checkout more CPU than its round trip). No signals: OutboxItem has no receiver."""
    if not enabled():
        return None
    update = _counter_update(register_id=register_id, original_sale_id=original_sale_id)
    item = OutboxItem(kind=kind, **fields)
    if update is None:
        queued = False
    elif connection.vendor == "postgresql":
        queued = _take_and_insert(item, update)
    else:
        with connection.cursor() as cursor:
            cursor.execute(*update)
            taken = cursor.fetchone()
        if queued := taken is not None:
            item.device_id, item.invoice_number = taken
            rows.insert([item])
    if not queued:
        logger.warning("%s %s not queued for signing: no fiscal device", kind, document.number)
        return None
    return item


def enqueue_sale(sale, lines=None, payments=None) -> OutboxItem | None:
    return enqueue(
        OutboxItem.Kind.SALE,
        sale,
        register_id=sale.register_id,
        sale=sale,
        created_at=sale.created_at,
    )


def enqueue_refund(refund, lines=None, *, reason_code: str = "") -> OutboxItem | None:
    return enqueue(
        OutboxItem.Kind.REFUND,
        refund,
        register_id=refund.shift.register_id,
        original_sale_id=refund.sale_id,
        refund=refund,
        refund_reason_code=reason_code or DEFAULT_REFUND_REASON,
        created_at=refund.created_at,
    )


def enqueue_void(sale) -> OutboxItem | None:
    """A void of a sale that went to the VSDC: an R receipt for the whole sale, referencing its
    invoice, reason "cancelled sale". A sale never queued (no device then) sends nothing."""
    if not enabled() or not OutboxItem.objects.filter(kind="sale", sale=sale).exists():
        return None
    return enqueue(
        OutboxItem.Kind.VOID,
        sale,
        register_id=sale.register_id,
        original_sale_id=sale.pk,
        sale=sale,
        refund_reason_code=VOID_REASON,
        created_at=sale.voided_at,
    )


def queue_stock(device: Device, movements, *, stock_type_code: str = "", **fields) -> None:
    """saveStockItems rows for `movements` (one per RRA stock type, or all as
    `stock_type_code`), then one saveStockMaster row per product: its level after them."""
    groups: dict[str, list] = {}
    for movement in movements:
        code = stock_type_code or stock_type(movement.kind, movement.quantity)
        groups.setdefault(code, []).append(movement)
    rows = [
        OutboxItem(
            device=device,
            kind=OutboxItem.Kind.STOCK,
            stock_type_code=code,
            movement_ids=[m.pk for m in moved],
            **fields,
        )
        for code, moved in sorted(groups.items())
    ]
    last_per_product = {m.product_id: m.pk for m in sorted(movements, key=lambda m: m.pk)}
    rows += [
        OutboxItem(device=device, kind=OutboxItem.Kind.STOCK_MASTER, movement_ids=[pk], **fields)
        for _product, pk in sorted(last_per_product.items())
    ]
    OutboxItem.objects.bulk_create(rows)


def _store_id(movement) -> int | None:
    """The store whose stock `movement` moved: its own `store` once stock movements name one
    (issue 29's stock per store); None before, when the shop's stock is one figure."""
    return getattr(movement, "store_id", None)


def enqueue_stock(movements) -> None:
    """Stock in/out other than sales, refunds and voids (received goods, adjustments, counts,
    damage), with the device of the store whose stock moved (a movement naming no store: the
    shop's main device, the first store's)."""
    if not enabled() or not movements or not route_known(SAVE_STOCK_ITEMS, settings.FISCAL_PROFILE):
        return  # (the OSDC profile knows no stock route: nothing is queued that cannot go)
    ready = Device.objects.filter(is_active=True, initialised_at__isnull=False)
    per_store: dict[int | None, list] = {}
    for movement in movements:
        per_store.setdefault(_store_id(movement), []).append(movement)
    for store_id, moved in per_store.items():
        if store_id is None:
            device = ready.order_by("pk").first()  # the main device
        else:
            device = ready.filter(store_id=store_id).first()
        if device is not None:
            queue_stock(device, moved)
