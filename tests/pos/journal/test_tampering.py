"""Rows edited past the services, by raw SQL: the check names the entry each time.

Runs on SQLite and on PostgreSQL (there with the append-only triggers dropped for the test).
"""

from decimal import Decimal

import pytest
from django.core.management import call_command

from pos.journal.verify import verify
from pos.models import JournalEntry
from pos.services.checkout import TenderLine

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def three_sales(sell, product, make_product):
    cable = make_product(stock=5)
    return [
        sell((product, 1)),
        sell((product, 2), (cable, 1), tenders=[TenderLine("cash", D(40000))]),
        sell((cable, 1)),
    ]


def only_break(report):
    assert len(report.breaks) == 1, report.breaks
    return report.breaks[0]


def entry_of(sale):
    return JournalEntry.objects.get(kind="sale", reference=f"pos.sale:{sale.pk}")


def test_an_intact_journal_has_no_break(three_sales):
    report = verify()
    assert report.ok, report.breaks
    # The two products' opening stock, then the shift and three sales.
    assert [(c.count, c.first_seq, c.last_seq) for c in report.chains] == [(2, 1, 2), (4, 1, 4)]


def test_a_sales_total_changed_in_the_database_is_named(three_sales, raw_sql):
    sale = three_sales[1]
    raw_sql("UPDATE pos_sale SET total = 1000 WHERE id = %s", [sale.pk])

    problem = only_break(verify())

    assert (problem.seq, problem.kind, problem.reference) == (3, "sale", f"pos.sale:{sale.pk}")
    assert problem.problem == "total is 36000.00 in the journal but 1000.00 in the database"


def test_a_deleted_sale_line_is_named(three_sales, raw_sql):
    sale = three_sales[1]
    raw_sql("DELETE FROM pos_saleline WHERE id = %s", [sale.lines.order_by("pk").last().pk])

    problem = only_break(verify())

    assert (problem.seq, problem.reference) == (3, f"pos.sale:{sale.pk}")
    assert problem.problem == "the number of lines is 2 in the journal but 1 in the database"


def test_a_changed_payment_is_named(three_sales, raw_sql):
    sale = three_sales[0]
    raw_sql("UPDATE pos_payment SET tender = 'card' WHERE sale_id = %s", [sale.pk])

    problem = only_break(verify())

    assert problem.seq == 2
    assert problem.problem == "payments.0.tender is cash in the journal but card in the database"


def test_a_deleted_sale_is_named(three_sales, raw_sql):
    sale = three_sales[2]
    raw_sql("DELETE FROM pos_payment WHERE sale_id = %s", [sale.pk])
    raw_sql("DELETE FROM pos_stockmovement WHERE reference_id = %s", [str(sale.pk)])
    raw_sql("DELETE FROM pos_saleline WHERE sale_id = %s", [sale.pk])
    raw_sql("DELETE FROM pos_sale WHERE id = %s", [sale.pk])

    problem = only_break(verify())

    assert (problem.seq, problem.problem) == (4, "the sale it records is no longer in the database")


def test_an_edited_entry_is_named(three_sales, raw_sql):
    entry = entry_of(three_sales[1])
    raw_sql(
        "UPDATE pos_journalentry SET payload = REPLACE(payload, '36000.00', '1000.00') "
        "WHERE id = %s",
        [entry.pk],
    )

    problems = verify().breaks

    assert [(p.seq, p.problem) for p in problems][0] == (3, "its hash does not match its contents")
    assert all(p.seq == 3 for p in problems), problems


def test_two_swapped_entries_are_named(three_sales, raw_sql):
    chain = entry_of(three_sales[0]).chain
    swap = "UPDATE pos_journalentry SET seq = %s WHERE chain = %s AND seq = %s"
    raw_sql(swap, [1000, chain, 2])
    raw_sql(swap, [2, chain, 3])
    raw_sql(swap, [3, chain, 1000])

    problems = verify().breaks

    assert problems[0].seq == 2
    assert problems[0].reference == f"pos.sale:{three_sales[1].pk}"
    assert problems[0].problem == "its previous hash is not the hash of the entry before it"
    assert {p.seq for p in problems} == {2, 3, 4}


def test_a_deleted_entry_is_named_by_the_gap(three_sales, raw_sql):
    raw_sql("DELETE FROM pos_journalentry WHERE id = %s", [entry_of(three_sales[1]).pk])

    problems = verify().breaks

    assert [(p.seq, p.problem) for p in problems] == [
        (4, "entries 3 to 3 are missing"),
        (4, "its previous hash is not the hash of the entry before it"),
        (None, "no journal entry records this sale"),  # and which event it recorded
    ]
    assert problems[-1].reference == f"pos.sale:{three_sales[1].pk}"


