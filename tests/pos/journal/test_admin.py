"""The journal in the back office: read only, with an Integrity check page for managers."""

import pytest

from pos.models import JournalEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/admin/pos/journalentry/integrity/"


@pytest.fixture
def manager_client(client, manager):
    client.login(username=manager.username, password=PASSWORD)
    return client


def test_the_journal_list_links_to_the_integrity_check(manager_client, sell, product):
    sell((product, 1))

    page = manager_client.get("/admin/pos/journalentry/").content.decode()

    assert URL in page
    assert "Add journal entry" not in page


def test_a_manager_runs_the_check_and_sees_an_intact_journal(manager_client, sell, product):
    sell((product, 1))

    assert "Run the check" in manager_client.get(URL).content.decode()
    page = manager_client.post(URL).content.decode()

    assert "Intact: 3 entries checked" in page
    assert JournalEntry.objects.get(kind="sale").hash in page


def test_the_check_page_names_each_break(manager_client, sell, product, raw_sql):
    sale = sell((product, 1))
    raw_sql("UPDATE pos_sale SET total = 1 WHERE id = %s", [sale.pk])

    page = manager_client.post(URL).content.decode()

    assert "1 break found" in page
    assert "total is 12000.00 in the journal but 1.00 in the database" in page


def test_an_entry_cannot_be_changed_in_the_admin(manager_client, sell, product):
    sell((product, 1))
    entry = JournalEntry.objects.get(kind="sale")

    response = manager_client.post(f"/admin/pos/journalentry/{entry.pk}/change/", {"payload": "{}"})

    assert response.status_code == 403
    assert JournalEntry.objects.get(pk=entry.pk).payload == entry.payload


def test_a_cashier_cannot_reach_the_check(client, cashier):
    client.login(username=cashier.username, password=PASSWORD)

    assert client.get(URL).status_code in (302, 403)


def test_the_check_page_names_a_sale_inserted_without_an_entry(
    manager_client, sell, product, raw_sql
):
    import uuid

    from pos.models import Sale

    sale = sell((product, 1))
    columns = [f.column for f in Sale._meta.concrete_fields if not f.primary_key]
    picked = ", ".join("%s" if c in ("number", "idempotency_key") else c for c in columns)
    raw_sql(
        f"INSERT INTO pos_sale ({', '.join(columns)}) SELECT {picked} FROM pos_sale "  # noqa: S608
        "WHERE id = %s",
        ["R1-999999", uuid.uuid4().hex, sale.pk],
    )
    copied = Sale.objects.get(number="R1-999999")

    page = manager_client.post(URL).content.decode()

    assert "1 break found" in page
    assert f"pos.sale:{copied.pk}" in page
    assert "no journal entry records this sale" in page
