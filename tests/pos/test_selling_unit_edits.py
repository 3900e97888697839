"""Editing a selling unit (a carton of 24): through one service, under the product's lock and
the unit's, audited field by field, from the API, the admin's own page and the product's
inline; a new factor changes later sales only."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import AuditLog
from pos.barcodes import make_ean13
from pos.journal.verify import verify
from pos.models import JournalEntry, Product, SellingUnit
from pos.services import locks
from pos.services.catalogue import create_selling_unit, delete_selling_unit, update_selling_unit
from pos.services.checkout import CartLine
from tests.pos.ledger_checks import assert_ledgers_hold

D = Decimal


@pytest.fixture
def soap(make_product):
    return make_product(name="Soap", retail_price=D(1000), minimum_price=D(0), stock=200)


@pytest.fixture
def carton(soap):
    return SellingUnit.objects.create(
        product=soap, name="Carton", factor=24, barcode=make_ean13("699000000024"), price=D(22000)
    )


def audits(action):
    return list(AuditLog.objects.filter(action=action).order_by("pk"))


@pytest.mark.django_db
def test_a_factor_change_leaves_past_sales_as_they_were_sold(
    carton, soap, sell, manager, django_capture_on_commit_callbacks
):
    before = sell(CartLine(soap.pk, 2, selling_unit_id=carton.pk))
    with django_capture_on_commit_callbacks(execute=True):
        update_selling_unit(selling_unit=carton, user=manager, factor=D(12), price=D(11500))
    after = sell(CartLine(soap.pk, 1, selling_unit_id=carton.pk))

    old_line = before.lines.get()
    old_line.refresh_from_db()
    assert (old_line.quantity, old_line.unit_factor, old_line.unit_price) == (48, 24, 22000)
    assert old_line.sold_as == "2 x Carton (24)"
    new_line = after.lines.get()
    assert (new_line.quantity, new_line.unit_factor, new_line.unit_price) == (12, 12, 11500)
    assert new_line.sold_as == "1 x Carton (12)"
    assert Product.objects.get(pk=soap.pk).stock_on_hand == 200 - 48 - 12
    (entry,) = audits("selling_unit.changed")
    assert entry.actor == manager and entry.target_id == str(carton.pk)
    assert entry.changes == {"factor": ["24", "12"], "price": ["22000.00", "11500.00"]}
    assert_ledgers_hold()


@pytest.mark.django_db
def test_the_api_edits_a_unit_through_the_service_and_audits_it(
    carton, soap, manager, make_product, django_capture_on_commit_callbacks
):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    url = f"/api/v1/selling-units/{carton.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        changed = api.patch(
            url, {"price": 21000, "barcode": make_ean13("600000000031")}, format="json"
        )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["price"] == "21000"
    (entry,) = audits("selling_unit.changed")
    assert entry.changes == {
        "barcode": [make_ean13("699000000024"), make_ean13("600000000031")],
        "price": ["22000.00", "21000.00"],
    }

    other = make_product(name="Matches")
    moved = api.patch(url, {"product": other.pk}, format="json")
    assert moved.status_code == 400 and "product" in moved.json()["error"]["fields"]
    negative = api.patch(url, {"factor": "-2"}, format="json")
    assert negative.status_code == 400
    carton.refresh_from_db()
    assert (carton.product_id, carton.factor, carton.price) == (soap.pk, 24, 21000)
    assert len(audits("selling_unit.changed")) == 1

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/selling-units/",
            {"product": soap.pk, "name": "Pack", "factor": 6},
            format="json",
        )
    assert created.status_code == 201, created.json()
    assert audits("selling_unit.created")[0].changes["factor"] == [None, "6"]


@pytest.mark.django_db
def test_the_admin_page_and_the_product_inline_go_through_the_service(
    client, manager, carton, soap, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    url = reverse("admin:pos_sellingunit_change", args=[carton.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"name": "Carton", "factor": "20", "barcode": carton.barcode, "price": "19000",
             "is_active": "on"},
        )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    (entry,) = audits("selling_unit.changed")
    assert entry.changes == {"factor": ["24", "20"], "price": ["22000.00", "19000.00"]}

    product_url = reverse("admin:pos_product_change", args=[soap.pk])
    page = client.get(product_url)
    form = page.context["adminform"].form
    data = {
        name: ("" if form[name].value() is None else form[name].value()) for name in form.fields
    }
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        if formset.model is SellingUnit:
            unit_form = formset.forms[0]
            for name in unit_form.fields:
                value = unit_form[name].value()
                data[unit_form.add_prefix(name)] = "" if value is None else value
            data[unit_form.add_prefix("price")] = "18000"
            data[unit_form.add_prefix("is_active")] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(product_url, data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    carton.refresh_from_db()
    assert carton.price == 18000
    assert audits("selling_unit.changed")[-1].changes == {"price": ["19000.00", "18000.00"]}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_waits_for_a_sale_holding_the_products_lock(carton, soap, manager):
    """A checkout locks the product; an edit of its carton waits for that sale to commit."""
    held, release, done = threading.Event(), threading.Event(), {}

    def sale_holding_the_lock():
        try:
            with transaction.atomic():
                locks.product(soap.pk)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    def edit():
        try:
            update_selling_unit(selling_unit=carton, user=manager, factor=D(12))
            done["at"] = time.monotonic()
        finally:
            connection.close()

    sale = threading.Thread(target=sale_holding_the_lock)
    sale.start()
    assert held.wait(10)
    editor = threading.Thread(target=edit)
    editor.start()
    editor.join(0.5)
    assert editor.is_alive(), "the edit did not wait for the product's lock"
    released_at = time.monotonic()
    release.set()
    sale.join(10)
    editor.join(10)
    assert done["at"] >= released_at
    carton.refresh_from_db()
    assert carton.factor == 12


def journalled_units():
    """The selling-unit entries of the journal, in order: (chain, kind, reference, data)."""
    import orjson

    return [
        (entry.chain, entry.kind, entry.reference, orjson.loads(entry.payload)["data"])
        for entry in JournalEntry.objects.filter(kind="selling_unit").order_by("chain", "seq")
    ]


@pytest.mark.django_db
def test_each_change_of_a_unit_is_journalled_on_the_back_office_chain(soap, manager, admin_user):
    unit = create_selling_unit(
        user=manager, product=soap, name="Carton", factor=D(24), barcode=make_ean13("699000000024")
    )
    update_selling_unit(selling_unit=unit, user=manager, price=D(21000))
    update_selling_unit(selling_unit=unit, user=manager, factor=D(12), barcode=None)
    update_selling_unit(selling_unit=unit, user=manager, price=D(21000))  # no change: no entry
    delete_selling_unit(selling_unit=unit, user=admin_user)

    ref = f"pos.sellingunit:{unit.pk}"
    as_it_was = {"product_id": soap.pk, "name": "Carton", "is_active": True, "user_id": manager.pk}
    assert journalled_units() == [
        ("back_office", "selling_unit", ref, {**as_it_was, "change": "created", "factor": "24.000",
         "barcode": make_ean13("699000000024"), "price": None}),
        ("back_office", "selling_unit", ref, {**as_it_was, "change": "changed", "factor": "24.000",
         "barcode": make_ean13("699000000024"), "price": "21000.00"}),
        ("back_office", "selling_unit", ref, {**as_it_was, "change": "changed", "factor": "12.000",
         "barcode": None, "price": "21000.00"}),
        ("back_office", "selling_unit", ref, {**as_it_was, "change": "deleted", "factor": "12.000",
         "barcode": None, "price": "21000.00", "user_id": admin_user.pk}),
    ]  # fmt: skip
    assert verify().ok, verify().breaks


@pytest.mark.django_db
def test_a_unit_changed_or_added_past_the_services_is_named_by_the_check(
    soap, manager, admin_user, capsys
):
    carton = create_selling_unit(user=manager, product=soap, name="Carton", factor=D(24))
    update_selling_unit(selling_unit=carton, user=manager, price=D(22000))
    pack = create_selling_unit(user=manager, product=soap, name="Pack", factor=D(6))
    delete_selling_unit(selling_unit=pack, user=admin_user)
    entry = JournalEntry.objects.filter(reference=f"pos.sellingunit:{carton.pk}").last()
    with connection.cursor() as cursor:
        # A cheaper carton, a unit back after its removal, a unit no service wrote.
        cursor.execute("UPDATE pos_sellingunit SET price = 1000 WHERE id = %s", [carton.pk])
        cursor.execute(
            "INSERT INTO pos_sellingunit (id, product_id, name, factor, price, is_active) "
            "VALUES (%s, %s, 'Pack', 6, 10, true), (%s, %s, 'Box', 10, 10, true)",
            [pack.pk, soap.pk, pack.pk + 1000, soap.pk],
        )

    problems = [(b.chain, b.seq, b.reference, b.problem) for b in verify().breaks]

    assert problems == [
        ("back_office", entry.seq, f"pos.sellingunit:{carton.pk}",
         "price is 22000.00 in the journal but 1000.00 in the database"),
        ("back_office", entry.seq + 2, f"pos.sellingunit:{pack.pk}",
         "the selling unit it records as removed is still in the database"),
        ("back_office", None, f"pos.sellingunit:{pack.pk + 1000}",
         "no journal entry records this selling unit"),
    ]  # fmt: skip
    with pytest.raises(SystemExit):
        call_command("verify_journal")
    out = capsys.readouterr().out
    assert (
        f"back_office #{entry.seq} (selling_unit pos.sellingunit:{carton.pk}): price is "
        "22000.00 in the journal but 1000.00 in the database"
    ) in out
