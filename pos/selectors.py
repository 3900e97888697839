"""Reads used in more than one place."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from pos import scoping
from pos.errors import InvalidPhoneNumber
from pos.models import Customer, Product, ProductStatus, Refund
from pos.phones import normalise_phone


def product_lookup(code: str) -> Product | None:
    """The product whose barcode or SKU is `code`, in one indexed query (both are unique)."""
    code = (code or "").strip()
    if not code:
        return None
    return (
        Product.objects.select_related("category")
        .filter(Q(barcode=code) | Q(sku=code))
        # a barcode match wins over another product's SKU match
        .order_by(Case(When(barcode=code, then=Value(0)), default=Value(1)))
        .first()
    )


@dataclass(frozen=True)
class CodeMatch:
    """What a scanned code names: a product, in a selling unit, or a scale label's line."""

    product: Product
    selling_unit: object = None  # the SellingUnit whose barcode it is
    label: object = None  # the ScaleLabel read from it (pos.scale_labels)


def code_lookup(code: str, *, store_id: int | None = None) -> CodeMatch | None:
    """A barcode or SKU of a product, or a selling unit's barcode (one query for both, as a
    product barcode alone took before selling units), else an in-store scale label (one more:
    its template and product together). With `store_id` (the till's store), the product comes
    with that store's stock as `store_stock`, in the same statement."""
    from pos.scale_labels import looks_like_label

    code = (code or "").strip()
    if not code:
        return None
    match = _product_or_unit(code, store_id)
    if match is not None:
        return match
    if looks_like_label(code):
        return _labelled_product(code, store_id)
    return None


def _store_stock_column(store_id: int | None, product_id_column: str) -> tuple[str, list]:
    """A select-list column `store_stock`: the store's stock of the row's product (as text: SQLite
    hands back floats), and its parameters."""
    from pos.models import StockLevel

    if store_id is None:
        return "NULL AS store_stock", []
    levels = StockLevel._meta.db_table
    return (
        f"(SELECT CAST(sl.on_hand AS TEXT) FROM {levels} sl "  # noqa: S608 - our own names
        f"WHERE sl.product_id = {product_id_column} AND sl.store_id = %s) AS store_stock",
        [store_id],
    )


def _with_store_stock(product, store_id: int | None):
    if store_id is not None:
        product.store_stock = Decimal(product.store_stock or 0)
    return product


def _labelled_product(code: str, store_id: int | None = None) -> CodeMatch | None:
    """The product of an in-store scale label, with the label read: the active template of the
    label's prefix and the product of the item code it carries come in one statement."""
    from pos.models import ScaleLabelTemplate
    from pos.scale_labels import parse_label

    fields = ScaleLabelTemplate._meta.concrete_fields
    template_columns = ", ".join(f"t.{f.column} AS t_{f.attname}" for f in fields)
    stock_column, stock_params = _store_stock_column(store_id, "p.id")
    found = list(
        Product.objects.raw(
            f"""SELECT p.*, {template_columns}, {stock_column}
            FROM {ScaleLabelTemplate._meta.db_table} t JOIN {Product._meta.db_table} p
            ON p.scale_code = CAST(SUBSTR(%s, LENGTH(t.prefix) + 1, t.item_digits) AS INTEGER)
            WHERE t.prefix = %s AND t.is_active""",  # noqa: S608 - the models' own table names
            [*stock_params, code, code[:2]],
        )
    )
    if not found:
        return None
    product = _with_store_stock(found[0], store_id)
    names = [f.attname for f in fields]
    template = ScaleLabelTemplate.from_db(
        product._state.db, names, [getattr(product, f"t_{name}") for name in names]
    )
    label = parse_label(code, [template])  # None when the check digit is wrong
    return CodeMatch(product, label=label) if label is not None else None


UNIT_COLUMNS = ("id", "product_id", "name", "factor", "barcode", "price", "is_active")


