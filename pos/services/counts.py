"""Stock counts (stock takes) of one store: counted quantities posted as count corrections of
that store's stock in one go."""

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
from pos.services.stock import MovementLine, Reference, apply_movements, stock_in, store_id_of


def count_differences(counted: dict[int, Decimal], *, store=None) -> list[dict]:
    """Review before posting: product, expected (the store's stock now), counted, difference."""
    products = Product.objects.filter(pk__in=counted).order_by("name")
    expected = stock_in(store, list(counted))
    return [
        {
            "product": p,
            "expected": expected[p.pk],
            "counted": counted[p.pk],
            "difference": counted[p.pk] - expected[p.pk],
        }
        for p in products
    ]


def post_stock_count(*, counted: dict, user, name: str = "", store=None) -> StockCount:
    """Record a stock count of `store` (a Store or pk; None: the first active store) and post
    each difference as a `count_correction` movement of that store.

    `counted` maps product id -> quantity counted, in the product's stock unit (at most its
    unit's decimal places). Differences are taken against the store's stock at the moment of
    posting (rows locked), so sales made during the count are not lost.
    """
    if not user.has_perm("pos.count_stock"):
        raise PermissionDenied(gettext("You are not allowed to post stock counts."))
    if not counted:
        raise InvalidQuantity(gettext("Enter at least one counted quantity."), field="counted")
    counted = {pk: to_decimal(qty, field="counted") for pk, qty in counted.items()}
    if any(qty < 0 for qty in counted.values()):
        raise InvalidQuantity(_("Counted quantities must be 0 or more."), field="counted")
    store_id = store_id_of(store)
    with transaction.atomic():
        locked, levels = locks.stock(store_id, counted)
        products = list(locked.values())
        on_hand = {pk: level.on_hand for pk, level in levels.items()}
        for p in products:
            check_places(
                counted[p.pk],
                p.quantity_places,
                name=p.name,
                unit=p.get_unit_display(),
                field="counted",
            )
        count = StockCount.objects.create(
            store_id=store_id,
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
                    expected_quantity=on_hand[p.pk],
                    counted_quantity=counted[p.pk],
                )
                for p in products
            ]
        )
        ref = Reference.to(count)
        lines = [
            MovementLine(
                p.pk,
                counted[p.pk] - on_hand[p.pk],
                MovementKind.COUNT_CORRECTION,
                p.cost_price,
                f"Stock count: counted {p.format_quantity(counted[p.pk], localized=False)}",
                ref,
            )
            for p in products
            if counted[p.pk] != on_hand[p.pk]
        ]
        # A count states the truth on the shelf: it may bring negative stock back to zero.
        movements = apply_movements(
            lines=lines, user=user, allow_negative=True, store=store_id, locked=(locked, levels)
        )
        audit.record_on_commit(
            action="stock.count_posted",
            actor=user,
            target=count,
            changes={
                str(p.pk): [as_json(on_hand[p.pk]), as_json(counted[p.pk])]
                for p in products
                if counted[p.pk] != on_hand[p.pk]
            },
            details={"products_counted": len(products), "store": store_id},
        )
        journal.append_stock(JournalKind.STOCK_COUNT, movements, reference=f"{ref.type}:{count.pk}")
    return count
