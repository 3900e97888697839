"""Mobile Money reconciliation: the sample MTN statement (docs/samples) against a day at the
till with one of each kind: matched, amount differs, till only, statement only, late success."""

import datetime
import uuid
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pos import errors
from pos.mobile_money import statement
from pos.models import MobileMoneyRequest, MobileMoneyStatementLine, Shift
from pos.services.checkout import TenderLine
from pos.services.momo_reconciliation import import_statement, reconcile_day, reconcile_shift
from pos.services.shifts import z_report

pytestmark = pytest.mark.django_db
D = Decimal
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "mtn-momo-statement.csv"
KIGALI = ZoneInfo("Africa/Kigali")
LATE = uuid.UUID("3f1c2a8e-52d4-4c1e-9a77-0b9f1f6c2d15")
PAID_BY_REQUEST = uuid.UUID("6b0e9d3c-1f7a-4e55-8c21-5d2e7a9b4c60")


def at(hour, minute):
    return datetime.datetime(2026, 12, 4, hour, minute, tzinfo=KIGALI)


def test_the_sample_statement_is_read_with_every_column_it_needs():
    rows = statement.parse(SAMPLE.read_bytes(), zone=KIGALI)
    assert [r.transaction_id for r in rows][:2] == ["7391020101", "7391020102"]
    assert rows[0].at == at(9, 12).replace(second=40)
    assert rows[0].amount == D(12000) and rows[0].payer == "250788100001"
    assert rows[3].external_id == str(LATE)
    assert [r.is_money_in for r in rows] == [True] * 5 + [False, False]  # failed; paid out


def test_a_statement_without_its_columns_or_with_bad_rows_says_where():
    with pytest.raises(statement.StatementError) as caught:
        statement.parse("Id,Date,Amount\n1,2026-12-04 10:00,5\n", zone=KIGALI)
    assert caught.value.problems == [(1, "status", "column missing")]
    with pytest.raises(statement.StatementError) as caught:
        statement.parse(
            "Id;Date;Status;Amount\nA;yesterday;SUCCESSFUL;5\nB;2026-12-04 10:00;SUCCESSFUL;x\n",
            zone=KIGALI,
        )
    assert caught.value.problems == [(2, "Date", "not a date"), (3, "Amount", "not an amount")]


@pytest.fixture
def momo_day(sell, make_product, shift, cashier, time_machine):
    """The till's day: what the sample statement is reconciled with."""
    time_machine.move_to(at(8, 0))
    Shift.objects.filter(pk=shift.pk).update(opened_at=at(8, 0))
    shift.refresh_from_db()
    product = make_product(stock=20)
    time_machine.move_to(at(9, 12))
    sell((product, 1), tenders=[TenderLine("mobile_money", D(12000), reference="7391020101")])
    time_machine.move_to(at(9, 40))  # the statement says 11000 for this one
    sell((product, 1), tenders=[TenderLine("mobile_money", D(12000), reference="7391020102")])
    time_machine.move_to(at(9, 55))  # typed, but MTN has no such transaction
    sell((product, 1), tenders=[TenderLine("mobile_money", D(12000), reference="7391020103")])
    # A request the till gave up on; MTN took the money later (statement row 7391020105).
    time_machine.move_to(at(10, 19))
    MobileMoneyRequest.objects.create(
        reference_id=LATE,
        shift=shift,
        amount=D(8000),
        phone="250788100005",
        status=MobileMoneyRequest.Status.FAILED,
        reason="Timed out",
        created_by=cashier,
    )
    # A request-to-pay that paid a sale (statement row 7391020106).
    time_machine.move_to(at(10, 44))
    paid = MobileMoneyRequest.objects.create(
        reference_id=PAID_BY_REQUEST,
        shift=shift,
        amount=D(12000),
        phone="250788100006",
        status=MobileMoneyRequest.Status.SUCCESSFUL,
        financial_transaction_id="7391020106",
        created_by=cashier,
    )
    time_machine.move_to(at(10, 45))
    sell((product, 1), tenders=[TenderLine("mobile_money", D(12000), momo_request_id=paid.pk)])
    time_machine.move_to(at(12, 0))
    return shift


def summary(result):
    return sorted(
        (
            m.kind,
            m.row.transaction_id if m.row else None,
            m.payment.reference if m.payment else None,
            m.difference,
        )
        for m in result.matches
    )


def test_the_sample_is_reconciled_with_the_days_mobile_money_kind_by_kind(momo_day, manager):
    assert import_statement(content=SAMPLE.read_bytes(), user=manager) == {"rows": 7, "new": 7}
    expected = [
        ("amount_differs", "7391020102", "7391020102", D(-1000)),
        ("late_success", "7391020105", None, D(8000)),
        ("matched", "7391020101", "7391020101", D(0)),
        ("matched", "7391020106", "7391020106", D(0)),
        ("pos_only", None, "7391020103", D(-12000)),
        ("statement_only", "7391020104", None, D(5000)),
    ]
    assert summary(reconcile_day(datetime.date(2026, 12, 4))) == expected
    assert summary(reconcile_shift(momo_day)) == expected
    totals = reconcile_shift(momo_day).totals()
    assert totals["matched"] == {"count": 2, "statement": D(24000), "till": D(24000)}

    # The same file again stores nothing twice.
    assert import_statement(content=SAMPLE.read_bytes(), user=manager) == {"rows": 7, "new": 0}
    assert MobileMoneyStatementLine.objects.count() == 7


