"""A sale made offline is signed (when fiscal signing is on) after it is synced, once: it goes
through checkout, whose hook queues it; the till printed only a provisional slip."""

import pytest

from pos.models import Sale
from tests.pos.offline.test_sync import a_sale, sync, till  # noqa: F401
from tests.support.fixtures import fiscal_device, vsdc  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_sale_made_offline_is_signed_after_sync_and_only_once(fiscal_device, till, product):  # noqa: F811
    from fiscal import sending
    from fiscal.models import OutboxItem, Signature

    sending.drain()  # the opening stock
    sale = a_sale(till, 1, (product, 1, 12000))
    assert not OutboxItem.objects.filter(kind="sale").exists()  # offline: nothing to sign yet
    assert sync(till, sale)[0]["status"] == "stored"
    stored = Sale.objects.get()
    assert list(OutboxItem.objects.filter(kind="sale").values_list("sale", flat=True)) == [
        stored.pk
    ]
    assert sync(till, sale)[0]["status"] == "already_stored"  # a retry queues nothing more
    assert OutboxItem.objects.filter(kind="sale").count() == 1
    sending.drain()
    assert Signature.objects.filter(item__sale=stored).count() == 1
