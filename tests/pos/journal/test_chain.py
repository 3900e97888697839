"""The journal records sales, voids and refunds in one chain per register, hashed in order."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from pos import errors
from pos.journal.canonical import GENESIS, canonical, entry_hash
from pos.journal.verify import verify
from pos.models import ChainHead, JournalEntry, Sale
from pos.services.checkout import TenderLine
from pos.services.refunds import RefundLineInput, refund_sale
from pos.services.voids import void_sale

pytestmark = pytest.mark.django_db
D = Decimal


def test_canonical_json_sorts_keys_and_fixes_numbers():
    import datetime

    at = datetime.datetime(
        2026, 1, 31, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    text = canonical({"b": D("12000"), "a": [at, datetime.date(2026, 1, 31), None, True, 3, "é"]})

    assert text == (
        '{"a":["2026-01-31T08:00:00.000000+00:00","2026-01-31",null,true,3,"é"],"b":"12000.00"}'
    )
    with pytest.raises(TypeError):
        canonical({"a": D("0.001")})  # no fixed two-place text
    assert entry_hash(GENESIS, text) == entry_hash(GENESIS, text)
    assert len(entry_hash(GENESIS, text)) == 64


def test_a_sale_is_one_entry_after_the_shift_opened_holding_its_lines_and_change(
    sell, product, shift, entries
):
    sale = sell((product, 2), tenders=[TenderLine("cash", D(30000))])

    chain = f"register:{shift.register_id}"
    assert entries(chain) == [
        (1, "shift_opened", f"pos.shift:{shift.pk}"),
        (2, "sale", f"pos.sale:{sale.pk}"),
    ]
    first, second = JournalEntry.objects.filter(chain=chain).order_by("seq")
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert second.hash == entry_hash(first.hash, second.payload)
    data = json.loads(second.payload)["data"]
    assert (data["number"], data["total"], data["change_given"]) == (
        "R1-000001",
        "24000.00",
        "6000.00",
    )
    assert [(p["tender"], p["amount"], p["is_change"]) for p in data["payments"]] == [
        ("cash", "30000.00", False),
        ("cash", "-6000.00", True),
    ]
    assert [line["quantity"] for line in data["lines"]] == ["2.000"]  # quantities: three places
    head = ChainHead.objects.get(chain=chain)
    assert (head.last_seq, head.last_hash) == (2, second.hash)


def test_a_refused_sale_leaves_no_entry_and_uses_no_number(sell, product, shift, entries):
    with pytest.raises(errors.InsufficientStock):
        sell((product, 99))
    sell((product, 1))

    assert [seq for seq, _kind, _ref in entries(f"register:{shift.register_id}")] == [1, 2]


def test_void_and_refund_follow_their_sales_in_the_registers_chain(
    sell, product, shift, manager, entries
):
    voided = sell((product, 1))
    refunded = sell((product, 2))
    void_sale(sale=voided, user=manager, reason="Wrong item")
    line = refunded.lines.get()
    refund = refund_sale(
        sale=refunded,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(line.pk, 1)],
        reason="Faulty",
    )

    kinds = [(kind, ref) for _seq, kind, ref in entries(f"register:{shift.register_id}")]
    assert kinds[1:] == [
        ("sale", f"pos.sale:{voided.pk}"),
        ("sale", f"pos.sale:{refunded.pk}"),
        ("void", f"pos.sale:{voided.pk}"),
        ("refund", f"pos.refund:{refund.pk}"),
    ]
    void = json.loads(JournalEntry.objects.get(kind="void").payload)["data"]
    assert void["vat"] == {"18.00": {"tax": "1831.00", "total": "12000.00"}}
    assert sorted(p["amount"] for p in void["payments"]) == ["-10000000.00", "9988000.00"]
    refund_data = json.loads(JournalEntry.objects.get(kind="refund").payload)["data"]
    assert refund_data["lines"][0]["tax_rate"] == "18.00"
    assert refund_data["payments"] == [
        {"amount": "-12000.00", "is_change": False, "reference": refund.number, "tender": "cash"}
    ]
    report = verify()
    assert report.ok, report.breaks
    counts = {chain.chain: chain.count for chain in report.chains}
    assert counts == {"back_office": 1, f"register:{shift.register_id}": 5}  # 1: opening stock


def test_each_register_has_its_own_chain(sell, product, make_user, entries):
    from pos.models import Register
    from pos.services.shifts import open_shift

    other = Register.objects.create(code="R2", name="Till 2")
    grace = make_user("grace", "cashier")
    other_shift = open_shift(register=other, cashier=grace, opening_float=D(0))
    sell((product, 1))
    sell((product, 1), shift=other_shift, cashier=grace)

    assert [s for s, _k, _r in entries(f"register:{other.pk}")] == [1, 2]


def test_entries_and_closings_refuse_to_change_through_the_models(sell, product):
    from pos.models import AppendOnlyError, Closing

    sell((product, 1))
    entry = JournalEntry.objects.get(kind="sale")

    entry.payload = "{}"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.filter(pk=entry.pk).update(payload="{}")
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Closing.objects.all().update(grand_total=0)
    assert JournalEntry.objects.get(pk=entry.pk).payload != "{}"


@pytest.mark.postgres
def test_postgresql_refuses_update_and_delete_of_entries_by_trigger(sell, product):
    from django.db import DatabaseError, transaction

    sell((product, 1))
    entry = JournalEntry.objects.get(kind="sale")
    for sql in (
        "UPDATE pos_journalentry SET payload = '{}' WHERE id = %s",
        "DELETE FROM pos_journalentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_verify_journal_command_reports_the_chains(sell, product, shift, capsys):
    sell((product, 1))

    call_command("verify_journal")

    out = capsys.readouterr().out
    assert f"register:{shift.register_id}: 2 entries, #1" in out
    assert "back_office: 1 entries" in out  # the product's opening stock
    assert "all 3 entries intact, 0 closing(s) checked" in out
    assert Sale.objects.count() == 1