def _product_or_unit(code: str, store_id: int | None = None) -> CodeMatch | None:
    """The product whose barcode (first) or SKU is `code`, else the product of the selling unit
    whose barcode it is, with that unit: two indexed branches of one statement."""
    from pos.models import SellingUnit

    product, unit = Product._meta.db_table, SellingUnit._meta.db_table
    unit_columns = ", ".join(
        f"CAST(u.{c} AS TEXT) AS su_{c}" if c in ("factor", "price") else f"u.{c} AS su_{c}"
        for c in UNIT_COLUMNS
    )
    no_unit = ", ".join(f"NULL AS su_{c}" for c in UNIT_COLUMNS)
    stock_column, stock_params = _store_stock_column(store_id, "found.id")
    found = list(
        Product.objects.raw(
            f"""SELECT found.*, {stock_column} FROM (
                SELECT p.*, CASE WHEN p.barcode = %s THEN 0 ELSE 1 END AS match_rank, {no_unit}
                FROM {product} p WHERE p.barcode = %s OR p.sku = %s
                UNION ALL
                SELECT p.*, 2, {unit_columns}
                FROM {unit} u JOIN {product} p ON p.id = u.product_id WHERE u.barcode = %s
            ) found ORDER BY match_rank LIMIT 1""",  # noqa: S608 - the models' own table names
            [*stock_params, code, code, code, code],
        )
    )
    if not found:
        return None
    product = _with_store_stock(found[0], store_id)
    if product.su_id is None:
        return CodeMatch(product)
    # Columns beside the model's come back as the database has them (SQLite: floats, 0/1).
    values = {c: getattr(product, f"su_{c}") for c in UNIT_COLUMNS}
    values["factor"] = Decimal(str(values["factor"]))
    if values["price"] is not None:
        values["price"] = Decimal(str(values["price"]))
    values["is_active"] = bool(values["is_active"])
    selling_unit = SellingUnit.from_db(product._state.db, list(values), list(values.values()))
    selling_unit.product = product
    return CodeMatch(product, selling_unit=selling_unit)


def with_store_stock(products: QuerySet, store_id: int | None, *, others: bool = False) -> QuerySet:
    """`products`, each with `store_stock`: how much of it the store holds (0 for none).

    With `others`, each has `other_stores_stock` too: the sum of what the other active stores
    hold (in the product's stock unit), None when there is no other active store (a one-store
    shop shows nothing). Both are subqueries of the same statement: one query for the list.
    """
    from pos.models import StockLevel

    if store_id is None:
        return products
    on_hand = StockLevel._meta.get_field("on_hand")
    level = StockLevel.objects.filter(product=OuterRef("pk"), store_id=store_id).values("on_hand")
    products = products.annotate(
        store_stock=Coalesce(Subquery(level[:1]), Value(0, output_field=on_hand))
    )
    if not others:
        return products
    # Every product has a level in every store, so the sum is NULL only without another store.
    elsewhere = (
        StockLevel.objects.filter(product=OuterRef("pk"), store__is_active=True)
        .exclude(store_id=store_id)
        .order_by()
        .values("product")
        .annotate(total=Sum("on_hand"))
        .values("total")
    )
    return products.annotate(other_stores_stock=Subquery(elsewhere[:1], output_field=on_hand))


def product_search(
    query: str, *, active_only: bool = True, limit: int = 20, store_id: int | None = None
) -> QuerySet:
    """The first `limit` products, by name, whose name contains `query` or whose SKU or barcode
    is `query` (with the `store_stock` of `store_id` and the `other_stores_stock` of the other
    active stores, when given: `with_store_stock`).

    The exact SKU/barcode hits are looked up first and join the name condition by id, so that
    the ids can be picked from indexes alone; the products then come by those ids.
    """
    products = Product.objects.all()
    if active_only:
        products = products.filter(status=ProductStatus.ACTIVE)
    query = (query or "").strip()
    if query:
        exact = products.filter(Q(sku=query) | Q(barcode=query)).order_by().values_list("pk")
        products = products.filter(Q(name__icontains=query) | Q(pk__in=[pk for (pk,) in exact]))
    first = products.order_by("name", "pk").values_list("pk", flat=True)[:limit]
    if query and active_only and connection.vendor == "postgresql":
        first = _in_name_order_on_postgresql(first, query)
    found = Product.objects.select_related("category").filter(pk__in=first).order_by("name", "pk")
    return with_store_stock(found, store_id, others=True)


