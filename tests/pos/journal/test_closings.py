"""Closings: each day, month and year once it has ended, never edited, checked from the entries."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from pos.journal.verify import verify
from pos.models import Closing, JournalEntry
from pos.services import closings
from pos.services.checkout import TenderLine
from pos.services.closings import close_due_periods
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.voids import void_sale

pytestmark = pytest.mark.django_db
D = Decimal


def after_today(days=0, minutes=10):
    """A moment `days` after the end of today (shop time), `minutes` past midnight."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1 + days)
    midnight = datetime.datetime.combine(tomorrow, datetime.time(), timezone.get_current_timezone())
    return midnight + datetime.timedelta(minutes=minutes)


def today_closing():
    closing = Closing.objects.get(kind="day", period_start=timezone.localdate())
    return closing, json.loads(closing.payload)


@pytest.fixture
def a_day_of_trade(sell, product, make_product, shift, manager, customer):
    cable = make_product(stock=5, retail_price=D(5000), minimum_price=D(4000))
    sell((product, 2), tenders=[TenderLine("cash", D(30000))])  # 24000, change 6000
    sell((cable, 1), tenders=[TenderLine("mobile_money", D(5000), reference="MP1")])
    voided = sell((cable, 1))
    void_sale(sale=voided, user=manager, reason="Wrong item")
    refunded = sell((product, 1), tenders=[TenderLine("account", D(12000))], customer=customer)
    refund_sale(
        sale=refunded,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(refunded.lines.get().pk, 1)],
        reason="Faulty",
        tender="account",
    )


@pytest.fixture
def customer(db):
    from pos.models import Customer

    return Customer.objects.create(name="Hotel Mille Collines", credit_limit=D(200000))


def test_a_day_is_closed_after_it_ends_with_totals_by_tender_and_vat_rate(a_day_of_trade):
    assert close_due_periods(now=after_today(minutes=4)) == []  # within the grace period

    written = close_due_periods(now=after_today())

    assert written[0].kind == "day"
    closing, stored = today_closing()
    totals = stored["totals"]
    assert totals["sales"] == {"count": 4, "total": "46000.00"}
    assert totals["voids"] == {"count": 1, "total": "5000.00"}
    assert totals["refunds"] == {"count": 1, "total": "12000.00"}
    assert totals["net_sales"] == "29000.00"
    # Cash 30000 less 6000 change; the void gave its 10,000,000 back, change in; on account
    # 12000 then credited back.
    assert totals["by_tender"] == {
        "account": "0.00",
        "cash": "24000.00",
        "mobile_money": "5000.00",
    }
    assert totals["by_vat_rate"] == {"18.00": {"tax": "4424.00", "total": "29000.00"}}
    assert totals["events"]["sale"] == 4
    assert stored["grand_total"] == "29000.00" and closing.grand_total == D(29000)
    heads = {e.chain: e for e in JournalEntry.objects.order_by("seq")}
    assert stored["heads"] == {
        chain: {"seq": entry.seq, "hash": entry.hash} for chain, entry in heads.items()
    }
    assert close_due_periods(now=after_today(minutes=30)) == []  # closed once
    assert verify().ok


def test_the_grand_total_is_perpetual_and_a_month_is_the_sum_of_its_days(sell, product):
    sell((product, 1))

    written = close_due_periods(now=after_today(days=40))

    days = [c for c in written if c.kind == "day"]
    assert len(days) == 41
    assert [c.seq for c in written] == list(range(1, len(written) + 1))
    assert {c.grand_total for c in days} == {D(12000)}  # nothing sold since: it stays
    months = [c for c in written if c.kind == "month"]
    assert len(months) in (1, 2)
    first_month = json.loads(months[0].payload)
    assert first_month["totals"]["sales"] == {"count": 1, "total": "12000.00"}
    assert first_month["period_start"] == timezone.localdate().replace(day=1).isoformat()
    report = verify()
    assert report.ok, report.breaks
    assert report.closings == len(written)


def test_a_year_ends_with_a_yearly_closing(sell, product):
    sell((product, 1))
    year_end = datetime.date(timezone.localdate().year, 12, 31)

    written = close_due_periods(now=after_today(days=(year_end - timezone.localdate()).days))

    (year,) = [c for c in written if c.kind == "year"]
    assert (year.period_start, year.period_end) == (year_end.replace(month=1, day=1), year_end)
    assert json.loads(year.payload)["totals"]["sales"]["count"] == 1
    assert written[-1] == year


def test_the_days_chain_heads_are_mailed_to_the_owner(
    sell, product, admin_user, django_capture_on_commit_callbacks
):
    admin_user.email = "owner@example.rw"
    admin_user.save(update_fields=["email"])
    sell((product, 1))

    with django_capture_on_commit_callbacks(execute=True):
        close_due_periods(now=after_today())

    (message,) = mail.outbox
    assert message.to == ["owner@example.rw"]
    closing, stored = today_closing()
    assert closing.hash in message.body
    for head in stored["heads"].values():
        assert head["hash"] in message.body


