"""A till in training that loses its link (issue 25's training mode with issue 26's offline
till): the snapshot carries the till's mode, a sale the offline till says it rang up in
training is never recorded as a sale, and a real sale made offline before the till went into
training still syncs as a real one (the flag at sale time decides, not the mode at sync)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from fiscal import training
from fiscal.models import TrainingReceipt
from pos.models import JournalEntry, OfflineSale, Payment, Sale, StockMovement
from tests.pos.offline.test_sync import a_sale, post, sync, till  # noqa: F401

pytestmark = pytest.mark.django_db


def _written():
    return (
        Sale.objects.count(),
        Payment.objects.count(),
        StockMovement.objects.count(),
        JournalEntry.objects.count(),
    )


def test_the_snapshot_and_the_heartbeat_carry_the_tills_mode(till, register, manager):  # noqa: F811
    client = till["client"]
    before = client.get(reverse("register:offline_snapshot")).json()
    assert before["mode"] is None
    training.start_training(register=register, user=manager)
    during = client.get(
        reverse("register:offline_snapshot"), HTTP_IF_NONE_MATCH=f'"{before["version"]}"'
    )
    assert during.status_code == 200  # the mode is in the version: the till reads it again
    assert during.json()["mode"] == "training" and during.json()["version"] != before["version"]
    beat = post(client, "offline_heartbeat", {"device": till["device"], "pending": 0}).json()
    assert beat["shift"]["mode"] == "training"
    assert client.get(reverse("register:offline_state")).json()["shift"]["mode"] == "training"
    training.stop_training(register=register, user=manager)
    assert client.get(reverse("register:offline_snapshot")).json()["mode"] is None


def test_a_sale_rung_up_in_training_syncs_as_no_sale_and_a_manager_can_only_dismiss_it(
    till,  # noqa: F811
    product,
    register,
    manager,
):
    training.start_training(register=register, user=manager)
    stock = product.stock_on_hand
    before = _written()
    practice = {**a_sale(till, 1, (product, 2, 12000)), "training": True}
    [result] = sync(till, practice)
    assert result["status"] == "refused" and result["code"] == "training_sale"
    assert "training" in result["reason"] and "never recorded as a sale" in result["reason"]
    # Neither at sync nor after the till left training: no sale, payment, movement or entry.
    training.stop_training(register=register, user=manager)
    assert sync(till, practice)[0]["code"] == "training_sale"
    assert _written() == before and not TrainingReceipt.objects.exists()
    product.refresh_from_db()
    assert product.stock_on_hand == stock

    boss = Client()
    boss.force_login(manager)
    review = boss.get(reverse("register:offline_tills")).content.decode()
    assert "R1-T1-000001" in review and "a practice sale is never recorded as a sale" in review
    assert "Accept the sale" not in review  # only a dismissal is offered
    refused = OfflineSale.objects.get()
    assert refused.number == "R1-T1-000001" and refused.rung_in_training
    # Accepting it anyway (a form kept open) is refused for the same reason.
    accepted = boss.post(
        reverse("register:offline_resolve", args=[refused.pk]), {"action": "accept"}, follow=True
    )
    assert "never recorded as a sale" in accepted.content.decode()
    refused.refresh_from_db()
    assert refused.status == OfflineSale.Status.REFUSED and _written() == before
    boss.post(
        reverse("register:offline_resolve", args=[refused.pk]),
        {"action": "dismiss", "note": "practice sale"},
    )
    refused.refresh_from_db()
    assert refused.status == OfflineSale.Status.DISMISSED and _written() == before


def test_a_real_offline_sale_syncs_as_a_sale_while_the_till_is_in_training(
    till,  # noqa: F811
    product,
    register,
    manager,
):
    """Sold offline before the manager switched the till into training: the flag at sale time
    (false, or absent in an older till's payload) decides, not the till's mode at sync."""
    flagged = {**a_sale(till, 1, (product, 1, 12000)), "training": False}
    older = a_sale(till, 2, (product, 1, 12000))  # no flag: an older till's payload
    assert "training" not in older
    stock = product.stock_on_hand
    training.start_training(register=register, user=manager)
    before = _written()
    results = sync(till, flagged, older)
    assert [(r["status"], r["number"]) for r in results] == [
        ("stored", "R1-T1-000001"),
        ("stored", "R1-T1-000002"),
    ]
    sales = list(Sale.objects.order_by("pk"))[-2:]
    assert [s.total for s in sales] == [Decimal("12000"), Decimal("12000")]
    assert Payment.objects.filter(sale__in=sales).count() == 2
    moved = StockMovement.objects.filter(
        reference_type="pos.sale", reference_id__in=[str(s.pk) for s in sales]
    )
    assert moved.count() == 2
    product.refresh_from_db()
    assert product.stock_on_hand == stock - 2
    assert _written()[0] == before[0] + 2
    assert not TrainingReceipt.objects.exists()


def test_the_heartbeat_answers_the_mode_without_a_query_more_once_cached(
    till,  # noqa: F811
    register,
    manager,
    django_assert_num_queries,
):
    """The heartbeat comes every 20 s from every device: the mode is read from the training
    cache (fiscal.training.in_training), so it costs no query once cached."""
    client, body = till["client"], {"device": till["device"], "pending": 0}
    post(client, "offline_heartbeat", body)  # sessions, caches warm
    # The session, its user and permissions (PostgreSQL: read with the user), the device, the
    # user's stores (staff per store: the memberships, then the first store for a cashier
    # assigned to none), the device's update and the open shift.
    statements = 8 if connection.vendor == "sqlite" else 7
    with django_assert_num_queries(statements):
        assert post(client, "offline_heartbeat", body).json()["shift"]["mode"] is None
    training.start_training(register=register, user=manager)
    post(client, "offline_heartbeat", body)
    with django_assert_num_queries(statements):
        assert post(client, "offline_heartbeat", body).json()["shift"]["mode"] == "training"
