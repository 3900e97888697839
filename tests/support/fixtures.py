"""Pytest fixtures shared by test packages; import the ones you need in a conftest.py."""

import pytest

from tests.support.momo_simulator import MoMoSimulator
from tests.support.sms_simulator import SmsGatewaySimulator


@pytest.fixture
def momo_simulator(settings):
    """A running MoMo simulator on 127.0.0.1, with the MOMO_* settings pointing at it, so that
    `MoMoClient.from_settings()` talks to it. Short timeouts keep the timeout tests quick."""
    from pos.mobile_money.http import clear_token_cache

    simulator = MoMoSimulator().start()
    settings.MOMO_BASE_URL = simulator.base_url
    settings.MOMO_SUBSCRIPTION_KEY = simulator.subscription_key
    settings.MOMO_API_USER = simulator.api_user
    settings.MOMO_API_KEY = simulator.api_key
    settings.MOMO_TARGET_ENVIRONMENT = simulator.target_environment
    settings.MOMO_CALLBACK_URL = ""
    settings.MOMO_CURRENCY = "RWF"
    settings.MOMO_CONNECT_TIMEOUT_SECONDS = 2.0
    settings.MOMO_TIMEOUT_SECONDS = 0.5
    clear_token_cache()
    yield simulator
    simulator.stop()
    clear_token_cache()


@pytest.fixture
def airtel_simulator(settings):
    """A running Airtel Money simulator on 127.0.0.1 with the AIRTEL_* settings pointing at it
    (and the shared MOMO_* timeouts short, as for MTN's)."""
    from pos.mobile_money.http import clear_token_cache
    from tests.support.airtel_simulator import AirtelSimulator

    simulator = AirtelSimulator().start()
    settings.AIRTEL_BASE_URL = simulator.base_url
    settings.AIRTEL_CLIENT_ID = simulator.client_id
    settings.AIRTEL_CLIENT_SECRET = simulator.client_secret
    settings.AIRTEL_COUNTRY = simulator.country
    settings.AIRTEL_CURRENCY = simulator.currency
    settings.MOMO_CONNECT_TIMEOUT_SECONDS = 2.0
    settings.MOMO_TIMEOUT_SECONDS = 0.5
    clear_token_cache()
    yield simulator
    simulator.stop()
    clear_token_cache()


@pytest.fixture
def vsdc(settings):
    """A running VSDC simulator on 127.0.0.1 with FISCAL_BACKEND=rra-vsdc pointing at it, a
    fresh FISCAL_SECRET_KEY and a short timeout (a slow VSDC times out quickly)."""
    from cryptography.fernet import Fernet

    from tests.support.vsdc_simulator import VsdcSimulator

    simulator = VsdcSimulator().start()
    settings.FISCAL_BACKEND = "rra-vsdc"
    settings.FISCAL_VSDC_URL = simulator.base_url
    settings.FISCAL_SECRET_KEY = Fernet.generate_key().decode()
    settings.FISCAL_TIMEOUT_SECONDS = 0.5
    settings.FISCAL_RETRY_BASE_SECONDS = 5
    yield simulator
    simulator.stop()


def first_store():
    """The shop's first store (the one a till made without a store belongs to)."""
    from pos.models import Store
    from pos.models.stores import default_store_pk

    return Store.objects.get(pk=default_store_pk())


def branch_store(branch_id: str, *, code: str = ""):
    """Another store of the shop, with its fiscal branch id."""
    from pos.models import Store

    code = code or f"BR{branch_id}"
    return Store.objects.create(name=f"Branch {branch_id}", code=code, branch_id=branch_id)


@pytest.fixture
def fiscal_device(vsdc, db):
    """The shop's VSDC device, initialised and its code tables synced."""
    from fiscal import device

    initialised = device.initialise_device(
        store=first_store(), tin=vsdc.tin, serial_number="VSDC-TEST-0001"
    )
    device.sync_codes(initialised)
    return initialised


@pytest.fixture
def sms_gateway(settings):
    """A running SMS gateway simulator (Africa's Talking's API) on 127.0.0.1, with SMS on and
    the SMS_* settings pointing at it."""
    simulator = SmsGatewaySimulator().start()
    settings.MESSAGES_SMS_BACKEND = "africastalking"
    settings.SMS_GATEWAY_URL = simulator.base_url
    settings.SMS_USERNAME = simulator.username
    settings.SMS_API_KEY = simulator.api_key
    settings.SMS_SENDER_ID = "VEVURN"
    settings.SMS_TIMEOUT_SECONDS = 2.0
    yield simulator
    simulator.stop()
