"""Row locks: the only place that takes them, and the one order in which they are taken.

A service that changes a row holding money, stock or a counter locks it first, through a helper
here, inside its transaction. Two transactions that lock rows in the same order can wait for
each other but never deadlock, so every service takes its locks in this order (any subset of
it, never out of it), and rows of one kind in primary-key order:

 1. the sale (voids and refunds of one sale queue here)
 2. the sale's lines, by pk (refunds)
 3. the purchase order, then its lines by pk (receiving); or the stock transfer, then its
    lines by pk (sending, receiving, cancelling)
 4. products, by pk (checkout, refunds, voids, receiving, counts, adjustments, product edits,
    selling-unit edits), then a product's selling unit (selling-unit edits: the product first,
    so that a sale ringing the unit up commits before or after the edit, never across it).
    Stock levels (pos.models.StockLevel, one per store and product) are locked with their
    product, in one statement (`stock`): the rows of one store's levels, joined to their
    products, by product pk. A product locked already (refunds, counts) is locked again there,
    which changes nothing. A transfer between stores locks one store's levels at a time:
    the source's when it is sent, the destination's when it is received (never both)
 5. the held sale (resume; nothing else is locked with it)
 6. the customer (checkout, refunds, voids, invoice payments, customer edits); its ledger
    entries (pos.services.ledger) are written under this lock and never locked themselves:
    insert-only, each keyed by its event, a second insert of the same key does nothing
 6a. gift cards, by pk (sold, redeemed or expired under the customer's lock when there is one)
 7. the customer's invoice (payments, cancel, voids, refunds)
 8. Mobile Money requests, by pk (checkout claims them; a status change locks one)
 9. the register: its receipt counter, taken as late as possible because every sale on the
    till waits for it until the previous one commits (checkout, voids, refunds, invoice
    payments taken in a shift, closing a shift, register edits)
10. the shift, locked or only read under the register lock, so that no sale, refund or
    payment lands in a shift that is closing (checkout on PostgreSQL reads it FOR SHARE in the
    register's own statement: pos.services.checkout._receipt_number_if_open)
11. the day-sum rows (ProductDaySales), by product: checkout's single upsert after the register
12. sequence rows (invoice numbers, refund numbers): a number is consumed only by the
    transaction that commits it; then the fiscal device's invoice counter (fiscal.outbox, run
    through pos.hooks by checkout and refunds: one UPDATE that locks and increments it)
13. the journal's chain head, last of all: every service that moves money or stock ends by
    appending its event (pos.services.journal.append locks and advances the head in one
    statement on PostgreSQL), so an event is hashed only once all of its rows exist

A till device's row (its offline receipt-number blocks, pos.services.offline) is locked alone,
in a transaction of its own.

Checkout takes 4 (products with the till's store's levels), 6, 8, 9, 11, 12 (an invoice number
when part of the sale is on account) and 13; refunds 1, 2, 4, 6, 7, 9, 10, 12, 13; voids 1, 4,
6, 7, 9, 13; closing a shift 9, 10, 13. Receiving locks 3 then 4 (the order's store's levels);
counts and adjustments 4 (the chosen store's levels). Sending a transfer locks 3 (the
transfer and its lines) then 4 (the source's levels), receiving it 3 then 4 (the destination's).

On SQLite `select_for_update` is a no-op: the first write of a transaction takes the database's
one write lock (the settings open transactions with BEGIN IMMEDIATE), which serialises writers.
"""

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from pos.models import (
    Customer,
    GiftCard,
    HeldSale,
    Invoice,
    MobileMoneyRequest,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Register,
    Sale,
    SaleLine,
    SellingUnit,
    Sequence,
    Shift,
    StockLevel,
    TillDevice,
    Transfer,
    TransferLine,
)
from pos.services import rows


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A row lock is held until the transaction ends: take it inside one.")


def in_pk_order(queryset: QuerySet) -> list:
    """Lock every row of `queryset`, in primary-key order, and return them."""
    _require_transaction()
    return list(queryset.select_for_update().order_by("pk"))


def _one(queryset: QuerySet):
    _require_transaction()
    return queryset.select_for_update().first()


def sale(pk: int) -> Sale | None:
    return _one(Sale.objects.filter(pk=pk))


def sale_lines(sale: Sale, ids) -> dict[int, SaleLine]:
    return {line.pk: line for line in in_pk_order(SaleLine.objects.filter(sale=sale, pk__in=ids))}


def selling_unit(pk: int) -> SellingUnit | None:
    return _one(SellingUnit.objects.filter(pk=pk))


def purchase_order(pk: int) -> PurchaseOrder | None:
    return _one(PurchaseOrder.objects.filter(pk=pk))


def purchase_order_lines(order: PurchaseOrder) -> dict[int, PurchaseOrderLine]:
    return {line.pk: line for line in in_pk_order(PurchaseOrderLine.objects.filter(order=order))}