# Name search on PostgreSQL has two good plans:
# - common word: walk the index pos_product_active_name in name order and stop at the `limit`-th
#   match ("samsung", in a fifth of the bench's 1,000,000 names: 86,000 index entries, 11 ms);
# - rare word: fetch its few matches through the trigram index and sort them ("model 5432",
#   111 names: 10 ms; walking the names would pass 180,000 of them).
# The planner cannot tell them apart: its estimate of "name contains" comes from the 100 names
# of its histogram, so a word in 1% of the names may show in none of them (it then fetches and
# sorts 10,000 rows) and a word in 0.01% may show in one (it then walks most of the catalogue:
# 294 ms for "glass case model 77" after one ANALYZE). A sample of the names decides instead:
# about 2,000 (whole pages of the table, the same pages each time, about 1 ms), and a word in at
# least 0.1% of them is common.
NAME_SAMPLE_ROWS = 2000
COMMON_SHARE = 0.001
# The scan methods turned off for the ids query, so that the planner takes the plan chosen.
PLANS = {
    "common": ["enable_bitmapscan", "enable_seqscan"],
    "rare": ["enable_indexscan", "enable_indexonlyscan"],
}


def name_frequency(query: str) -> str:
    """Whether `query` is "common" or "rare" in a sample of the active products' names."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*), count(*) FILTER (WHERE UPPER(name::text) LIKE UPPER(%s))
               FROM pos_product TABLESAMPLE SYSTEM ((
                   -- the percentage that makes NAME_SAMPLE_ROWS (before any ANALYZE: 0.2)
                   SELECT CASE WHEN reltuples > 0 THEN least(100, 100 * %s / reltuples)
                               ELSE 0.2 END
                   FROM pg_class WHERE oid = 'pos_product'::regclass
               )) REPEATABLE (0)
               WHERE status = %s""",
            [
                f"%{connection.ops.prep_for_like_query(query)}%",
                NAME_SAMPLE_ROWS,
                ProductStatus.ACTIVE,
            ],
        )
        sampled, matching = cursor.fetchone()
    return "common" if matching >= max(2, sampled * COMMON_SHARE) else "rare"


