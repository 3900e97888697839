import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import AuditLog
from core.errors import PermissionDenied
from pos.models import Category, Product, Supplier
from pos.services.csv_import import export_products, import_products

pytestmark = pytest.mark.django_db

HEADER = "sku,name,barcode,category,supplier,cost_price,retail_price,minimum_price,reorder_level\n"


@pytest.fixture(autouse=True)
def catalogue(db):
    Category.objects.create(name="Cables")
    Supplier.objects.create(name="Anker Rwanda")


def test_creates_and_then_updates_by_sku(manager, django_capture_on_commit_callbacks):
    csv_text = HEADER + (
        "CAB-1,Anker USB-C Cable 1m,4006381333931,Cables,Anker Rwanda,1500,3500,3000,5\n"
        "CAB-2,Oraimo Lightning Cable,,Cables,,1200,3000,,\n"
    )
    report = import_products(data=csv_text.encode(), user=manager)
    assert report.ok and (report.created, report.updated) == (2, 0)
    second = Product.objects.get(sku="CAB-2")
    assert second.minimum_price == Decimal("3000") and second.barcode is None
    assert second.supplier is None and second.stock_on_hand == 0
    with django_capture_on_commit_callbacks(execute=True):
        report = import_products(
            data="sku,name,category,retail_price\nCAB-1,Anker USB-C Cable 1m,Cables,4000\n",
            user=manager,
        )
    assert (report.created, report.updated) == (0, 1)
    first = Product.objects.get(sku="CAB-1")
    assert first.retail_price == Decimal("4000") and first.barcode == "4006381333931"
    assert first.cost_price == Decimal("1500")  # blank cell kept the old value
    entry = AuditLog.objects.get(action="product.price_changed")
    assert entry.changes == {"retail_price": ["3500.00", "4000.00"]}


def test_dry_run_reports_without_writing():
    report = import_products(data=HEADER + "CAB-1,Cable,,Cables,,1,2,1,0\n", dry_run=True)
    assert report.ok and report.created == 1
    assert not Product.objects.exists()


def test_any_bad_row_writes_nothing_and_names_row_and_column():
    csv_text = HEADER + (
        "CAB-1,Good cable,,Cables,,1500,3500,3000,5\n"  # row 2
        "CAB-2,Bad price,,Cables,,abc,3500,3000,5\n"  # row 3
        "CAB-3,Bad barcode,4006381333932,Cables,,1,3500,3000,5\n"  # row 4
        "CAB-1,Duplicate sku,,Phones,,1,3500,3000,-1\n"  # row 5
        "CAB-5,Min above retail,,Cables,Nobody,1,3500,4000,0\n"  # row 6
    )
    report = import_products(data=csv_text)
    assert not Product.objects.exists()
    lines = report.error_lines()
    assert "Row 3, column cost_price: Enter a number." in lines
    assert "Row 4, column barcode: EAN-13 barcode 4006381333932 has a wrong check digit." in lines
    assert "Row 5, column sku: CAB-1 already appears in row 2." in lines
    assert "Row 5, column category: Unknown category Phones." in lines
    assert any(line.startswith("Row 5, column reorder_level:") for line in lines)
    assert "Row 6, column supplier: Unknown supplier Nobody." in lines
    assert "Row 6, column minimum_price: The minimum price cannot exceed the retail price." in lines
    assert report.created == 0


def test_duplicates_against_the_database(make_product):
    existing = make_product(barcode="4006381333931")
    report = import_products(data=HEADER + "NEW-1,Cable,4006381333931,Cables,,1,2,1,0\n")
    assert report.error_lines() == [
        "Row 2, column barcode: Product with this Barcode already exists."
    ]
    assert Product.objects.get() == existing


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty"),
        (b"sku,name,colour_of_box\n", "Unknown column"),
        (b"sku,name\nX,Y\n", "Required column(s) missing"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (HEADER.encode() + b"ONLY,TWO\n", "Expected 9 values, found 2"),
        (HEADER.encode() + b'A,"unterminated\n', "Expected 9 values"),
    ],
)
def test_malformed_files_are_explained(data, message):
    report = import_products(data=data)
    assert not report.ok
    assert message in " ".join(report.error_lines())


def test_cashier_cannot_import(cashier):
    with pytest.raises(PermissionDenied):
        import_products(data=HEADER, user=cashier)


def test_export_round_trips(make_product):
    make_product(
        sku="EXP-1", name="Exported, with comma", category=Category.objects.get(name="Cables")
    )
    out = io.StringIO()
    assert export_products(Product.objects.all(), out) == 1
    Product.objects.all().delete()
    report = import_products(data=out.getvalue())
    assert report.ok and Product.objects.get().name == "Exported, with comma"


def test_command(tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "CAB-1,Cable,,Cables,,1,2,1,0\n")
    call_command("import_products", str(good), "--dry-run")
    assert "Would create 1" in capsys.readouterr().out
    assert not Product.objects.exists()
    call_command("import_products", str(good))
    assert Product.objects.count() == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "CAB-2,Cable,,Nowhere,,1,2,1,0\n")
    with pytest.raises(SystemExit):
        call_command("import_products", str(bad))
    assert "Row 2, column category: Unknown category Nowhere." in capsys.readouterr().err


def test_cost_above_retail_is_a_warning_not_an_error():
    report = import_products(data=HEADER + "CAB-1,Cable,,Cables,,4000,3500,3000,0\n")
    assert report.ok and Product.objects.count() == 1
    assert report.warnings == ["Row 2: cost price 4000 is above retail price 3500."]
