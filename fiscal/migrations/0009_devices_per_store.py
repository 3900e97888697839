"""Fiscal per branch (issues 25 and 29), the columns first: a device belongs to a store
(nullable until 0009 fills it), an item is registered per device (ItemRegistration), and the
outbox carries item registrations (kind "item")."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("fiscal", "0008_training_lines_lock_no_product"),
        ("pos", "0034_stores"),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="store",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="fiscal_devices",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AddField(
            model_name="item",
            name="changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="codes changed at"
            ),
        ),
        migrations.CreateModel(
            name="ItemRegistration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "registered_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="registered at"),
                ),
                ("fingerprint", models.CharField(blank=True, max_length=64)),
                ("error", models.CharField(blank=True, max_length=500, verbose_name="last error")),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="fiscal.device",
                        verbose_name="fiscal device",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="registrations",
                        to="fiscal.item",
                        verbose_name="fiscal item",
                    ),
                ),
            ],
            options={
                "verbose_name": "item registration",
                "verbose_name_plural": "item registrations",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("device", "item"), name="one_registration_per_device"
                    )
                ],
            },
        ),
        migrations.AlterField(
            model_name="outboxitem",
            name="kind",
            field=models.CharField(
                choices=[
                    ("sale", "Sale"),
                    ("refund", "Refund"),
                    ("void", "Void"),
                    ("proforma", "Proforma"),
                    ("training", "Training"),
                    ("stock", "Stock movement"),
                    ("stock_master", "Stock level"),
                    ("item", "Item registration"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="outboxitem",
            name="item",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="outbox",
                to="fiscal.item",
            ),
        ),
    ]