def test_the_z_report_shows_mobile_money_by_status_apart_from_cash(momo_day):
    report = z_report(momo_day)
    assert report["mobile_money"] == {
        "typed_reference": {"count": 3, "total": "36000"},
        "request_to_pay": {"count": 1, "total": "12000"},
        "pending": {"count": 0, "total": "0"},
        "failed": {"count": 1, "total": "8000"},
        "late_success": {"count": 0, "total": "0"},
    }
    assert report["by_tender"]["mobile_money"]["net"] == "48000"
    assert "mobile_money" not in report["cash"]


def test_only_a_manager_imports_a_statement_and_a_bad_file_stores_nothing(cashier, manager):
    with pytest.raises(errors.NotAllowed):
        import_statement(content=SAMPLE.read_bytes(), user=cashier)
    with pytest.raises(errors.ImportFailed) as caught:
        import_statement(content=b"Id,Date,Status,Amount\n1,never,SUCCESSFUL,5\n", user=manager)
    assert caught.value.report == ["Line 2, Date: not a date"]
    assert not MobileMoneyStatementLine.objects.exists()


def test_a_manager_imports_the_statement_and_sees_each_kind_on_the_page(momo_day, client, manager):
    from tests.conftest import PASSWORD

    client.login(username=manager.username, password=PASSWORD)
    with SAMPLE.open("rb") as sample:
        response = client.post("/reports/mobile-money/?day=2026-12-04", {"file": sample})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "7 rows read, 7 new." in page
    for kind in ("matched", "amount_differs", "late_success", "statement_only", "pos_only"):
        assert f'data-kind="{kind}"' in page
    assert "-1,000 RWF" in page and "7391020104" in page
    shift_page = client.get(f"/reports/mobile-money/?shift={momo_day.pk}").content.decode()
    assert 'data-kind="late_success"' in shift_page
    bad = client.post("/reports/mobile-money/", {"file": _upload(b"nothing useful\n")})
    assert "column missing" in bad.content.decode()


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("statement.csv", content, content_type="text/csv")


REFUNDS_STATEMENT = """Id,External Transaction Id,Date,Status,Type,Amount,Currency
8100000001,,2026-12-04 13:05:00,SUCCESSFUL,TRANSFER,-3000,RWF
8100000002,{named},2026-12-04 13:20:00,SUCCESSFUL,TRANSFER,-5000,RWF
8100000003,,2026-12-04 13:30:00,SUCCESSFUL,TRANSFER,-50000,RWF
"""


def test_mobile_money_refunds_are_reconciled_with_the_money_paid_out(
    sell, make_product, shift, cashier, manager, time_machine
):
    from pos.services.refunds import RefundLineInput, refund_sale

    time_machine.move_to(at(12, 0))
    Shift.objects.filter(pk=shift.pk).update(opened_at=at(12, 0))
    shift.refresh_from_db()
    product = make_product(stock=20, retail_price=D(3000), minimum_price=D(1000))
    other = make_product(stock=20, retail_price=D(5000), minimum_price=D(1000))
    missing = make_product(stock=20, retail_price=D(2000), minimum_price=D(1000))
    refunds = []
    for item, reference in ((product, "7400000001"), (other, "7400000002"), (missing, "74003")):
        time_machine.move_to(at(12, 30))
        sale = sell((item, 1), tenders=[TenderLine("mobile_money", item.retail_price, reference)])
        time_machine.move_to(at(13, 0))
        refunds.append(
            refund_sale(
                sale=sale,
                shift=shift,
                user=cashier,
                approved_by=manager,
                lines=[RefundLineInput(sale.lines.get().pk, 1)],
                reason="Faulty",
                tender="mobile_money",
            )
        )
    time_machine.move_to(at(14, 0))
    # The first refund is found by its amount paid out after it; the second names the refund's
    # number; the third (2,000) was never paid out; the 50,000 to the bank is not the till's.
    content = REFUNDS_STATEMENT.format(named=refunds[1].number).encode()
    import_statement(content=content, user=manager)

    found = sorted(
        (m.kind, m.row.transaction_id if m.row else None, m.payment.reference, m.difference)
        for m in reconcile_shift(shift).matches
        if m.payment is not None and m.payment.amount < 0
    )

    assert found == [
        ("matched", "8100000001", refunds[0].number, D(0)),
        ("matched", "8100000002", refunds[1].number, D(0)),
        ("pos_only", None, refunds[2].number, D(2000)),
    ]
    assert not [m for m in reconcile_shift(shift).matches if m.kind == "statement_only"]
