"""Proforma quotes (RRA sales type P, printed PS): priced from the shelf, signed by the VSDC
with the device's own proforma counter, printed with their SDC block. A proforma moves no
stock and no money, is no sale and counts in no X/Z report."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext

from core.errors import DomainError
from fiscal.device import device_for_register
from fiscal.models import Device, OutboxItem, Proforma, ProformaLine
from pos.models import Product, SellingUnit


class ProformaRefused(DomainError):
    code = "proforma_refused"


@dataclass(frozen=True)
class QuoteLine:
    product: Product
    quantity: Decimal


def _check(lines: list[QuoteLine], buyer_tin: str) -> None:
    problems = {}
    if not lines:
        problems["lines"] = [gettext("Add at least one line.")]
    if any(line.quantity <= 0 for line in lines):
        problems["lines"] = [gettext("Each quantity must be more than zero.")]
    if buyer_tin and not (len(buyer_tin) == 9 and buyer_tin.isdigit()):
        problems["buyer_tin"] = [gettext("A TIN is 9 digits.")]
    if problems:
        raise ProformaRefused(next(iter(problems.values()))[0], fields=problems)


def visible_to(queryset, user, store_ids):
    """Staff per store (pos.scoping.STORE_SCOPES): the quotes signed by the devices of
    `store_ids`, and those `user` wrote (a quote written in the back office is signed by the
    main device, whichever store its author works in)."""
    return queryset.filter(Q(item__device__store__in=store_ids) | Q(created_by=user))


@transaction.atomic
def create_proforma(
    *,
    user,
    lines: list[QuoteLine],
    customer_name: str = "",
    buyer_tin: str = "",
    register_id: int | None = None,
) -> Proforma:
    """Write the proforma and queue it for signing with the next proforma number of the device
    of the till it is made at (`register_id`: its store's branch signs it, like the till's
    sales), or of the main device when made in the back office.

    :raises ProformaRefused: no line, a quantity not above zero, a bad TIN, or no device.
    """
    buyer_tin = (buyer_tin or "").strip()
    _check(lines, buyer_tin)
    if register_id is not None:
        device = device_for_register(register_id)
    else:
        device = (
            Device.objects.filter(is_active=True, initialised_at__isnull=False)
            .order_by("pk")
            .first()
        )
    if device is None:
        raise ProformaRefused(gettext("No fiscal device is initialised: nothing can be signed."))
    proforma = Proforma.objects.create(
        customer_name=customer_name.strip()[:60], buyer_tin=buyer_tin, created_by=user
    )
    ProformaLine.objects.bulk_create(
        ProformaLine(
            proforma=proforma,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.product.retail_price,
        )
        for line in lines
    )
    # One UPDATE moves the counter (like the invoice number's): it holds the device's row until
    # commit, so a concurrent quote waits and takes the next number; none is skipped or shared.
    Device.objects.filter(pk=device.pk).update(last_proforma_number=F("last_proforma_number") + 1)
    number = Device.objects.values_list("last_proforma_number", flat=True).get(pk=device.pk)
    OutboxItem.objects.create(
        device=device,
        kind=OutboxItem.Kind.PROFORMA,
        invoice_number=number,
        proforma=proforma,
        created_at=proforma.created_at,
    )
    return proforma


def quote_lines_of(bill) -> list[QuoteLine]:
    """The till's cart (`pos.register.cart.Bill`) as quote lines: each product in its stock
    quantity (a carton of 24 quoted as 24 pieces), at the shelf price like every proforma; the
    cart itself is left as it was."""
    unit_ids = {line.unit_id for line in bill.lines if line.unit_id is not None}
    factors = dict(SellingUnit.objects.filter(pk__in=unit_ids).values_list("pk", "factor"))
    return [
        QuoteLine(
            line.product,
            line.quantity * factors[line.unit_id] if line.unit_id is not None else line.quantity,
        )
        for line in bill.lines
    ]


def till_actions(user) -> list[tuple[str, str]]:
    """The till's link to quote its cart (pos.hooks.till_actions), when signing is on."""
    if settings.FISCAL_BACKEND == "none" or not user.has_perm("pos.sell"):
        return []
    return [(gettext("Proforma quote"), reverse("fiscal:till_proforma"))]
