"""Stock counts (stock takes): counted quantities posted as count corrections in one go."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts import audit
from core.errors import PermissionDenied
from pos.errors import InvalidQuantity
from pos.models import (
    JournalKind,
    MovementKind,
    Product,
    StockCount,
    StockCountLine,
    StockCountStatus,
)
from pos.quantities import as_json, check_places, to_decimal
from pos.services import journal, locks
from pos.services.stock import MovementLine, Reference, apply_movements


def count_differences(counted: dict[int, Decimal]) -> list[dict]:
    """Review before posting: product, expected (stock now), counted, difference."""
    products = Product.objects.filter(pk__in=counted).order_by("name")
    return [
        {
            "product": p,
            "expected": p.stock_on_hand,
            "counted": counted[p.pk],
            "difference": counted[p.pk] - p.stock_on_hand,
        }
        for p in products
    ]


def post_stock_count(*, counted: dict, user, name: str = "") -> StockCount:
    """Record a stock count and post each difference as a `count_correction` movement.

    `counted` maps product id -> quantity counted, in the product's stock unit (at most its
    unit's decimal places). Differences are taken against the stock at the
    moment of posting (rows locked), so sales made during the count are not lost.
    """
    if not user.has_perm("pos.count_stock"):
        raise PermissionDenied(gettext("You are not allowed to post stock counts."))
    if not counted:
        raise InvalidQuantity(gettext("Enter at least one counted quantity."), field="counted")
    counted = {pk: to_decimal(qty, field="counted") for pk, qty in counted.items()}
    if any(qty < 0 for qty in counted.values()):
        raise InvalidQuantity(_("Counted quantities must be 0 or more."), field="counted")
    with transaction.atomic():
        products = list(locks.products(counted).values())
        for p in products:
            check_places(
                counted[p.pk],
                p.quantity_places,
                name=p.name,
                unit=p.get_unit_display(),
                field="counted",
            )
        count = StockCount.objects.create(
            name=name,
            created_by=user,
            posted_by=user,
            status=StockCountStatus.POSTED,
            posted_at=timezone.now(),
        )
        StockCountLine.objects.bulk_create(
            [
                StockCountLine(
                    count=count,
                    product=p,
                    expected_quantity=p.stock_on_hand,
                    counted_quantity=counted[p.pk],
                )
                for p in products
            ]
        )
        ref = Reference.to(count)
        lines = [
            MovementLine(
                p.pk,
                counted[p.pk] - p.stock_on_hand,
                MovementKind.COUNT_CORRECTION,
                p.cost_price,
                f"Stock count: counted {p.format_quantity(counted[p.pk], localized=False)}",
                ref,
            )
            for p in products
            if counted[p.pk] != p.stock_on_hand
        ]
        # A count states the truth on the shelf: it may bring negative stock back to zero.
        movements = apply_movements(lines=lines, user=user, allow_negative=True)
        audit.record_on_commit(
            action="stock.count_posted",
            actor=user,
            target=count,
            changes={
                str(p.pk): [as_json(p.stock_on_hand), as_json(counted[p.pk])]
                for p in products
                if counted[p.pk] != p.stock_on_hand
            },
            details={"products_counted": len(products)},
        )
        journal.append_stock(JournalKind.STOCK_COUNT, movements, reference=f"{ref.type}:{count.pk}")
    return count
