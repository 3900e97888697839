"""Stock per store (issue 29): each product's stock in each store is a StockLevel; every
movement, low-stock alert, stock count and purchase order names its store.

Movements recorded before go to the first store (the shop as it was), except those of sales and
refunds made on the tills of a store added since (pos 0034): they go to that store. Each store's
level of each product is the sum of its movements. Product.stock_on_hand stays: the total over
the stores (see its model).
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Sum

import pos.models.stores


def stock_per_store(apps, schema_editor):
    Store = apps.get_model("pos", "Store")
    Product = apps.get_model("pos", "Product")
    StockLevel = apps.get_model("pos", "StockLevel")
    StockMovement = apps.get_model("pos", "StockMovement")
    Sale = apps.get_model("pos", "Sale")
    Refund = apps.get_model("pos", "Refund")
    stores = list(Store.objects.order_by("pk"))
    first = stores[0] if stores else Store.objects.create(name="My shop", code="MAIN")
    StockMovement.objects.update(store=first)
    for name in ("LowStockAlert", "StockCount", "PurchaseOrder"):
        apps.get_model("pos", name).objects.update(store=first)
    for store in stores[1:]:
        sales = Sale.objects.filter(register__store=store).values_list("pk", flat=True)
        refunds = Refund.objects.filter(shift__register__store=store).values_list("pk", flat=True)
        for kind, ids in (("pos.sale", sales), ("pos.refund", refunds)):
            ids = [str(pk) for pk in ids]
            for start in range(0, len(ids), 500):
                StockMovement.objects.filter(
                    reference_type=kind, reference_id__in=ids[start : start + 500]
                ).update(store=store)
    totals = {
        (row["store"], row["product"]): row["total"]
        for row in StockMovement.objects.values("store", "product").annotate(total=Sum("quantity"))
    }
    products = list(Product.objects.values_list("pk", flat=True))
    StockLevel.objects.bulk_create(
        [
            StockLevel(store_id=store.pk, product_id=pk, on_hand=totals.get((store.pk, pk), 0))
            for store in stores or [first]
            for pk in products
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pos", "0035_store_staff"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StockLevel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "on_hand",
                    models.DecimalField(
                        decimal_places=3,
                        default=0,
                        editable=False,
                        max_digits=14,
                        verbose_name="stock on hand",
                    ),
                ),
                (
                    "reorder_level",
                    models.DecimalField(
                        blank=True,
                        decimal_places=3,
                        help_text="This store's own; empty: the product's reorder level.",
                        max_digits=14,
                        null=True,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="reorder level",
                    ),
                ),
            ],
            options={
                "verbose_name": "stock level",
                "verbose_name_plural": "stock levels",
                "ordering": ["store_id", "product_id"],
            },
        ),
        migrations.AddField(
            model_name="lowstockalert",
            name="store",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AddField(
            model_name="purchaseorder",
            name="store",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="delivered to",
            ),
        ),
        migrations.AddField(
            model_name="stockcount",
            name="store",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="store",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="reorder_level",
            field=models.DecimalField(
                decimal_places=3,
                default=0,
                help_text="Every store's, unless the store sets its own.",
                max_digits=14,
                validators=[django.core.validators.MinValueValidator(0)],
                verbose_name="reorder level",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="stock_on_hand",
            field=models.DecimalField(
                decimal_places=3,
                default=0,
                editable=False,
                max_digits=14,
                verbose_name="stock on hand (all stores)",
            ),
        ),
        migrations.AddIndex(
            model_name="stockmovement",
            index=models.Index(
                fields=["store", "product", "-created_at"], name="pos_stockmo_store_i_6e9a80_idx"
            ),
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="product",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="stock_levels",
                to="pos.product",
                verbose_name="product",
            ),
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stock_levels",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.UniqueConstraint(
                fields=("store", "product"), name="one_stock_level_per_store"
            ),
        ),
        migrations.RunPython(stock_per_store, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="lowstockalert",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AlterField(
            model_name="purchaseorder",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="delivered to",
            ),
        ),
        migrations.AlterField(
            model_name="stockcount",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        # The defaults (functions of today's models) after every row has its store.
        migrations.AlterField(
            model_name="purchaseorder",
            name="store",
            field=models.ForeignKey(
                default=pos.models.stores.default_store_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="delivered to",
            ),
        ),
        migrations.AlterField(
            model_name="stockcount",
            name="store",
            field=models.ForeignKey(
                default=pos.models.stores.default_store_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pos.store",
                verbose_name="store",
            ),
        ),
    ]
