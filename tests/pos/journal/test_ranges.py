"""The check walks each chain in ranges, each range linked to the entry before it, so that
ranges can be checked side by side: the report is the same whatever the range size, and with
several processes (PostgreSQL, committed data)."""

from decimal import Decimal

import pytest
from django.db import connection

from pos.journal import verify as verify_module
from pos.journal.verify import verify
from pos.models import JournalEntry
from pos.services.checkout import TenderLine

D = Decimal


def shop_day(sell, product) -> str:
    """Six sales after the shift opened; their chain."""
    for i in range(6):
        sale = sell((product, 1), tenders=[TenderLine("cash", D(12000 + i))])
    return f"register:{sale.register_id}"


def as_text(report):
    chains = [
        (c.chain, c.count, c.first_seq, c.last_seq, c.last_hash, c.first_at, c.last_at)
        for c in report.chains
    ]
    return chains, [str(b) for b in report.breaks], report.closings


@pytest.mark.django_db
def test_ranges_of_two_entries_give_the_report_of_one_walk(sell, product, raw_sql, monkeypatch):
    chain = shop_day(sell, product)
    whole = verify()
    monkeypatch.setattr(verify_module, "RANGE", 2)
    assert as_text(verify()) == as_text(whole)
    assert whole.ok

    # A deleted entry at a range's edge, and an edited one: named as by one walk.
    third = JournalEntry.objects.get(chain=chain, seq=4)
    raw_sql("DELETE FROM pos_journalentry WHERE id = %s", [third.pk])
    raw_sql(
        "UPDATE pos_journalentry SET prev_hash = %s WHERE chain = %s AND seq = 6",
        ["0" * 64, chain],
    )
    in_ranges = verify()
    monkeypatch.setattr(verify_module, "RANGE", 50_000)
    assert as_text(in_ranges) == as_text(verify())
    assert [(b.seq, b.problem) for b in in_ranges.breaks][:3] == [
        (5, "entries 4 to 4 are missing"),
        (5, "its previous hash is not the hash of the entry before it"),
        (6, "its previous hash is not the hash of the entry before it"),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_give_the_report_of_one(sell, product, monkeypatch):
    shop_day(sell, product)
    monkeypatch.setattr(verify_module, "RANGE", 2)

    alone, side_by_side = verify(), verify(workers=2)

    assert as_text(side_by_side) == as_text(alone)
    assert side_by_side.ok and side_by_side.entries == 8  # back office 1, till 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_checks_in_the_workers_it_is_set_to(sell, product, monkeypatch, settings):
    from django_tasks.base import TaskResultStatus

    from pos.tasks import verify_journal

    shop_day(sell, product)
    monkeypatch.setattr(verify_module, "RANGE", 2)
    settings.JOURNAL_VERIFY_WORKERS = 2

    result = verify_journal.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"entries": 8, "closings": 0, "breaks": 0, "processes": 2}
    settings.JOURNAL_VERIFY_WORKERS = 1
    assert verify_journal.enqueue().return_value["processes"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_in_two_processes_alerts_on_a_break(
    sell, product, monkeypatch, settings, admin_user
):
    from django.core import mail

    from pos.tasks import verify_journal

    chain = shop_day(sell, product)
    monkeypatch.setattr(verify_module, "RANGE", 2)
    settings.JOURNAL_VERIFY_WORKERS = 2
    admin_user.email = "owner@example.rw"
    admin_user.save(update_fields=["email"])
    # A changed total, in the last range (checked by a worker process, not this one).
    sale = JournalEntry.objects.get(chain=chain, seq=7).reference.removeprefix("pos.sale:")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pos_sale SET total = 1 WHERE id = %s", [sale])

    result = verify_journal.enqueue()

    assert result.return_value == {"entries": 8, "closings": 0, "breaks": 1, "processes": 2}
    (message,) = mail.outbox
    problem = "total is 12000.00 in the journal but 1.00 in the database"
    assert f"{chain} #7 (sale pos.sale:{sale}): {problem}" in message.body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_checks_made_once_give_the_same_report_from_the_workers(sell, product, monkeypatch):
    """Rows no entry records and movements that no longer add up are looked for by the worker
    processes beside the ranges: the report is the one a single process makes."""
    from pos.models import Sale, StockMovement

    chain = shop_day(sell, product)
    monkeypatch.setattr(verify_module, "RANGE", 2)
    recorded = JournalEntry.objects.get(chain=chain, seq=3).reference.removeprefix("pos.sale:")
    sold = StockMovement.objects.get(reference_type="pos.sale", reference_id=recorded)
    columns = [f.column for f in Sale._meta.concrete_fields if not f.primary_key]
    picked = [{"number": "'X-1'", "idempotency_key": "md5('x')::uuid"}.get(c, c) for c in columns]
    with connection.cursor() as cursor:  # past the services: a sale, one more movement
        cursor.execute(
            f"INSERT INTO pos_sale ({', '.join(columns)}) "  # noqa: S608 - the model's own names
            f"SELECT {', '.join(picked)} FROM pos_sale WHERE id = %s",
            [recorded],
        )
        cursor.execute(
            "INSERT INTO pos_stockmovement (store_id, product_id, kind, quantity, stock_before, "
            "stock_after, unit_cost, reason, reference_type, reference_id, reference_label, "
            "created_by_id, created_at) SELECT store_id, product_id, kind, -3, stock_before, "
            "stock_after, "
            "unit_cost, reason, reference_type, reference_id, reference_label, created_by_id, "
            "created_at FROM pos_stockmovement WHERE id = %s",
            [sold.pk],
        )

    alone, side_by_side = verify(), verify(workers=2)

    assert side_by_side.processes == 2
    assert as_text(side_by_side) == as_text(alone)
    assert [(b.seq, b.problem) for b in alone.breaks] == [
        (None, "no journal entry records this sale"),
        (
            3,
            f"the stock movements of product {product.pk} add up to -4.000, the lines it "
            "records to -1.000",
        ),
    ]
