"""Fiscal per branch (issues 25 and 29), the old columns gone: the store's branch id is the one
truth of a device's bhfId, one active device per store; an item's registration is per device."""

import django.db.models.deletion
from django.db import migrations, models


def branch_ids_back(apps, schema_editor):
    """Going back: each device takes its store's branch id again, before the old constraint
    (one active device per TIN and branch id) comes back."""
    Device = apps.get_model("fiscal", "Device")
    for device in Device.objects.select_related("store"):
        Device.objects.filter(pk=device.pk).update(branch_id=device.store.branch_id)


class Migration(migrations.Migration):
    dependencies = [("fiscal", "0010_devices_per_store_data")]

    operations = [
        migrations.RemoveConstraint(
            model_name="device", name="one_active_fiscal_device_per_branch"
        ),
        migrations.RunPython(migrations.RunPython.noop, branch_ids_back),
        migrations.RemoveField(model_name="device", name="branch_id"),
        migrations.AlterField(
            model_name="device",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="fiscal_devices",
                to="pos.store",
                verbose_name="store",
            ),
        ),
        migrations.AddConstraint(
            model_name="device",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True)),
                fields=("store",),
                name="one_active_fiscal_device_per_store",
            ),
        ),
        migrations.RemoveField(model_name="item", name="registered_at"),
        migrations.RemoveField(model_name="item", name="registered_fingerprint"),
        migrations.RemoveField(model_name="item", name="error"),
    ]