def test_the_last_entry_deleted_leaves_the_head_ahead(three_sales, raw_sql):
    raw_sql("DELETE FROM pos_journalentry WHERE id = %s", [entry_of(three_sales[2]).pk])

    problem, unrecorded = verify().breaks

    assert problem.seq == 3
    assert "its head is entry 4" in problem.problem
    assert (unrecorded.reference, unrecorded.problem) == (
        f"pos.sale:{three_sales[2].pk}",
        "no journal entry records this sale",
    )


def test_an_entry_moved_to_another_day_is_named(three_sales, raw_sql):
    raw_sql(
        "UPDATE pos_journalentry SET business_day = '2020-01-01' WHERE id = %s",
        [entry_of(three_sales[0]).pk],
    )

    problem = only_break(verify())

    assert problem.seq == 2
    assert problem.problem.startswith("its column day (2020-01-01) differs from its contents")


def test_the_command_exits_1_and_prints_each_break(three_sales, raw_sql, capsys):
    raw_sql("UPDATE pos_sale SET total = 1000 WHERE id = %s", [three_sales[1].pk])

    with pytest.raises(SystemExit) as exited:
        call_command("verify_journal")

    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert f"#3 (sale pos.sale:{three_sales[1].pk}): total is 36000.00" in out
    assert "1 break(s) in 6 entries." in out


def test_the_nightly_run_alerts_the_owner_on_a_break(three_sales, raw_sql, admin_user):
    from django.core import mail

    admin_user.email = "owner@example.rw"
    admin_user.save(update_fields=["email"])
    raw_sql("UPDATE pos_sale SET total = 1000 WHERE id = %s", [three_sales[1].pk])

    with pytest.raises(SystemExit):
        call_command("verify_journal", "--alert")

    (message,) = mail.outbox
    assert message.to == ["owner@example.rw"]
    assert "integrity check found breaks" in message.subject
    assert "total is 36000.00 in the journal but 1000.00 in the database" in message.body


def test_an_intact_nightly_run_sends_nothing(three_sales, admin_user):
    from django.core import mail

    admin_user.email = "owner@example.rw"
    admin_user.save(update_fields=["email"])

    call_command("verify_journal", "--alert")

    assert mail.outbox == []


def test_a_payload_that_is_not_json_is_named_and_the_rest_still_checked(three_sales, raw_sql):
    """On PostgreSQL the database parses the payloads: one that is not JSON makes its range be
    walked entry by entry, as on SQLite, with the same report."""
    entry = entry_of(three_sales[1])
    raw_sql("UPDATE pos_journalentry SET payload = 'not json' WHERE id = %s", [entry.pk])
    raw_sql("UPDATE pos_sale SET total = 1 WHERE id = %s", [three_sales[2].pk])

    problems = [(b.seq, b.problem) for b in verify().breaks]

    assert problems == [
        (3, "its hash does not match its contents"),
        (3, "its contents are not valid JSON"),
        (4, "total is 12000.00 in the journal but 1.00 in the database"),
    ]


@pytest.mark.postgres
def test_on_postgresql_intact_sales_are_checked_by_the_database(three_sales, monkeypatch):
    from pos.journal import verify as verify_module

    looked_at = []
    check_contents = verify_module._check_contents
    monkeypatch.setattr(
        verify_module,
        "_check_contents",
        lambda row, *args: looked_at.append(row[2]) or check_contents(row, *args),
    )

    assert verify().ok
    # Only the entries of other kinds are parsed here: the shift opened and the opening stock.
    assert sorted(looked_at) == ["shift_opened", "stock_adjustment", "stock_adjustment"]


@pytest.mark.postgres
def test_on_postgresql_a_sale_with_strings_to_escape_is_checked_by_the_database(
    sell, make_product, monkeypatch
):
    """PostgreSQL compares each sale's payload, as text, with the text it builds from the rows:
    quotes, a backslash, a control character and letters past ASCII are escaped as the journal
    wrote them, so the sale is found intact without Python parsing it."""
    from pos.journal import verify as verify_module

    odd = make_product(stock=3, name='Fanta "Citron" 50cl \\ tab\there, é ñ — Ikawa\x01')
    sell((odd, 2))
    looked_at = []
    check_contents = verify_module._check_contents
    monkeypatch.setattr(
        verify_module,
        "_check_contents",
        lambda row, *args: looked_at.append(row[2]) or check_contents(row, *args),
    )

    assert verify().ok
    assert "sale" not in looked_at


@pytest.mark.postgres
def test_on_postgresql_a_changed_product_name_is_named_by_its_field(three_sales, raw_sql):
    sale = three_sales[0]
    raw_sql("UPDATE pos_saleline SET product_name = 'Ikawa' WHERE sale_id = %s", [sale.pk])

    problem = only_break(verify())

    assert (problem.seq, problem.reference) == (2, f"pos.sale:{sale.pk}")
    assert problem.problem.startswith("lines.0.product_name is ")
    assert problem.problem.endswith(" in the journal but Ikawa in the database")
