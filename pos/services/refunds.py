"""Refunds (returns): against a sale's lines, or without a receipt; always new rows.

A sale line can be returned up to the quantity sold minus what was already returned, counted in
stock units (a line of 2 cartons of 24 is 48 pieces; a refund is asked in the unit sold, 1
carton, and caps on the pieces); the check
runs inside the transaction, after the original lines are locked, so two tills refunding the
same line at once cannot both pass. Money: a line's refunds are its actual paid price share,
computed on the cumulative quantity returned,

    refunded after k units = to_currency(line.total × k / line.quantity)

so each refund is the difference between two such figures, the refunds of a line never add up
to more than its total, and a fully returned line gives back exactly its total (VAT likewise
from the line's tax). The refund is paid out as a negative Payment in the refund's shift
(cash by default, never more cash than the drawer should hold). When the sale was on account
and its invoice is still owed, the refund first credits that invoice (a negative `account`
payment of the refund, and less owed on the invoice and by the customer): goods bought on credit
and returned unpaid are never paid out in cash.

Stock: `restock=True` puts the item back through a `refund` movement of the store of the till
that refunds it. `restock=False` (damaged) writes no stock movement: the sale's movement took
the item out of stock and it never came back onto the shelf, so stock on hand stays right and
no `damaged` write-off is needed.

Lock order (pos.services.locks): the sale row (serialises voids and refunds of one sale), its
lines (by pk), the products with that store's levels (by pk), the customer, the sale's invoice,
the register, the shift, the refund number sequence.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts import audit
from core.errors import NotFound
from pos import errors, hooks
from pos.journal import events
from pos.models import (
    Invoice,
    LedgerKind,
    MobileProvider,
    MovementKind,
    Payment,
    Product,
    Refund,
    RefundLine,
    Sale,
    Shift,
    ShopSettings,
    Tender,
)
from pos.money import format_money, split_vat, to_currency
from pos.quantities import as_json, check_places, to_decimal
from pos.services import approvals, journal, ledger, locks
from pos.services.customers import record_customer_purchase
from pos.services.sequences import next_number
from pos.services.shifts import expected_cash
from pos.services.stock import MovementLine, Reference, apply_movements, till_store_id

ZERO = Decimal(0)
MAX_LINES = 200
MAX_QUANTITY = 10_000
MAX_REASON = 200


@dataclass(frozen=True)
class RefundLineInput:
    sale_line_id: int
    quantity: Decimal | int  # in the unit the line was sold in (1 carton; 0.250 kg)
    restock: bool = True  # False: damaged, not back on the shelf


@dataclass(frozen=True)
class NoReceiptLine:
    product_id: int
    quantity: Decimal | int  # in the product's stock unit
    unit_price: Decimal  # entered by the manager, VAT included; at most the retail price
    restock: bool = True


@dataclass(frozen=True)
class _Planned:
    product_id: int
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    tax: Decimal
    restock: bool
    unit_cost: Decimal | None
    tax_rate: Decimal
    sale_line_id: int | None = None


def refund_share(
    *,
    line_total: Decimal,
    line_tax: Decimal,
    sold: Decimal,
    returned: Decimal,
    refunded_total: Decimal,
    refunded_tax: Decimal,
    quantity: Decimal,
    places: int,
) -> tuple[Decimal, Decimal]:
    """(total, tax) to give back for `quantity` more (stock units) of a line of which `returned`
    were already refunded for `refunded_total` / `refunded_tax`."""
    after = returned + quantity
    if after >= sold:  # the last units take exactly what is left
        return line_total - refunded_total, line_tax - refunded_tax
    total = to_currency(line_total * after / sold, places) - refunded_total
    tax = to_currency(line_tax * after / sold, places) - refunded_tax
    total = min(max(total, ZERO), line_total - refunded_total)
    tax = min(max(tax, ZERO), line_tax - refunded_tax)
    return total, tax


def refund_sale(
    *,
    sale: Sale,
    shift: Shift,
    user,
    lines: list[RefundLineInput],
    reason: str,
    tender: str = Tender.CASH,
    approved_by=None,
    reason_code: str = "",
) -> Refund:
    """Refund (part of) a sale, line by line, paid out of `shift`. Needs `pos.refund_sale`: the
    user's own, or that of `approved_by`, the manager who approved it at the till (then audited
    as `sale.refund_override` in this transaction). `reason_code`: the coded reason chosen at
    the till (pos.hooks.refund_reasons), handed to what is plugged in (fiscal signing)."""
    at_the_till = user
    _check_shift_user(shift, at_the_till)
    user = approvals.authoriser(
        user=user,
        approved_by=approved_by,
        permission="pos.refund_sale",
        refusal="Only a manager can refund a sale.",
    )
    if not isinstance(sale, Sale):
        raise errors.RefundNotAllowed(gettext("Only a sale can be refunded, not a refund."))
    reason = _reason(reason)
    tender = _tender(tender, has_customer=sale.customer_id is not None)
    quantities = _check_lines(lines, "sale_line_id")
    if len({line.sale_line_id for line in lines}) != len(lines):
        raise errors.InvalidQuantity(gettext("Each sale line can appear only once."), field="lines")

    with transaction.atomic():
        sale = locks.sale(sale.pk)
        if sale is None:
            raise NotFound(gettext("Unknown sale."), field="sale")
        if sale.status == Sale.Status.VOIDED:
            raise errors.RefundNotAllowed(
                gettext("Sale %(number)s was voided; nothing to refund.") % {"number": sale.number}
            )
        ids = [line.sale_line_id for line in lines]
        sale_lines = locks.sale_lines(sale, ids)
        already = {
            row["sale_line"]: row
            for row in RefundLine.objects.filter(sale_line__in=list(sale_lines))
            .values("sale_line")
            .annotate(quantity=Sum("quantity"), total=Sum("total"), tax=Sum("tax"))
        }
        places = ShopSettings.load().currency_decimal_places
        units = Product.objects.only("name", "unit", "quantity_places").in_bulk(
            {line.product_id for line in sale_lines.values()}
        )
        planned = []
        for i, (line, quantity) in enumerate(zip(lines, quantities, strict=True)):
            sale_line = sale_lines.get(line.sale_line_id)
            if sale_line is None:
                raise NotFound(
                    gettext("Sale %(number)s has no line %(sale_line_id)s.")
                    % {"number": sale.number, "sale_line_id": line.sale_line_id},
                    field=f"lines.{i}.sale_line_id",
                )
            product = units[sale_line.product_id]
            if sale_line.unit_quantity is not None:  # sold in a unit: whole units come back
                check_places(
                    quantity, 0, name=sale_line.unit_name, unit="", field=f"lines.{i}.quantity"
                )
                quantity = quantity * sale_line.unit_factor
            _check_places(product, quantity, i)
            done = already.get(sale_line.pk, {})
            returned = done.get("quantity") or ZERO
            left = sale_line.quantity - returned
            if quantity > left:
                show = product.format_quantity
                raise errors.RefundExceedsSold(
                    gettext(
                        "Only %(left)s of %(product_name)s can be returned (%(quantity)s sold, "
                        "%(returned)s already returned)."
                    )
                    % {
                        "left": show(left),
                        "product_name": sale_line.product_name,
                        "quantity": show(sale_line.quantity),
                        "returned": show(returned),
                    },
                    field=f"lines.{i}.quantity",
                )
            total, tax = refund_share(
                line_total=sale_line.total,
                line_tax=sale_line.tax,
                sold=sale_line.quantity,
                returned=returned,
                refunded_total=done.get("total") or ZERO,
                refunded_tax=done.get("tax") or ZERO,
                quantity=quantity,
                places=places,
            )
            planned.append(
                _Planned(
                    product_id=sale_line.product_id,
                    quantity=quantity,
                    unit_price=to_currency(total / quantity, places),
                    total=total,
                    tax=tax,
                    restock=line.restock,
                    unit_cost=sale_line.unit_cost,
                    tax_rate=sale_line.tax_rate,
                    sale_line_id=sale_line.pk,
                )
            )
        refund = _write_refund(
            sale=sale,
            shift=shift,
            user=user,
            planned=planned,
            reason=reason,
            tender=tender,
            reason_code=reason_code,
        )
        approvals.record_override(
            action="sale.refund_override",
            authorised_by=user,
            user=at_the_till,
            target=sale,
            details={"refund": refund.number, "total": str(refund.total)},
        )
        audit.record_on_commit(
            action="sale.refunded",
            actor=user,
            target=sale,
            details={
                "refund": refund.number,
                "total": str(refund.total),
                "tender": tender,
                "reason": reason,
            },
        )
    return refund


def refund_without_receipt(
    *,
    shift: Shift,
    user,
    lines: list[NoReceiptLine],
    reason: str,
    tender: str = Tender.CASH,
) -> Refund:
    """Take goods back without a receipt at a price the manager enters, at most the retail price
    (needs `pos.refund_without_receipt`; audited)."""
    if not user.has_perm("pos.refund_without_receipt"):
        raise errors.NotAllowed(gettext("Only a manager can refund without a receipt."))
    reason = _reason(reason)
    tender = _tender(tender, has_customer=False)
    _check_shift_user(shift, user)
    quantities = _check_lines(lines, "product_id")
    shop = ShopSettings.load()
    places = shop.currency_decimal_places
    prices = [
        _price(line.unit_price, places, f"lines.{i}.unit_price") for i, line in enumerate(lines)
    ]

    with transaction.atomic():
        ids = sorted({line.product_id for line in lines})
        products = locks.products(ids)
        planned = []
        for i, (line, price, quantity) in enumerate(zip(lines, prices, quantities, strict=True)):
            product = products.get(line.product_id)
            if product is None:
                raise NotFound(
                    gettext("Unknown product %(product_id)s.") % {"product_id": line.product_id},
                    field=f"lines.{i}.product_id",
                )
            _check_places(product, quantity, i)
            if price > product.retail_price:
                raise errors.InvalidPrice(
                    gettext("%(name)s cannot be refunded above its price %(retail_price)s.")
                    % {"name": product.name, "retail_price": format_money(product.retail_price)},
                    field=f"lines.{i}.unit_price",
                )
            total = to_currency(price * quantity, places)
            _net, tax = split_vat(total, shop.vat_rate, places)
            planned.append(
                _Planned(
                    product_id=product.pk,
                    quantity=quantity,
                    unit_price=price,
                    total=total,
                    tax=tax,
                    restock=line.restock,
                    unit_cost=product.cost_price,
                    tax_rate=shop.vat_rate,
                )
            )
        refund = _write_refund(
            sale=None, shift=shift, user=user, planned=planned, reason=reason, tender=tender
        )
        audit.record_on_commit(
            action="refund.without_receipt",
            actor=user,
            target=refund,
            details={
                "total": str(refund.total),
                "tender": tender,
                "reason": reason,
                "lines": [
                    {
                        "product_id": p.product_id,
                        "quantity": as_json(p.quantity),
                        "price": str(p.unit_price),
                    }
                    for p in planned
                ],
            },
        )
    return refund


def _write_refund(
    *, sale, shift, user, planned: list[_Planned], reason, tender, reason_code=""
) -> Refund:
    total = sum((p.total for p in planned), ZERO)
    tax_total = sum((p.tax for p in planned), ZERO)
    restocked = [p for p in planned if p.restock]
    # What comes back goes into the stock of the store of the till refunding it.
    store_id = till_store_id(shift.register_id, shift) if restocked else None
    if restocked:  # products (with the store's levels) next, in pk order, before the customer
        locks.stock(store_id, [p.product_id for p in restocked])
    credit, invoice, payout_on_account = ZERO, None, ZERO
    if sale is not None and sale.customer_id is not None:
        locks.customer(sale.customer_id)
        invoice = locks.invoice_of_sale(sale, statuses=Invoice.OPEN_STATUSES)
        if invoice is not None:
            credit = min(total, invoice.balance_due)
            invoice.credited += credit
            if invoice.balance_due == ZERO:
                settled = invoice.amount_paid > ZERO
                invoice.status = Invoice.Status.PAID if settled else Invoice.Status.CANCELLED
            invoice.save(update_fields=["credited", "status"])
        payout_on_account = total - credit if tender == Tender.ACCOUNT else ZERO
    payout = total - credit
    register = locks.register(shift.register_id)
    locked_shift = locks.shift(shift.pk)
    if locked_shift.status != Shift.Status.OPEN:
        raise errors.ShiftClosed(
            gettext("This shift is closed; refund from an open shift."), field="shift"
        )
    in_drawer = to_currency(expected_cash(locked_shift))
    if tender == Tender.CASH and payout > in_drawer:
        raise errors.NotEnoughCashInDrawer(
            gettext(
                "The drawer should hold %(in_drawer)s in cash; this refund needs "
                "%(payout)s. Refund by another tender or add cash first."
            )
            % {"in_drawer": format_money(in_drawer), "payout": format_money(payout)},
            field="tender",
        )
    number = next_number(f"refund:{register.code}")
    refund = Refund.objects.create(
        number=f"{register.code}-RF-{number:06d}",
        sale=sale,
        shift=locked_shift,
        created_by=user,
        reason=reason,
        tender=tender,
        total=total,
        tax_total=tax_total,
    )
    if sale is not None and sale.customer_id is not None:  # the customer is locked above
        record_customer_purchase(
            customer_id=sale.customer_id,
            amount=-total,
            on_credit=-(credit + payout_on_account),
            event=f"refund:{refund.pk}",
            sale_id=sale.pk,
        )
        ledger.take_back_points(
            sale=sale,
            customer=locks.customer(sale.customer_id),
            event=f"refund:{refund.pk}",
            part=total / sale.total if sale.total else Decimal(1),
        )
    if tender == Tender.STORE_CREDIT:  # the customer is locked above
        ledger.apply(
            kind=LedgerKind.STORE_CREDIT,
            key=f"refund:{refund.pk}/store_credit",
            amount=payout,
            customer=locks.customer(sale.customer_id),
            sale_id=sale.pk,
        )
    refund_lines = RefundLine.objects.bulk_create(
        [
            RefundLine(
                refund=refund,
                sale_line_id=p.sale_line_id,
                product_id=p.product_id,
                quantity=p.quantity,
                unit_price=p.unit_price,
                total=p.total,
                tax=p.tax,
                tax_rate=p.tax_rate,
                restock=p.restock,
            )
            for p in planned
        ]
    )
    payouts = [(Tender.ACCOUNT, credit, f"Credit to {invoice}"), (tender, payout, refund.number)]
    provider = _mobile_provider(sale) if tender == Tender.MOBILE_MONEY else ""
    payments = Payment.objects.bulk_create(
        [
            Payment(
                refund=refund,
                shift=locked_shift,
                tender=paid_in,
                amount=-amount,
                reference=reference,
                provider=provider if paid_in == Tender.MOBILE_MONEY else "",
                created_by=user,
                created_at=refund.created_at,
            )
            for paid_in, amount, reference in payouts
            if amount
        ]
    )
    label = f"Refund {refund.number}"
    apply_movements(
        lines=[
            MovementLine(
                p.product_id,
                p.quantity,
                MovementKind.REFUND,
                p.unit_cost,
                reason=reason,
                reference=Reference("pos.refund", str(refund.pk), label),
            )
            for p in restocked
        ],
        user=user,
        allow_negative=True,  # stock only comes back
        store=store_id,
    )
    # Fiscal signing's outbox row (pos.hooks), in this transaction.
    hooks.run(hooks.refund_recorded, refund, refund_lines, reason_code=reason_code)
    journal.append(events.refund_event(refund, locked_shift.register_id, refund_lines, payments))
    return refund


def _reason(reason) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired(gettext("Say why the goods are returned."), field="reason")
    return reason[:MAX_REASON]


def _mobile_provider(sale) -> str:
    """Mobile Money goes back on the network the sale was paid on (MTN without one)."""
    paid = None
    if sale is not None:
        paid = (
            Payment.objects.filter(sale=sale, tender=Tender.MOBILE_MONEY, amount__gt=0)
            .order_by("-amount", "pk")
            .values_list("provider", flat=True)
            .first()
        )
    return paid or MobileProvider.MTN


def _tender(tender, *, has_customer: bool) -> str:
    if tender not in Tender.values:
        raise errors.InvalidTender(
            gettext("Unknown tender %(tender)s.") % {"tender": repr(tender)}, field="tender"
        )
    if tender == Tender.ACCOUNT and not has_customer:
        raise errors.InvalidTender(
            gettext("Only a sale to a customer can be refunded to their account."), field="tender"
        )
    if tender == Tender.STORE_CREDIT and not has_customer:
        raise errors.InvalidTender(
            gettext("Only a sale to a customer can be refunded as store credit."), field="tender"
        )
    if tender in (Tender.GIFT_CARD, Tender.POINTS):
        raise errors.InvalidTender(
            gettext("A refund is paid in cash, Mobile Money, card or as store credit."),
            field="tender",
        )
    return str(tender)


def _check_shift_user(shift: Shift, user) -> None:
    if shift.cashier_id != user.pk and not user.has_perm("pos.close_any_shift"):
        raise errors.NotAllowed(gettext("This is another cashier's shift."))


def _check_lines(lines, id_field: str) -> list[Decimal]:
    """Check the lines' shape; return their quantities as Decimals."""
    if not lines:
        raise errors.InvalidQuantity(gettext("Choose what is returned."), field="lines")
    if len(lines) > MAX_LINES:
        raise errors.InvalidQuantity(
            gettext("At most %(max_lines)s lines.") % {"max_lines": MAX_LINES}, field="lines"
        )
    quantities = []
    for i, line in enumerate(lines):
        if not isinstance(getattr(line, id_field), int) or isinstance(
            getattr(line, id_field), bool
        ):
            raise NotFound(gettext("Choose an item."), field=f"lines.{i}.{id_field}")
        quantity = to_decimal(line.quantity, field=f"lines.{i}.quantity")
        if not 0 < quantity <= MAX_QUANTITY:
            raise errors.InvalidQuantity(
                _("Quantity must be more than 0 and at most %(max)s.") % {"max": MAX_QUANTITY},
                field=f"lines.{i}.quantity",
            )
        if not isinstance(line.restock, bool):
            raise errors.InvalidQuantity(
                gettext("Say whether it goes back on the shelf."), field=f"lines.{i}.restock"
            )
        quantities.append(quantity)
    return quantities


def _check_places(product: Product, quantity: Decimal, i: int) -> None:
    check_places(
        quantity,
        product.quantity_places,
        name=product.name,
        unit=product.get_unit_display(),
        field=f"lines.{i}.quantity",
    )


def _price(value, places: int, field_name: str) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        raise errors.InvalidPrice(gettext("Enter a price."), field=field_name) from None
    if not amount.is_finite() or amount <= 0:
        raise errors.InvalidPrice(gettext("The price must be more than 0."), field=field_name)
    if amount != to_currency(amount, places):
        raise errors.InvalidPrice(
            gettext("Use at most %(places)s decimal places.") % {"places": places}, field=field_name
        )
    return to_currency(amount, places)
