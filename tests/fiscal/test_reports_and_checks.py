"""What the owner and the operator see: the Z-report's unsigned sales, the unsigned-sales alert,
and check_deployment's fiscal rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from fiscal import sending
from fiscal.models import Device
from monitoring import alert_rules
from pos.models import ShopSettings
from tests.monitoring.deployment.conftest import run
from tests.support.fixtures import branch_store

pytestmark = pytest.mark.django_db


def test_the_z_report_lists_unsigned_sales_and_the_signed_totals(
    client, cashier, goods, sell, vsdc, shift
):
    signed = sell((goods, 1))
    sending.drain()
    vsdc.down = True
    waiting = sell((goods, 2))
    sending.drain()
    client.force_login(cashier)
    page = client.get(reverse("register:z_report", args=[shift.pk])).content.decode()
    assert 'data-unsigned="1"' in page
    assert f'data-unsigned-sale="{waiting.number}"' in page
    assert f'data-unsigned-sale="{signed.number}"' not in page
    assert "Signed: 1 NS, 0 NR" in page
    assert "B-18%" in page


def test_the_z_report_says_when_every_sale_is_signed(client, cashier, goods, sell, shift):
    sell((goods, 1))
    sending.drain()
    client.force_login(cashier)
    page = client.get(reverse("register:z_report", args=[shift.pk])).content.decode()
    assert 'data-unsigned="0"' in page


def _fiscal_rule(settings):
    rules = {r.name: r for r in alert_rules.rules()}
    return rules["fiscal_unsigned"]


def test_an_unsigned_sale_alerts_after_the_configured_time(settings, goods, sell, vsdc):
    settings.ALERT_RULES = {
        **settings.ALERT_RULES,
        "fiscal_unsigned": {"enabled": True, "minutes": 30},
    }
    vsdc.down = True
    sale = sell((goods, 1))
    sending.drain()
    rule = _fiscal_rule(settings)
    assert rule.check() == {}  # not yet: under 30 minutes
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        found = rule.check()
    assert list(found) == [timezone.localdate().isoformat()]
    assert sale.number in next(iter(found.values()))


def test_a_refused_sale_alerts_at_once(settings, goods, sell, vsdc):
    settings.ALERT_RULES = {
        **settings.ALERT_RULES,
        "fiscal_unsigned": {"enabled": True, "minutes": 30},
    }
    sale = sell((goods, 1))
    vsdc.queue_result("sales", "910")
    sending.drain()
    found = _fiscal_rule(settings).check()
    assert f"{sale.number} (910)" in next(iter(found.values()))


def _vat_registered():
    shop = ShopSettings.load()
    ShopSettings.objects.filter(pk=shop.pk).update(tin="102345678", vat_rate=Decimal(18))
    from django.core.cache import cache

    cache.clear()


def test_check_deployment_warns_a_vat_registered_shop_without_the_backend(settings):
    settings.FISCAL_BACKEND = "none"
    _vat_registered()
    result = run("app.fiscal")
    assert result.status == "warn" and "FISCAL_BACKEND=none" in result.detail


def test_check_deployment_passes_a_shop_without_vat_and_without_the_backend(settings):
    settings.FISCAL_BACKEND = "none"
    ShopSettings.objects.filter(pk=ShopSettings.load().pk).update(tin="", vat_rate=0)
    from django.core.cache import cache

    cache.clear()
    assert run("app.fiscal").status == "pass"


def test_check_deployment_fails_when_the_device_was_never_initialised(vsdc):
    result = run("app.fiscal")
    assert result.status == "fail" and "never initialised" in result.detail


def test_check_deployment_fails_without_the_secret_key(vsdc, settings):
    settings.FISCAL_SECRET_KEY = ""
    assert run("app.fiscal").status == "fail"


def test_check_deployment_passes_an_initialised_device(fiscal_device):
    result = run("app.fiscal")
    assert result.status == "pass" and fiscal_device.mrc in result.detail
    Device.objects.update(initialised_at=None)
    assert run("app.fiscal").status == "fail"


def test_check_deployment_warns_of_a_till_on_a_retired_device(fiscal_device, vsdc, register):
    from fiscal import device as devices
    from fiscal.models import Till

    Till.objects.create(register=register, device=fiscal_device)
    assert run("app.fiscal").status == "pass"
    devices.initialise_device(  # its replacement: the till's own device is retired
        store=register.store, tin=vsdc.tin, serial_number="VSDC-0002"
    )
    result = run("app.fiscal")
    assert result.status == "warn" and register.name in result.detail


def test_check_deployment_fails_for_a_store_with_tills_and_no_device(fiscal_device, register):
    from pos.models import Register

    store = branch_store("01")
    Register.objects.create(code="B1", name="Branch till", store=store)
    result = run("app.fiscal")
    assert result.status == "fail" and store.name in result.detail
