"""Fiscal migrations 0009-0011 (fiscal per branch) on a shop with two devices: each device goes
to the store with its branch id (one is made where none has it), a till assigned to a device of
another store moves to that device's store, and what was registered with the main device stays
registered with it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from fiscal.models import Device, ItemRegistration
from pos.models import Register, Store

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("fiscal", "0008_training_lines_lock_no_product")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    if targets is None:
        targets = executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


def test_devices_go_to_the_stores_of_their_branch_ids(make_product):
    product = make_product(stock=0)
    old = migrate(BEFORE)
    stores = old.get_model("pos", "Store").objects
    main = stores.order_by("pk").first() or stores.create(name="Duka", code="MAIN", tin="")
    devices = old.get_model("fiscal", "Device").objects
    head = devices.create(
        tin="101234567",
        branch_id=main.branch_id,
        serial_number="V-1",
        initialised_at=timezone.now(),
    )
    huye = devices.create(tin="101234567", branch_id="01", serial_number="V-2")
    till = old.get_model("pos", "Register").objects.create(code="H1", name="Huye", store=main)
    old.get_model("fiscal", "Till").objects.create(register=till, device=huye)
    registered = timezone.now()
    old.get_model("fiscal", "Item").objects.create(
        product_id=product.pk,
        item_code="RW2NTXU0000001",
        item_class_code="5020230100",
        registered_at=registered,
        registered_fingerprint="abc",
    )

    migrate(None)

    assert Device.objects.get(pk=head.pk).store_id == main.pk
    branch = Device.objects.get(pk=huye.pk).store
    assert (branch.branch_id, branch.tin, branch.code) == ("01", "101234567", "BR01")
    assert Device.objects.get(pk=huye.pk).branch_id == "01"  # read from its store
    assert Register.objects.get(code="H1").store == branch  # it signed as branch 01
    assert Store.objects.count() == 2
    (registration,) = ItemRegistration.objects.all()
    assert (registration.device_id, registration.registered_at, registration.fingerprint) == (
        head.pk,
        registered,
        "abc",
    )
