import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_creates_nothing_twice(client, capsys):
    from django.db.models import Sum

    from pos.barcodes import validate_barcode
    from pos.models import (
        Category,
        Customer,
        Product,
        Register,
        ShopSettings,
        StockMovement,
        Supplier,
    )

    models = [User, Category, Supplier, Product, StockMovement, Customer, ShopSettings, Register]
    call_command("seed_demo")
    counts = {m.__name__: m.objects.count() for m in models}
    call_command("seed_demo")
    assert {m.__name__: m.objects.count() for m in models} == counts
    assert counts["Category"] == 10 and counts["Product"] >= 200 and counts["Customer"] >= 3
    assert counts["Register"] == 2
    assert ShopSettings.load().name == "Vevurn Phone Accessories"
    for product in Product.objects.all():
        validate_barcode(product.barcode)
        assert product.minimum_price <= product.retail_price
        assert product.cost_price < product.retail_price
        assert product.retail_price % 500 == 0
    ledger = StockMovement.objects.aggregate(s=Sum("quantity"))["s"]
    assert ledger == Product.objects.aggregate(s=Sum("stock_on_hand"))["s"] > 0
    assert all(c.phone.startswith("+2507") for c in Customer.objects.all())

    out = capsys.readouterr().out
    assert "manager / vevurn-manager-demo" in out
    # The printed credentials work.
    response = client.post("/", {"username": "cashier", "password": "vevurn-cashier-demo"})
    assert response.status_code == 302
    manager = User.objects.get(username="manager")
    assert manager.has_perm("accounts.manage_cashiers")
