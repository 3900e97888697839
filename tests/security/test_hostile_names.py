"""Stored XSS and CSV injection: names with markup or formulas, typed into the shop's records.

A product, a customer, the shop, a category and a supplier are named with markup. Every screen,
the receipt, the invoice, the statement, the reports, the admin and the health dashboard show
them escaped; the raw markup never reaches a page. Every CSV export writes text cells that a
spreadsheet would run as a formula with a leading `'` (pos/spreadsheet.py), numbers as numbers.
"""

import csv
import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

PRODUCT = '<script>alert("product")</script>'
CUSTOMER = '"><img src=x onerror=alert("customer")>'
SHOP = "<svg onload=alert('shop')>"
CATEGORY = "<iframe src=javascript:alert(1)>"
SUPPLIER = "</title><script>alert('supplier')</script>"
HOSTILE = [PRODUCT, CUSTOMER, SHOP, CATEGORY, SUPPLIER]


def escaped(text: str) -> str:
    from django.utils.html import escape

    return escape(text)


@pytest.fixture
def hostile_shop(shop):
    from pos.models import Category, Customer, Product, ShopSettings, Supplier
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.shifts import close_shift, review_close

    Product.objects.filter(pk=shop["product"].pk).update(name=PRODUCT)
    Customer.objects.filter(pk=shop["customer"].pk).update(name=CUSTOMER)
    Category.objects.filter(pk=shop["category"].pk).update(name=CATEGORY)
    Supplier.objects.filter(pk=shop["supplier"].pk).update(name=SUPPLIER)
    settings = ShopSettings.load()
    settings.name = SHOP
    settings.receipt_footer = PRODUCT
    settings.save()
    sale = checkout(
        shift=shop["shift"],
        cashier=shop["users"]["cashier"],
        cart=Cart([CartLine(shop["product"].pk, 2)], customer_id=shop["customer"].pk),
        tenders=[TenderLine("account", Decimal(7000))],
        idempotency_key=uuid.uuid4(),
    )
    # The other cashier's shift, closed, for the Z-report and the shifts report.
    closed = review_close(
        shift=close_shift(
            shift=shop["other_shift"],
            counted={"cash": Decimal(13500)},
            user=shop["users"]["other_cashier"],
        ),
        user=shop["users"]["manager"],
    )
    return {**shop, "hostile_sale": sale, "closed": closed}


def pages(s):
    sale, product, customer = s["hostile_sale"], s["product"], s["customer"]
    invoice = sale.invoice
    cashier = [
        "/register/",
        f"/register/search/?q={product.sku}",
        "/register/pay/",
        f"/pos/sales/{sale.pk}/receipt/",
        f"/pos/invoices/{invoice.pk}/",
        f"/pos/customers/{customer.pk}/statement/",
        "/register/history/",
        f"/register/shifts/{s['shift'].pk}/z-report/",
        f"/register/sales/{sale.pk}/void/",
    ]
    manager = [
        "/reports/",
        "/reports/sales/?by=product",
        "/reports/sales/?by=customer",
        "/reports/sales/?by=category",
        "/reports/profit/",
        "/reports/inventory/",
        "/reports/customers/",
        "/reports/shifts/",
        f"/reports/shifts/{s['closed'].pk}/",
        f"/register/sales/{sale.pk}/refund/",
    ]
    admin = [
        "/admin/",
        "/admin/pos/product/",
        f"/admin/pos/product/{product.pk}/change/",
        f"/admin/pos/product/{product.pk}/adjust-stock/",
        "/admin/pos/product/stock-count/",
        "/admin/pos/customer/",
        f"/admin/pos/customer/{customer.pk}/change/",
        "/admin/pos/sale/",
        f"/admin/pos/sale/{sale.pk}/change/",
        "/admin/pos/invoice/",
        f"/admin/pos/invoice/{invoice.pk}/change/",
        "/admin/pos/shopsettings/",
        "/admin/pos/category/",
        "/admin/pos/supplier/",
        "/admin/pos/stockmovement/",
        "/admin/pos/lowstockalert/",
        f"/admin/pos/purchaseorder/{s['order'].pk}/change/",
        "/admin/health/",
    ]
    return (
        [("cashier", p) for p in cashier]
        + [("manager", p) for p in manager]
        + [("admin", p) for p in admin]
    )


