"""The till's reviewed close: the cashier counts note by note and blind, a manager reviews."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pos.models import Shift
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_float_is_counted_note_by_note_at_the_till(client, cashier, register):
    client.login(username=cashier.username, password=PASSWORD)
    page = client.get(reverse("register:open_shift")).content.decode()
    assert 'name="pieces_5000"' in page and 'name="pieces_1"' in page
    response = client.post(
        reverse("register:open_shift"),
        {"register": register.pk, "pieces_5000": "2", "pieces_100": "5"},
    )
    assert response["Location"] == reverse("register:register")
    shift = Shift.objects.get()
    assert shift.opening_float == Decimal(10500)
    assert shift.opening_count == {"5000": 2, "100": 5}


def test_the_cashier_ends_blind_and_the_manager_reviews_then_recounts_with_a_witness(
    till, shift, sell, product, client, manager, make_user
):
    sell((product, 1))  # 12,000 cash: 32,000 expected
    page = till.get(reverse("register:shift")).content.decode()
    assert "End shift" in page and "32,000" not in page
    response = till.post(
        reverse("register:shift"),
        {"close": "1", "pieces_5000": "6", "pieces_1000": "1", "counted_card": "0"},
        follow=True,
    )
    page = response.content.decode()
    assert "A manager reviews it" in page
    assert "32,000" not in page and "31,000" not in page  # blind: no expected, no difference
    shift.refresh_from_db()
    assert shift.status == Shift.Status.ENDED
    assert shift.closing_count["denominations"] == {"5000": 6, "1000": 1}

    client.logout()
    client.login(username=manager.username, password=PASSWORD)
    listing = client.get(reverse("register:shifts_to_review")).content.decode()
    assert reverse("register:review_shift", args=[shift.pk]) in listing
    review = client.get(reverse("register:review_shift", args=[shift.pk])).content.decode()
    assert "32,000 RWF" in review and "31,000 RWF" in review and "-1,000 RWF" in review
    # A recount without a second person is refused next to the witness fields.
    url = reverse("register:review_shift", args=[shift.pk])
    refused = client.post(url, {"recount": "1", "recount-pieces_5000": "6"})
    assert refused.status_code == 200
    assert "witness_username" in refused.context["witness_form"].errors
    make_user("aline", "cashier")
    response = client.post(
        url,
        {
            "recount": "1",
            "recount-pieces_5000": "6",
            "recount-pieces_2000": "1",
            "witness_username": "aline",
            "witness_password": PASSWORD,
        },
        follow=True,
    )
    shift.refresh_from_db()
    assert shift.status == Shift.Status.CLOSED and shift.over_short == Decimal(0)
    page = response.content.decode()
    assert "Recounted with aline" in page and "31,000 RWF" in page
    assert 'data-pieces="recount"' in page


def test_the_manager_confirms_the_count_as_it_is(till, shift, client, manager):
    till.post(reverse("register:shift"), {"close": "1", "counted_cash": "19500"})
    client.logout()
    client.login(username=manager.username, password=PASSWORD)
    response = client.post(
        reverse("register:review_shift", args=[shift.pk]), {"confirm": "1"}, follow=True
    )
    shift.refresh_from_db()
    assert shift.status == Shift.Status.CLOSED and shift.over_short == Decimal(-500)
    page = response.content.decode()
    assert "Z-report" in page and "-500 RWF" in page and "reviewed by manager" in page


def test_a_cashier_cannot_open_the_review(till, shift):
    till.post(reverse("register:shift"), {"close": "1", "counted_cash": "19500"})
    assert till.get(reverse("register:review_shift", args=[shift.pk])).status_code == 403
    assert till.get(reverse("register:shifts_to_review")).status_code == 403
