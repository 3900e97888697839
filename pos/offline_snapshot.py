"""The catalogue snapshot an offline till sells from: active products with their barcodes,
selling units, prices and price lists, the tax rules and the scale-label templates.

Its `version` is a hash of its content, so the till (and the HTTP cache, through the ETag)
knows when it changed; `taken_at` is when it was read, shown as "prices as of HH:MM".

It also carries the mode of the asking till (`mode`: "training" while a manager has put it in
training, pos.hooks.till_modes, else null), in the version too: the offline till shows the
TRAINING banner from it and rings up no sale offline while it says training (the heartbeat
answers the mode as well, so the till re-reads the snapshot soon after a manager switches).
"""

import hashlib

import orjson
from django.utils import timezone

from pos import hooks
from pos.models import (
    PriceList,
    PriceRule,
    Product,
    ProductStatus,
    ScaleLabelTemplate,
    SellingUnit,
    ShopSettings,
)
from pos.quantities import normalised


def _text(value) -> str | None:
    return None if value is None else str(value)


def till_mode_name(register_id: int | None) -> str | None:
    """The name of the mode the till works in ("training"), or None when it sells."""
    mode = hooks.till_mode(register_id) if register_id is not None else None
    return mode.name if mode is not None else None


def catalogue_snapshot(register_id: int | None = None) -> dict:
    """The snapshot for the till `register_id` (its mode); None: no till, no mode."""
    shop = ShopSettings.load()
    products = Product.objects.filter(status=ProductStatus.ACTIVE).order_by("pk")
    content = {
        "mode": till_mode_name(register_id),
        "shop": {
            "name": shop.name,
            "currency": shop.currency_code,
            "places": shop.currency_decimal_places,
            "vat_rate": str(shop.vat_rate),
            "prices_include_vat": shop.prices_include_vat,
            "cash_rounding": str(shop.cash_rounding),
        },
        "products": [
            {
                "id": p.pk,
                "name": p.name,
                "sku": p.sku,
                "barcode": p.barcode or "",
                "unit": p.get_unit_display() if p.unit != "piece" else "",
                "places": p.quantity_places,
                "price": str(p.retail_price),
                "scale_code": p.scale_code,
            }
            for p in products
        ],
        "units": [
            {
                "id": u.pk,
                "product": u.product_id,
                "label": u.label,
                "factor": str(normalised(u.factor)),
                "barcode": u.barcode or "",
                "price": str(u.shelf_price(u.product.retail_price)),
            }
            for u in SellingUnit.objects.filter(
                is_active=True, product__status=ProductStatus.ACTIVE
            )
            .select_related("product")
            .order_by("pk")
        ],
        "price_lists": [
            {"id": pl.pk, "name": pl.name}
            for pl in PriceList.objects.filter(is_active=True).order_by("pk")
        ],
        "price_rules": [
            {
                "list": r.price_list_id,
                "product": r.product_id,
                "unit": r.selling_unit_id,
                "min_quantity": _text(r.min_quantity),
                "price": str(r.price),
                "starts_on": _text(r.starts_on),
                "ends_on": _text(r.ends_on),
            }
            for r in PriceRule.objects.filter(product__status=ProductStatus.ACTIVE).order_by("pk")
        ],
        "scale_labels": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "item_digits": t.item_digits,
                "value_digits": t.value_digits,
                "value_kind": t.value_kind,
                "value_decimals": t.value_decimals,
            }
            for t in ScaleLabelTemplate.objects.filter(is_active=True).order_by("pk")
        ],
    }
    version = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return {"version": version, "taken_at": timezone.now().isoformat(), **content}