@pytest.mark.django_db
def test_markup_in_names_is_escaped_on_every_page(hostile_shop):
    clients = {}
    for role in ("cashier", "manager", "admin"):
        clients[role] = Client()
        clients[role].force_login(hostile_shop["users"][role])
    # The cashier's cart holds the product and the customer.
    till = clients["cashier"]
    till.post("/register/scan/", {"code": hostile_shop["product"].sku})
    till.post("/register/customer/", {"customer_id": hostile_shop["customer"].pk})

    shown = set()
    for role, path in pages(hostile_shop):
        response = clients[role].get(path, follow=True)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        html = response.content.decode()
        for name in HOSTILE:
            assert name not in html, f"{path} shows {name!r} unescaped"
            if escaped(name) in html:
                shown.add((path, name))
    # The names were there to be escaped (a page that drops them proves nothing).
    for path in ("/register/", "/pos/sales/", "/reports/sales/?by=product", "/admin/pos/product/"):
        assert any(p.startswith(path) and n == PRODUCT for p, n in shown), path
    assert any(n == CUSTOMER for _, n in shown) and any(n == SHOP for _, n in shown)


# --- CSV ----------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def cells(content: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content)))


def test_the_csv_helper_neutralises_text_and_leaves_numbers():
    from pos.spreadsheet import csv_writer, safe_cell, unneutralise

    for formula in FORMULAS:
        assert safe_cell(formula) == "'" + formula
        assert unneutralise(safe_cell(formula)) == formula
    assert safe_cell(Decimal("-500")) == Decimal("-500")
    assert safe_cell(-3) == -3
    assert safe_cell("Samsung - 25W") == "Samsung - 25W"
    out = io.StringIO()
    csv_writer(out).writerow(["=1+1", Decimal("-500"), "-500", 7])
    assert cells(out.getvalue()) == [["'=1+1", "-500", "'-500", "7"]]


@pytest.fixture
def formula_shop(shop):
    from pos.models import Customer, Product

    Product.objects.filter(pk=shop["product"].pk).update(name='=HYPERLINK("http://x","a")')
    Customer.objects.filter(pk=shop["customer"].pk).update(name="@SUM(1+1)")
    return shop


@pytest.mark.django_db
def test_every_csv_export_neutralises_formulas(formula_shop, tmp_path):
    product_name = '=HYPERLINK("http://x","a")'
    manager = Client()
    manager.force_login(formula_shop["users"]["manager"])
    admin = Client()
    admin.force_login(formula_shop["users"]["admin"])

    exports = {
        "report": manager.get("/reports/sales/?by=product&format=csv&table=breakdown"),
        "top products": manager.get("/reports/?format=csv&table=top-products"),
        "customers report": manager.get("/reports/customers/?format=csv&table=top-customers"),
        "statement": manager.get(
            f"/pos/customers/{formula_shop['customer'].pk}/statement/?format=csv"
        ),
        "admin export": admin.post(
            "/admin/pos/product/",
            {"action": "export_csv", "_selected_action": [formula_shop["product"].pk]},
        ),
    }
    target = tmp_path / "products.csv"
    call_command("export_products", "-o", str(target))
    texts = {name: r.content.decode() for name, r in exports.items()}
    texts["export_products"] = target.read_text()
    for name, text in texts.items():
        rows = cells(text)
        flat = [cell for row in rows for cell in row]
        assert not [c for c in flat if c[:1] in ("=", "+", "@", "\t", "\r")], (name, rows)
        assert not [c for c in flat if c[:1] == "-" and not _is_number(c)], (name, rows)
    assert f"'{product_name}" in texts["export_products"].replace('""', '"')
    assert f"'{product_name}" in texts["report"].replace('""', '"')
    assert f"'{product_name}" in texts["admin export"].replace('""', '"')
    assert "'@SUM(1+1)" in texts["customers report"]


def _is_number(cell: str) -> bool:
    try:
        Decimal(cell)
    except ArithmeticError:
        return False
    return True


@pytest.mark.django_db
def test_an_exported_product_file_imports_back_unchanged(formula_shop, tmp_path):
    from pos.models import Product
    from pos.services.csv_import import import_products

    target = tmp_path / "products.csv"
    call_command("export_products", "-o", str(target))
    report = import_products(data=target.read_bytes(), user=formula_shop["users"]["admin"])
    assert not report.errors
    assert Product.objects.get(pk=formula_shop["product"].pk).name == '=HYPERLINK("http://x","a")'
