import pytest

pytestmark = pytest.mark.django_db


def test_cashier_looks_up_and_quick_creates_customers_only(cashier):
    for perm in ("pos.view_product", "pos.view_category", "pos.view_customer", "pos.add_customer"):
        assert cashier.has_perm(perm), perm
    for perm in (
        "pos.change_product",
        "pos.adjust_stock",
        "pos.receive_stock",
        "pos.import_products",
        "pos.view_stockmovement",
        "pos.change_shopsettings",
    ):
        assert not cashier.has_perm(perm), perm


def test_manager_runs_the_catalogue_and_stock(manager):
    for perm in (
        "pos.add_product",
        "pos.change_product",
        "pos.adjust_stock",
        "pos.receive_stock",
        "pos.count_stock",
        "pos.import_products",
        "pos.add_purchaseorder",
        "pos.change_supplier",
        "pos.change_lowstockalert",
        "pos.view_shopsettings",
        "pos.view_stockmovement",
        "accounts.view_auditlog",
    ):
        assert manager.has_perm(perm), perm
    assert not manager.has_perm("pos.change_shopsettings")
    assert not manager.has_perm("pos.change_stockmovement")
    assert not manager.has_perm("pos.delete_product")


def test_admin_may_do_everything(admin_user):
    assert admin_user.has_perm("pos.change_shopsettings")
    assert admin_user.has_perm("pos.adjust_stock")
