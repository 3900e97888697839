"""Fiscal per branch (issues 25 and 29), the data: each device goes to the store with its
branch id (bhfId; a store with the device's TIN or none first), and where no store has that
branch id one is made for it ("Branch 01", code BR01, the device's TIN); a till assigned to a
device of another store moves to the device's store (it signed with that branch's bhfId, so it
is that branch's till). What each item's registration was (with the main device, the only one
that registered items before) becomes its registration with that device."""

from django.db import migrations


def _unique(Store, field: str, wanted: str, size: int) -> str:
    value, n = wanted[:size], 1
    while Store.objects.filter(**{field: value}).exists():
        n += 1
        value = f"{wanted[: size - len(str(n))]}{n}"
    return value


def _store_for(Store, Device, device):
    same_branch = Store.objects.filter(branch_id=device.branch_id).order_by("pk")
    for store in [
        *same_branch.filter(tin=device.tin),
        *same_branch.filter(tin=""),
        *same_branch,
    ]:
        if not device.is_active or not Device.objects.filter(store=store, is_active=True).exists():
            return store
    return Store.objects.create(
        name=_unique(Store, "name", f"Branch {device.branch_id} ({device.tin})", 120),
        code=_unique(Store, "code", f"BR{device.branch_id}", 8),
        tin=device.tin
        if not Store.objects.filter(tin=device.tin, branch_id=device.branch_id).exists()
        else "",
        branch_id=device.branch_id,
    )


def forwards(apps, schema_editor):
    Device = apps.get_model("fiscal", "Device")
    Till = apps.get_model("fiscal", "Till")
    Item = apps.get_model("fiscal", "Item")
    ItemRegistration = apps.get_model("fiscal", "ItemRegistration")
    Store = apps.get_model("pos", "Store")
    Register = apps.get_model("pos", "Register")
    for device in Device.objects.order_by("-is_active", "pk"):
        device.store = _store_for(Store, Device, device)
        device.save(update_fields=["store"])
    for till in Till.objects.select_related("device", "register"):
        if till.register.store_id != till.device.store_id:
            Register.objects.filter(pk=till.register_id).update(store=till.device.store_id)
    active = Device.objects.filter(is_active=True).order_by("pk")
    main = active.filter(initialised_at__isnull=False).first() or active.first()
    if main is None:
        return
    ItemRegistration.objects.bulk_create(
        ItemRegistration(
            device=main,
            item=item,
            registered_at=item.registered_at,
            fingerprint=item.registered_fingerprint,
            error=item.error,
        )
        for item in Item.objects.order_by("pk")
        if item.registered_at or item.error
    )


def backwards(apps, schema_editor):
    """Going back: each item's registration with the main device becomes the item's again (the
    devices' branch ids come back in 0010's reverse)."""
    Item = apps.get_model("fiscal", "Item")
    ItemRegistration = apps.get_model("fiscal", "ItemRegistration")
    for registration in ItemRegistration.objects.order_by("-device_id"):
        Item.objects.filter(pk=registration.item_id).update(
            registered_at=registration.registered_at,
            registered_fingerprint=registration.fingerprint,
            error=registration.error,
        )


class Migration(migrations.Migration):
    dependencies = [("fiscal", "0009_devices_per_store")]

    operations = [migrations.RunPython(forwards, backwards)]