def _in_name_order_on_postgresql(ids: QuerySet, query: str) -> list[int]:
    """`ids` evaluated with the plan that suits how common `query` is: the other plan's methods
    are off for this one query (a rollback puts them back too)."""
    off = PLANS[name_frequency(query)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("; ".join(f"SET {setting} = off" for setting in off))
        found = list(ids)
        cursor.execute("; ".join(f"RESET {setting}" for setting in off))
    return found


def product_search_count(query: str, *, most: int) -> int:
    """How many active products `product_search(query)` would find, counting no further than
    `most` (a count of every match of a common word costs more than listing the first ones)."""
    query = (query or "").strip()
    products = Product.objects.filter(status=ProductStatus.ACTIVE)
    if query:
        products = products.filter(Q(name__icontains=query) | Q(sku=query) | Q(barcode=query))
    return products.order_by().values("pk")[:most].count()


def till_categories() -> list:
    """The active categories, for the till's grid of tiles."""
    from pos.models import Category

    return list(Category.objects.filter(is_active=True).order_by("name").only("pk", "name"))


def category_products(category_id: int, *, limit: int) -> QuerySet:
    """The first `limit` active products of a category by name: the till's tiles, for goods
    sold without scanning a barcode."""
    return Product.objects.filter(category_id=category_id, status=ProductStatus.ACTIVE).order_by(
        "name", "pk"
    )[:limit]


def as_phone(text: str) -> str | None:
    """`text` as a stored phone number (+2507XXXXXXXX) if it is a Rwandan mobile number typed
    any way (0788 123 456, +250 788-123-456, 788123456), else None."""
    try:
        return normalise_phone(text)
    except InvalidPhoneNumber:
        return None


def customer_lookup(phone_or_name: str, *, limit: int = 20) -> QuerySet:
    """Customers by phone first: a phone number typed any way finds its customer exactly;
    anything else is a part of an active customer's name."""
    text = (phone_or_name or "").strip()
    phone = as_phone(text)
    if phone is not None:
        return Customer.objects.filter(phone=phone)
    return Customer.objects.filter(name__icontains=text, is_active=True)[:limit]


def refund_history(sale):
    """A sale's refunds, oldest first, with their lines and payments (sale page, receipt)."""
    return (
        Refund.objects.filter(sale=sale)
        .select_related("created_by", "shift")
        .prefetch_related("lines", "payments")
        .order_by("created_at", "id")
    )


# --- Who sees which sale: the one rule (docs/security.md, "Access") ---------------------------


def visible_sales(user) -> QuerySet:
    """The sales `user` may look at, in the stores they work in (pos.scoping): every sale
    there with `pos.view_shift` (managers); else those
    they rang up and those of the shifts they work (their own, or a shared till's they signed
    in on). The receipt page, the printable invoice, the API's sales and invoices use it.

    Returns are the one exception (`returnable_sales`)."""
    from pos.models import Sale, Shift

    sales = scoping.for_user(Sale.objects.all(), user)
    if user.has_perm("pos.view_shift"):
        return sales
    worked = Shift.objects.filter(Q(cashier=user) | Q(joined__cashier=user)).values("pk")
    return sales.filter(Q(cashier=user) | Q(shift__in=worked))


def returnable_sales(user) -> QuerySet:
    """The sales `user` may take a return of, at the till or through the API: every sale of
    the stores they work in (pos.scoping).

    A customer brings goods back another day, to another till, with a receipt another cashier
    printed: the cashier on duty finds that sale (by its receipt's number or code, the
    customer, or day and total) and sees its lines to take the return. The refund itself needs
    `pos.refund_sale` (a cashier gets a manager's approval at the till) and is paid out of the
    user's own open shift (pos.services.refunds)."""
    from pos.models import Sale

    return scoping.for_user(Sale.objects.all(), user)


def visible_invoices(user) -> QuerySet:
    """The invoices `user` may open (the printable invoice, the API): those of the sales they
    may look at (`visible_sales`); with `pos.view_shift`, every invoice. Taking a payment on
    account is not limited to them: a customer pays what they owe at any till."""
    from pos.models import Invoice

    invoices = scoping.for_user(Invoice.objects.all(), user)
    if user.has_perm("pos.view_shift"):
        return invoices
    return invoices.filter(sale__in=visible_sales(user).values("pk"))


# --- Returns: finding the sale, and what a return would give back -----------------------------

SALES_FOUND = 50


def find_sales(
    user, text: str = "", *, day: datetime.date | None = None, amount: Decimal | None = None
) -> QuerySet:
    """Sales for a return, newest first: by receipt number (typed, or scanned from the
    receipt's code), by the customer's phone (or name), and/or by business day and total."""
    sales = returnable_sales(user).select_related("customer", "cashier", "register")
    text = (text or "").strip()
    if not (text or day or amount is not None):
        return sales.none()
    if text:
        by_number = Q(number__iexact=text) | Q(number__icontains=text)
        sales = sales.filter(by_number | Q(customer__in=customer_lookup(text).values("pk")))
    if day is not None:
        sales = sales.filter(business_day=day)
    if amount is not None:
        sales = sales.filter(total=amount)
    return sales.order_by("-created_at", "-pk")[:SALES_FOUND]


def sale_by_number(user, code: str):
    """The sale whose receipt number is `code` exactly (the receipt's scanned code), or None:
    for a return (`returnable_sales`)."""
    code = (code or "").strip()
    if not code or len(code) > 24:
        return None
    return returnable_sales(user).filter(number__iexact=code).first()


@dataclass(frozen=True)
class ReturnableLine:
    line: object  # the SaleLine
    returned: Decimal  # quantities in the product's stock unit
    left: Decimal
    refund_total: Decimal  # what returning `quantity` of it gives back
    quantity: Decimal  # typed, in the unit the line was sold in (1 carton)

    @property
    def factor(self) -> Decimal:
        """Stock units per unit sold: the carton's 24, or 1 for a line sold in its stock unit."""
        return self.line.unit_factor if self.line.unit_quantity is not None else Decimal(1)

    @property
    def returned_units(self) -> Decimal:
        """Already returned, in the unit sold (a refund is entered in it)."""
        return self.returned / self.factor

    @property
    def left_units(self) -> Decimal:
        return self.left / self.factor

    @property
    def returned_as(self) -> str:
        """`1 x Carton (24)`, `0.25 kg`: already returned, as the receipt says the sale."""
        from pos.quantities import show_quantity

        if self.line.unit_quantity is not None:
            units, factor = show_quantity(self.returned_units), show_quantity(self.factor)
            return f"{units} x {self.line.unit_name} ({factor})"
        text = show_quantity(self.returned)
        return f"{text} {self.line.unit_name}" if self.line.unit_name else text


def refund_preview(sale, quantities: dict[int, Decimal]) -> tuple[list[ReturnableLine], Decimal]:
    """Each line of `sale` with what is left to return, and what returning `quantities`
    ({sale line pk: quantity in the unit sold, as the refund service takes it}) would give
    back: the refund service's own arithmetic, on stock units."""
    from pos.models import RefundLine, ShopSettings
    from pos.quantities import summed
    from pos.services.refunds import refund_share

    places = ShopSettings.load().currency_decimal_places
    lines = list(sale.lines.order_by("pk"))
    done = {
        row["sale_line"]: row
        for row in RefundLine.objects.filter(sale_line__in=lines)
        .values("sale_line")
        .annotate(quantity=Sum("quantity"), total=Sum("total"), tax=Sum("tax"))
    }
    rows, zero = [], Decimal(0)
    for line in lines:
        before = done.get(line.pk, {})
        returned = summed(before.get("quantity"))
        left = line.quantity - returned
        typed = quantities.get(line.pk) or zero
        quantity = typed * line.unit_factor if line.unit_quantity is not None else typed
        total = zero
        if 0 < quantity <= left:
            total, _tax = refund_share(
                line_total=line.total,
                line_tax=line.tax,
                sold=line.quantity,
                returned=returned,
                refunded_total=before.get("total") or zero,
                refunded_tax=before.get("tax") or zero,
                quantity=quantity,
                places=places,
            )
        rows.append(ReturnableLine(line, returned, left, total, typed))
    return rows, sum((row.refund_total for row in rows), zero)


# --- Invoices and customer statements ---------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    at: datetime.datetime
    kind: str  # "invoice" (a debit) or "payment" (a credit)
    reference: str  # the invoice number; for a payment, "INV-000001" and its tender
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # the running balance after this row
    invoice_id: int


@dataclass(frozen=True)
class Statement:
    customer: Customer
    start: datetime.date | None
    end: datetime.date | None
    opening_balance: Decimal
    rows: list[StatementRow]
    closing_balance: Decimal
    total_debits: Decimal
    total_credits: Decimal


def customer_statement(
    customer: Customer, start: datetime.date | None = None, end: datetime.date | None = None
) -> Statement:
    """The customer's account, oldest first: invoices as debits, payments against them as
    credits, with the running balance; `start`/`end` are shop-local dates (both included) and
    everything before `start` is the opening balance.

    Cancelled invoices are left out (they were never owed; the model keeps no cancellation date
    to show a reversing row on), so the closing balance of an open-ended statement equals the
    balance the customer owes on invoices.
    """
    from pos.models import Invoice, Payment

    zero = Decimal(0)
    start_at = _local_midnight(start) if start else None
    end_before = _local_midnight(end + datetime.timedelta(days=1)) if end else None

    invoices = Invoice.objects.filter(customer=customer).exclude(status=Invoice.Status.CANCELLED)
    # Payments against invoices, and returns credited to an invoice still owed (negative
    # `account` payments of a refund): both are credits on the customer's account.
    payments = Payment.objects.filter(
        Q(invoice__customer=customer)
        | Q(refund__sale__invoice__customer=customer, tender="account")
    ).exclude(invoice__status=Invoice.Status.CANCELLED)
    opening = zero
    if start_at is not None:
        before_debits = invoices.filter(issued_at__lt=start_at).aggregate(t=Sum("total"))["t"]
        before_credits = sum(
            (
                abs(p)
                for p in payments.filter(created_at__lt=start_at).values_list("amount", flat=True)
            ),
            zero,
        )
        opening = (before_debits or zero) - (before_credits or zero)
        invoices = invoices.filter(issued_at__gte=start_at)
        payments = payments.filter(created_at__gte=start_at)
    if end_before is not None:
        invoices = invoices.filter(issued_at__lt=end_before)
        payments = payments.filter(created_at__lt=end_before)

    # (when, invoices before payments at the same instant, pk) orders the rows.
    entries = []
    for invoice in invoices.select_related("sale"):
        text = _invoice_text(invoice)
        entries.append(
            ((invoice.issued_at, 0, invoice.pk), "invoice", invoice, text, invoice.total, zero)
        )
    for payment in payments.select_related("invoice", "refund__sale__invoice"):
        if payment.refund_id is not None:
            invoice, credit = payment.refund.sale.invoice, -payment.amount
            text = f"Return {payment.refund.number} credited"
        else:
            invoice, credit = payment.invoice, payment.amount
            text = f"Payment, {payment.tender_label}"
            if payment.reference:
                text += f" ({payment.reference})"
        entries.append(
            ((payment.created_at, 1, payment.pk), "payment", invoice, text, zero, credit)
        )
    entries.sort(key=lambda entry: entry[0])
    rows = []
    balance = opening
    for (at, _, _), kind, invoice, text, debit, credit in entries:
        balance += debit - credit
        rows.append(
            StatementRow(at, kind, invoice.number, text, debit, credit, balance, invoice.pk)
        )
    return Statement(
        customer=customer,
        start=start,
        end=end,
        opening_balance=opening,
        rows=rows,
        closing_balance=balance,
        total_debits=sum((row.debit for row in rows), zero),
        total_credits=sum((row.credit for row in rows), zero),
    )


def open_invoices(customer) -> QuerySet:
    """What a customer still owes: their sent and part-paid invoices, the oldest due first (the
    order `pay_on_account` pays them in)."""
    from pos.models import Invoice

    return Invoice.objects.filter(customer=customer, status__in=Invoice.OPEN_STATUSES).order_by(
        "due_date", "issued_at", "pk"
    )


def account_payment(pk: int) -> list:
    """The payments one payment on account wrote (one per invoice it paid), given any of them:
    they share their customer, cashier and `created_at`."""
    from pos.models import Payment

    first = Payment.objects.filter(pk=pk, invoice__isnull=False).select_related("invoice").first()
    if first is None:
        return []
    return list(
        Payment.objects.filter(
            invoice__customer_id=first.invoice.customer_id,
            created_by_id=first.created_by_id,
            created_at=first.created_at,
        )
        .select_related("invoice__customer", "created_by", "shift__register__store")
        .order_by("pk")
    )


def overdue_invoices(today: datetime.date | None = None) -> QuerySet:
    """Open invoices past their due date (shop-local `today`), oldest due first."""
    from pos.models import Invoice

    today = today or timezone.localdate()
    return Invoice.objects.overdue(today).select_related("customer").order_by("due_date", "pk")


def _invoice_text(invoice) -> str:
    if invoice.sale is not None:
        return f"Invoice for sale {invoice.sale.number}, due {invoice.due_date:%Y-%m-%d}"
    return f"Invoice, due {invoice.due_date:%Y-%m-%d}"


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
