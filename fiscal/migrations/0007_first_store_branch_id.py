"""The first store (pos migration 0034, the shop as it was) takes the branch id (bhfId) of the
shop's main fiscal device, when it has one: the lowest-numbered active, initialised device, the
one a till without a device of its own signs through (fiscal.outbox), else the lowest-numbered
active one. Without a device it stays "00", the head office."""

from django.db import migrations


def branch_of_first_store(apps, schema_editor):
    Device = apps.get_model("fiscal", "Device")
    Store = apps.get_model("pos", "Store")
    active = Device.objects.filter(is_active=True).order_by("pk")
    device = active.filter(initialised_at__isnull=False).first() or active.first()
    store = Store.objects.order_by("pk").first()
    if device is None or store is None or not device.branch_id:
        return
    store.branch_id = device.branch_id
    store.save(update_fields=["branch_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("fiscal", "0006_training_mode"),
        ("pos", "0034_stores"),
    ]

    operations = [migrations.RunPython(branch_of_first_store, migrations.RunPython.noop)]
