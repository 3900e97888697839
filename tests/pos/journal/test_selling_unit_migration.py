"""Migration 0025 journals the selling units that exist already: the check then holds each
against its entry (and names none as unrecorded)."""

from decimal import Decimal

import orjson
import pytest
from django.core.management import call_command

from pos.journal import coverage
from pos.journal.verify import verify
from pos.models import JournalEntry, SellingUnit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def every_app_migrated_after():
    """Going back to pos 0024 also unapplies the other apps' migrations that need a later pos
    (fiscal's device per store): the tests after this one need them all, pass or fail."""
    yield
    call_command("migrate", verbosity=0)


def test_units_made_before_the_migration_get_one_entry_each(make_product):
    # The product is made by today's services (they read today's shop settings), the unit at 0024.
    soap = make_product(name="Soap", stock=10)
    call_command("migrate", "pos", "0024", verbosity=0)
    carton = SellingUnit.objects.create(product=soap, name="Carton", factor=24, price=22000)
    # No entry records the carton yet. (Only the selling units' query: today's whole check
    # also reads tables made after 0024, such as the stock transfers'.)
    (units,) = [
        query
        for query in coverage.queries()
        if query[0] == "unrecorded" and coverage._checks()[query[1]].kind == "selling_unit"
    ]
    assert [row.reference for row in coverage.find(units)] == [f"pos.sellingunit:{carton.pk}"]

    call_command("migrate", verbosity=0)

    (entry,) = JournalEntry.objects.filter(kind="selling_unit")
    assert (entry.chain, entry.reference) == ("back_office", f"pos.sellingunit:{carton.pk}")
    data = orjson.loads(entry.payload)["data"]
    assert (data["change"], data["factor"], data["price"]) == ("existing", "24.000", "22000.00")
    report = verify()
    assert report.ok, report.breaks
    SellingUnit.objects.filter(pk=carton.pk).update(price=Decimal(1))
    assert [b.problem for b in verify().breaks] == [
        "price is 22000.00 in the journal but 1.00 in the database"
    ]