def transfer(pk: int) -> Transfer | None:
    return _one(Transfer.objects.filter(pk=pk))


def transfer_lines(transfer: Transfer) -> dict[int, TransferLine]:
    return {line.pk: line for line in in_pk_order(TransferLine.objects.filter(transfer=transfer))}


def products(ids) -> dict[int, Product]:
    """The products with these ids (those that exist), locked by pk."""
    return {p.pk: p for p in in_pk_order(Product.objects.filter(pk__in=sorted(set(ids))))}


def stock(store_id: int, product_ids) -> tuple[dict[int, Product], dict[int, StockLevel]]:
    """The products with these ids (those that exist) and their stock levels in the store,
    locked together by product pk in one statement: (products by pk, levels by product pk).

    A product without a level in the store (made by a bulk insert, or while the store was being
    added) gets one, at 0, before it is locked.
    """
    _require_transaction()
    ids = sorted(set(product_ids))

    def lock() -> list[StockLevel]:
        return _levels_with_products(store_id, ids)

    levels = lock()
    if len(levels) < len(ids):
        have = {level.product_id for level in levels}
        missing = Product.objects.filter(pk__in=[pk for pk in ids if pk not in have])
        new = [
            StockLevel(store_id=store_id, product_id=pk)
            for pk in missing.values_list("pk", flat=True)
        ]
        if new:
            StockLevel.objects.bulk_create(new, ignore_conflicts=True)
            levels = lock()
    return {level.product_id: level.product for level in levels}, {
        level.product_id: level for level in levels
    }


def _levels_with_products(store_id: int, ids: list[int]) -> list[StockLevel]:
    """What `StockLevel.objects.filter(store_id=..., product_id__in=ids)
    .select_related("product").select_for_update().order_by("product_id")` reads and locks, as
    a plain statement (pos.services.rows): the ORM's compiling of it cost more CPU than the
    round trip, on every sale. Without `OF`, PostgreSQL locks the joined product rows too, in
    the same order; SQLite has no FOR UPDATE (its write lock is taken at BEGIN IMMEDIATE)."""
    if not ids:
        return []
    quote = connection.ops.quote_name
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with rows.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(StockLevel, 'l')}, {rows.columns(Product, 'p')} "  # noqa: S608 - the models' own names
            f"FROM {quote(StockLevel._meta.db_table)} l "
            f"INNER JOIN {quote(Product._meta.db_table)} p ON p.id = l.product_id "
            f"WHERE l.store_id = %s AND l.product_id IN ({', '.join(['%s'] * len(ids))}) "
            f"ORDER BY l.product_id{for_update}",
            [store_id, *ids],
        )
        found = cursor.fetchall()
    width = rows.width(StockLevel)
    levels = []
    for row in found:
        level = rows.loaded(StockLevel, row)
        rows.related(level, "product", rows.loaded(Product, row, width))
        levels.append(level)
    return levels


def product(pk: int) -> Product | None:
    return _one(Product.objects.filter(pk=pk))


def held_sale(pk: int) -> HeldSale | None:
    return _one(HeldSale.objects.filter(pk=pk))


def customer(pk: int) -> Customer | None:
    return _one(Customer.objects.filter(pk=pk))


def gift_cards(codes) -> dict[str, GiftCard]:
    """The gift cards with these codes (those that exist), locked by pk, by code."""
    return {c.code: c for c in in_pk_order(GiftCard.objects.filter(code__in=sorted(set(codes))))}


def invoice(pk: int) -> Invoice | None:
    return _one(Invoice.objects.filter(pk=pk))


def invoice_of_sale(sale: Sale, *, statuses=None) -> Invoice | None:
    """The invoice of `sale` (only in one of `statuses`, when given), locked."""
    queryset = Invoice.objects.filter(sale=sale)
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    return _one(queryset)


def mobile_money_requests(ids) -> dict[int, MobileMoneyRequest]:
    queryset = MobileMoneyRequest.objects.filter(pk__in=sorted(set(ids)))
    return {r.pk: r for r in in_pk_order(queryset)}


def mobile_money_request(pk: int) -> MobileMoneyRequest | None:
    return _one(MobileMoneyRequest.objects.filter(pk=pk))


def register(pk: int) -> Register | None:
    return _one(Register.objects.filter(pk=pk))


def shift(pk: int) -> Shift | None:
    return _one(Shift.objects.filter(pk=pk))


def till_device(pk: int) -> TillDevice | None:
    return _one(TillDevice.objects.filter(pk=pk))


def sequence(name: str) -> Sequence:
    """The sequence row `name`, locked; created (at 0) on first use."""
    found = _one(Sequence.objects.filter(name=name))
    if found is not None:
        return found
    try:
        with transaction.atomic():
            Sequence.objects.create(name=name)
    except IntegrityError:
        pass  # created concurrently; lock it below
    return _one(Sequence.objects.filter(name=name))
