"""Setting up the fiscal device: initialisation, the cmcKey at rest, code tables, items."""

from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from fiscal import device, secrets, sending
from fiscal.models import Code, Device, Item, ItemRegistration, OutboxItem
from fiscal.tasks import register_fiscal_items
from pos.services.catalogue import update_product
from tests.support.fixtures import first_store
from tests.support.vsdc_simulator import CMC_KEY, MRC, SDC_ID

pytestmark = pytest.mark.django_db


def test_initialising_keeps_the_sdc_id_mrc_and_the_cmc_key_encrypted(fiscal_device):
    stored = Device.objects.get()
    assert (stored.sdc_id, stored.mrc, stored.is_active) == (SDC_ID, MRC, True)
    assert CMC_KEY not in stored.cmc_key_encrypted
    assert secrets.decrypt(stored.cmc_key_encrypted) == CMC_KEY


def test_another_secret_key_cannot_read_the_cmc_key(fiscal_device, settings):
    settings.FISCAL_SECRET_KEY = Fernet.generate_key().decode()
    with pytest.raises(secrets.SecretKeyMissing):
        secrets.decrypt(Device.objects.get().cmc_key_encrypted)


def test_without_a_secret_key_rra_is_not_asked(vsdc, settings):
    settings.FISCAL_SECRET_KEY = ""
    with pytest.raises(secrets.SecretKeyMissing):
        device.initialise_device(store=first_store(), tin=vsdc.tin, serial_number="S1")
    assert vsdc.received_for("init") == []
    assert not Device.objects.exists()


def test_initialising_again_never_takes_the_invoice_counter_back(fiscal_device, vsdc):
    Device.objects.filter(pk=fiscal_device.pk).update(last_invoice_number=41)
    vsdc.last_invoice_number = 7
    again = device.initialise_device(
        store=first_store(), tin=vsdc.tin, serial_number="VSDC-TEST-0001"
    )
    assert again.pk == fiscal_device.pk
    assert again.last_invoice_number == 41


def test_the_counter_starts_after_the_vsdcs_last_invoice(vsdc):
    vsdc.last_invoice_number = 120
    created = device.initialise_device(store=first_store(), tin=vsdc.tin, serial_number="S2")
    assert created.last_invoice_number == 120


def test_the_command_initialises_syncs_and_registers(vsdc, make_product, capsys):
    make_product(stock=1)
    call_command("fiscal_init", "--tin", vsdc.tin, "--serial", "VSDC-9")
    out = capsys.readouterr().out
    assert SDC_ID in out and MRC in out
    assert Code.objects.filter(class_code="04", code="B", value="18").exists()
    assert Code.objects.filter(class_code="32").count() == 13  # refund reasons 01-13
    assert len(vsdc.items) == 1


def test_an_unknown_tin_is_refused_with_rras_message(vsdc):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="901"):
        call_command("fiscal_init", "--tin", "999999999", "--serial", "X")


def test_item_codes_follow_the_spec(fiscal_device, make_product):
    pieces = make_product(stock=1)
    rice = make_product(stock=0, unit="kg", quantity_places=3)
    items = device.ensure_items([pieces, rice], fiscal_device)
    # country, product type, packaging unit, quantity unit (U padded with X), 7-digit sequence
    assert items[pieces.pk].item_code == "RW2NTXU0000001"
    assert items[rice.pk].item_code == "RW2NTKG0000002"
    assert items[pieces.pk].tax_type == "B"  # the shop's 18% VAT
    assert items[pieces.pk].item_class_code == "5020230100"  # the first synced class of B


def test_new_and_changed_products_register_through_the_job(
    fiscal_device, vsdc, make_product, manager
):
    product = make_product(stock=1)
    register_fiscal_items.enqueue()  # the tests' backend runs it at once: it queues the item
    assert OutboxItem.objects.filter(kind="item", status="pending").count() == 1
    sending.drain()  # the device's outbox sends it, in its order
    assert len(vsdc.received_for("items")) == 1
    sent = vsdc.items[Item.objects.get(product=product).item_code]
    assert sent["itemNm"] == product.name and sent["dftPrc"] == 12000 and sent["taxTyCd"] == "B"

    register_fiscal_items.enqueue()
    sending.drain()
    assert len(vsdc.received_for("items")) == 1  # unchanged: not sent again

    update_product(product=product, user=manager, retail_price=Decimal("13000"))
    register_fiscal_items.enqueue()
    sending.drain()
    assert len(vsdc.received_for("items")) == 2
    assert vsdc.items[Item.objects.get(product=product).item_code]["dftPrc"] == 13000


def test_a_refused_item_keeps_the_vsdcs_error(fiscal_device, vsdc, make_product):
    make_product(stock=0)
    vsdc.queue_result("items", "910", "Request parameter error")
    assert device.register_due_items() == {"queued": 1}
    assert sending.drain()["stopped"] == 1
    assert ItemRegistration.objects.get(device=fiscal_device).error.startswith("910")
    stopped = OutboxItem.objects.get(kind="item")
    assert stopped.status == "attention" and stopped.result_code == "910"
    assert device.register_due_items() == {"queued": 0}  # it waits for a manager, once


def test_the_job_does_nothing_without_the_backend(settings, make_product):
    settings.FISCAL_BACKEND = "none"
    make_product(stock=1)
    assert register_fiscal_items.enqueue().return_value == {}
    assert not Item.objects.exists()
