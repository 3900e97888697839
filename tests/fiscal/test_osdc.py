"""The OSDC profile (FISCAL_PROFILE=osdc): RRA's online SDC, same vocabulary, its own sale route
(/saveTrnsSalesOsdc), cmcKey in every body, answers naming `curRcptNo` (a string) and
`sdcDateTime`. The sale, refund and copy flow runs the same on both profiles against the
simulator; the OSDC routes our sources do not give are refused clearly, never guessed."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.timezone import localtime

from fiscal import device as devices
from fiscal import sending
from fiscal.client import RouteUnknown
from fiscal.models import OutboxItem, Signature
from tests.support.fixtures import first_store
from tests.support.vsdc_simulator import CMC_KEY, MRC, SDC_ID

pytestmark = pytest.mark.django_db

SALES_ENDPOINT = {"vsdc": "sales", "osdc": "sales_osdc"}


@pytest.fixture(params=["vsdc", "osdc"])
def profile(request, vsdc, settings):
    """A device on each profile: initialised through the VSDC's route, or recorded from what RRA
    issued on the OSDC (whose initialisation route is not known)."""
    settings.FISCAL_PROFILE = request.param
    if request.param == "vsdc":
        devices.sync_codes(
            devices.initialise_device(store=first_store(), tin=vsdc.tin, serial_number="SDC-1")
        )
    else:
        devices.record_device(
            store=first_store(),
            tin=vsdc.tin,
            serial_number="SDC-1",
            sdc_id=SDC_ID,
            mrc=MRC,
            cmc_key=CMC_KEY,
        )
    sending.drain()
    return request.param


def test_a_sale_a_copy_and_a_refund_on_each_profile(
    profile, vsdc, sell, product, refund_one, client, cashier
):
    sale = sell((product, 2))
    assert sending.drain()["signed"] == 1
    (sent,) = vsdc.received_for(SALES_ENDPOINT[profile])
    body = sent.body
    assert (body["invcNo"], body["rcptTyCd"], body["totAmt"]) == (
        1,
        "S",
        2 * int(product.retail_price),
    )
    if profile == "osdc":
        assert body["cmcKey"] == CMC_KEY  # in every body
        assert vsdc.received_for("sales") == []
        answer = Signature.objects.get(item__sale=sale).raw  # the OSDC's own names
        assert answer["curRcptNo"] == "1" and "rcptNo" not in answer and "sdcDateTime" in answer
    else:
        assert "cmcKey" not in body and sent.headers["cmckey"] == CMC_KEY
    signature = Signature.objects.get(item__sale=sale)
    assert (signature.receipt_number, signature.total_receipt_number) == (1, 1)
    assert localtime(signature.sdc_date).strftime("%Y%m%d") == vsdc.now().strftime("%Y%m%d")
    assert signature.sdc_id == SDC_ID and signature.mrc == MRC

    client.force_login(cashier)
    url = reverse("pos:receipt", args=[sale.pk])
    original = client.get(url).content.decode()
    assert 'data-label="NS"' in original and "data-counters>1/1 NS<" in original
    copy = client.get(url).content.decode()
    assert 'data-label="CS"' in copy and "data-counters>1/1 CS<" in copy
    assert len(vsdc.received_for(SALES_ENDPOINT[profile])) == 1  # a copy calls nothing

    refund = refund_one(sale, 1, reason_code="09")
    assert sending.drain()["signed"] == 1
    refund_body = vsdc.received_for(SALES_ENDPOINT[profile])[-1].body
    assert {k: refund_body[k] for k in ("invcNo", "orgInvcNo", "rcptTyCd", "rfdRsnCd")} == {
        "invcNo": 2,
        "orgInvcNo": 1,
        "rcptTyCd": "R",
        "rfdRsnCd": "09",
    }
    assert refund_body["totAmt"] == int(product.retail_price)
    slip = client.get(reverse("pos:refund_slip", args=[refund.pk])).content.decode()
    assert 'data-label="NR"' in slip and "data-counters>1/2 NR<" in slip
    stock_reports = OutboxItem.objects.filter(kind__in=["stock", "stock_master"])
    if profile == "osdc":  # no stock route known: nothing queued, nothing sent
        assert not stock_reports.exists()
        assert vsdc.received_for("stock") == vsdc.received_for("items") == []
    else:
        assert stock_reports.exists() and vsdc.received_for("items")


def test_the_osdc_routes_we_do_not_know_are_refused_clearly(vsdc, settings, product):
    settings.FISCAL_PROFILE = "osdc"
    with pytest.raises(
        RouteUnknown, match="OSDC route of /initializer/selectInitInfo is not known"
    ):
        devices.initialise_device(store=first_store(), tin=vsdc.tin, serial_number="SDC-1")
    with pytest.raises(CommandError, match="is not known"):
        call_command("fiscal_init", "--tin", vsdc.tin, "--serial", "SDC-1", stdout=StringIO())
    out = StringIO()
    call_command(
        "fiscal_init",
        *("--tin", vsdc.tin, "--serial", "SDC-1"),
        *("--sdc-id", SDC_ID, "--mrc", MRC, "--cmc-key", CMC_KEY, "--last-invoice", "7"),
        stdout=out,
    )
    assert "recorded" in out.getvalue() and "route is not known" in out.getvalue()
    device = devices.active_device()
    assert device.is_initialised and devices.credentials(device).cmc_key == CMC_KEY
    assert device.last_invoice_number == 7  # the next sale is invoice 8
    with pytest.raises(RouteUnknown, match="/code/selectCodes"):
        devices.sync_codes(device)
    assert devices.register_due_items() == {"queued": 0}
    assert vsdc.received == []  # nothing was sent to a guessed route


def test_a_profile_other_than_vsdc_or_osdc_is_refused(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import vevurn.settings

    monkeypatch.setenv("FISCAL_PROFILE", "kra")
    with pytest.raises(ImproperlyConfigured, match="FISCAL_PROFILE must be vsdc or osdc"):
        importlib.reload(vevurn.settings)
    monkeypatch.delenv("FISCAL_PROFILE")
    importlib.reload(vevurn.settings)


def test_a_resend_gets_994_with_the_stored_data_and_is_never_signed_twice(
    profile, vsdc, sell, product
):
    """A worker that lost the answer sends the same body again: the SDC answers 994 with what
    it holds (in the profile's own names), taken as the signature; one signing only."""
    sale = sell((product, 1))
    sending.drain()
    first = Signature.objects.get(item__sale=sale)
    OutboxItem.objects.filter(sale=sale).update(
        status=OutboxItem.Status.PENDING, next_attempt_at=None
    )
    assert sending.drain()["signed"] == 1
    assert vsdc.signings[1] == 1
    assert len(vsdc.received_for(SALES_ENDPOINT[profile])) == 2
    assert list(Signature.objects.filter(item__sale=sale)) == [first]
    item = OutboxItem.objects.get(sale=sale)
    assert item.status == "signed"
    assert Decimal(str(item.payload["totAmt"])) == product.retail_price