def test_the_first_sale_of_a_day_closes_the_days_before_it_once_per_process(
    sell, product, monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries
):
    monkeypatch.setattr(closings, "_closed_through", None)
    monkeypatch.setattr(closings, "_recheck_at", 0.0)
    monkeypatch.setattr(closings, "last_closable_day", lambda now=None: timezone.localdate())
    sell((product, 1))  # yesterday's sale, as it were

    with django_capture_on_commit_callbacks(execute=True):
        sell((product, 1))

    assert Closing.objects.filter(kind="day", period_start=timezone.localdate()).exists()
    with django_assert_num_queries(0):
        closings.close_after_sale()


def test_a_closing_that_fails_is_tried_again_later_not_by_every_sale(
    sell, product, monkeypatch, caplog
):
    monkeypatch.setattr(closings, "_closed_through", None)
    monkeypatch.setattr(closings, "_recheck_at", 0.0)
    monkeypatch.setattr(closings, "last_closable_day", lambda now=None: timezone.localdate())
    tries = []

    def failing(**kwargs):
        tries.append(1)
        raise ValueError("a payload that does not parse")

    monkeypatch.setattr(closings, "close_due_periods", failing)
    closings.close_after_sale()
    closings.close_after_sale()
    assert len(tries) == 1
    assert "Could not write the journal's closings" in caplog.text

    later = closings.time.time() + closings.RETRY_AFTER_FAILURE.total_seconds() + 1
    monkeypatch.setattr(closings.time, "time", lambda: later)
    closings.close_after_sale()
    assert len(tries) == 2


def test_the_close_journal_command_writes_what_is_due(sell, product, capsys):
    sell((product, 1))

    call_command("close_journal")

    assert "0 closing(s) written" in capsys.readouterr().out  # today has not ended


def test_an_edited_closing_is_named(a_day_of_trade, raw_sql):
    close_due_periods(now=after_today())
    closing, _stored = today_closing()
    raw_sql(
        'UPDATE pos_closing SET payload = REPLACE(payload, \'"cash":"24000.00"\', '
        '\'"cash":"20000.00"\'), hash = %s WHERE id = %s',
        ["0" * 64, closing.pk],
    )

    problems = [p for p in verify().breaks if p.chain == "closings"]

    assert problems[0].seq == closing.seq
    assert problems[0].problem == "its hash does not match its contents"
    assert problems[1].problem == (
        "totals.by_tender.cash is 20000.00 in the closing but 24000.00 from the journal"
    )


def test_a_closing_whose_entries_changed_is_named(a_day_of_trade, raw_sql):
    close_due_periods(now=after_today())
    closing, _stored = today_closing()
    # A copy of the day's first sale slipped in behind the journal's back, after the closing.
    raw_sql(
        "INSERT INTO pos_journalentry (chain, seq, kind, reference, business_day, created_at, "
        "payload, prev_hash, hash) SELECT chain, seq + 100, kind, reference, business_day, "
        "created_at, payload, prev_hash, hash FROM pos_journalentry WHERE kind = 'sale' "
        "AND business_day = %s ORDER BY seq LIMIT 1",
        [timezone.localdate()],
    )

    problems = [p for p in verify().breaks if p.chain == "closings"]

    assert [(p.seq, p.problem) for p in problems] == [
        (closing.seq, "grand_total is 29000.00 in the closing but 53000.00 from the journal")
    ]


def test_a_deleted_closing_is_named(sell, product, raw_sql):
    sell((product, 1))
    close_due_periods(now=after_today(days=2))
    second = Closing.objects.get(seq=2)
    raw_sql("DELETE FROM pos_closing WHERE id = %s", [second.pk])

    problems = [(p.seq, p.problem) for p in verify().breaks]

    assert (3, "closings 2 to 2 are missing") in problems


def test_a_grand_total_column_edited_is_named(sell, product, raw_sql):
    sell((product, 1))
    (closing, *_rest) = close_due_periods(now=after_today())
    raw_sql("UPDATE pos_closing SET grand_total = 1 WHERE id = %s", [closing.pk])

    (problem,) = verify().breaks

    assert (problem.seq, problem.problem) == (
        closing.seq,
        "its grand total column differs from its contents",
    )


@pytest.mark.postgres
def test_postgresql_refuses_to_change_a_closing(sell, product):
    from django.db import DatabaseError, transaction

    sell((product, 1))
    (closing, *_rest) = close_due_periods(now=after_today())
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE pos_closing SET grand_total = 0 WHERE id = %s", [closing.pk])


def test_the_scheduler_closes_the_journal_after_midnight_and_checks_it_at_night(
    sell, product, admin_user, raw_sql, django_capture_on_commit_callbacks
):
    from jobs.schedule import spec_for
    from pos import tasks

    admin_user.email = "owner@example.rw"
    admin_user.save(update_fields=["email"])
    assert spec_for("pos.tasks.close_journal").schedule.describe() == "daily at 00:10"
    assert spec_for("pos.tasks.verify_journal").schedule.describe() == "daily at 02:00"
    sale = sell((product, 1))

    assert tasks.close_journal.call() == {"closings": []}  # today has not ended
    assert tasks.verify_journal.call() == {
        "entries": 3,
        "closings": 0,
        "breaks": 0,
        "processes": 1,
    }
    assert mail.outbox == []
    raw_sql("UPDATE pos_sale SET total = 1 WHERE id = %s", [sale.pk])
    assert tasks.verify_journal.call()["breaks"] == 1
    (message,) = mail.outbox
    assert "integrity check found breaks" in message.subject
