from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditLog
from pos.models import (
    Category,
    Customer,
    LowStockAlert,
    Product,
    PurchaseOrderStatus,
    ShopSettings,
    StockCount,
    StockMovement,
)
from pos.services.purchasing import create_purchase_order, mark_ordered

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_every_pos_model_is_registered():
    from django.apps import apps
    from django.contrib import admin

    for model in apps.get_app_config("pos").get_models():
        if model.__name__ in {
            "PurchaseOrderLine",
            "StockCountLine",
            "SaleLine",
            "RefundLine",
            "InvoiceReminder",
            "ShiftCashier",
            "ShopLogo",  # uploaded and removed on the shop settings' page
            "StoreMembership",  # on the user's and the store's pages (pos.admin.staff)
        }:
            continue  # inlines
        assert admin.site.is_registered(model), model


def test_product_changelist_query_count_does_not_grow(
    manager_client, make_product, django_assert_max_num_queries
):
    url = reverse("admin:pos_product_changelist")
    make_product(stock=1)
    manager_client.get(url)  # warm caches (content types, shop settings)
    with django_assert_max_num_queries(100) as few:
        assert manager_client.get(url).status_code == 200
    for _ in range(30):
        make_product(stock=1, supplier=None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 31


def test_product_search_by_name_sku_barcode(manager_client, make_product):
    p = make_product(name="JBL Go 3 Speaker")
    url = reverse("admin:pos_product_changelist")
    for q in ("jbl go", p.sku, p.barcode):
        assert list(manager_client.get(url, {"q": q}).context["cl"].result_list) == [p]


def test_add_product_with_opening_stock_and_cost_warning(manager_client, category, manager):
    response = manager_client.post(
        reverse("admin:pos_product_add"),
        {
            "name": "Loss leader cable",
            "sku": "LL-1",
            "barcode": "",
            "category": category.pk,
            "cost_price": "4000",
            "retail_price": "3500",
            "minimum_price": "3000",
            "unit": "piece",
            "quantity_places": "0",
            "reorder_level": "1",
            "status": "active",
            "opening_stock": "6",
            "movements-TOTAL_FORMS": "0",
            "selling_units-TOTAL_FORMS": "0",
            "selling_units-INITIAL_FORMS": "0",
            "movements-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    product = Product.objects.get(sku="LL-1")
    assert product.stock_on_hand == 6 and product.created_by == manager
    assert product.movements.get().reason == "Opening stock"
    assert any("cost price" in m and "above its retail price" in m for m in texts(response))


def test_product_form_errors_name_the_field(manager_client, product):
    url = reverse("admin:pos_product_change", args=[product.pk])
    form = manager_client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(
        {"category": product.category_id, "retail_price": "abc", "barcode": "4006381333932"}
    )
    data.update({"movements-TOTAL_FORMS": "1", "movements-INITIAL_FORMS": "1"})
    data.update({"selling_units-TOTAL_FORMS": "0", "selling_units-INITIAL_FORMS": "0"})
    response = manager_client.post(url, data)
    errors = response.context["adminform"].form.errors
    assert errors["retail_price"] == ["Enter a number."]
    assert "wrong check digit" in errors["barcode"][0]


def test_price_change_in_admin_is_audited(
    manager_client, product, manager, django_capture_on_commit_callbacks
):
    url = reverse("admin:pos_product_change", args=[product.pk])
    form = manager_client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"retail_price": "13000", "category": product.category_id})
    data.update({"movements-TOTAL_FORMS": "1", "movements-INITIAL_FORMS": "1"})
    data.update({"selling_units-TOTAL_FORMS": "0", "selling_units-INITIAL_FORMS": "0"})
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditLog.objects.get(action="product.price_changed")
    assert entry.changes == {"retail_price": ["12000.00", "13000.00"]} and entry.actor == manager


def test_stock_on_hand_is_not_editable_and_movements_shown(manager_client, product):
    response = manager_client.get(reverse("admin:pos_product_change", args=[product.pk]))
    form = response.context["adminform"].form
    assert "stock_on_hand" not in form.fields
    body = response.content.decode()
    assert "Opening stock" in body
    assert reverse("admin:pos_product_adjust_stock", args=[product.pk]) in body


def test_adjust_stock_view(manager_client, product, django_capture_on_commit_callbacks):
    url = reverse("admin:pos_product_adjust_stock", args=[product.pk])
    response = manager_client.post(url, {"kind": "damaged", "quantity": "-2", "reason": ""})
    assert response.context["form"].errors["reason"] == ["This field is required."]
    response = manager_client.post(url, {"kind": "theft", "quantity": "-20", "reason": "gone"})
    assert "Not enough stock" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            url, {"kind": "damaged", "quantity": "-2", "reason": "Cracked"}, follow=True
        )
    assert "changed from 10 to 8" in " ".join(texts(response))
    product.refresh_from_db()
    assert product.stock_on_hand == 8
    assert AuditLog.objects.filter(action="stock.adjusted").count() == 1


def test_cashier_cannot_use_admin_stock_screens(client, cashier, product):
    client.force_login(cashier)
    url = reverse("admin:pos_product_adjust_stock", args=[product.pk])
    response = client.post(url, {"kind": "adjustment", "quantity": "5", "reason": "x"})
    assert response.status_code == 302  # not staff: sent to the admin login
    assert Product.objects.get(pk=product.pk).stock_on_hand == 10


def test_stock_count_review_then_post(manager_client, make_product, category):
    a, b = make_product(stock=10), make_product(stock=4)
    url = reverse("admin:pos_product_stock_count") + f"?category={category.pk}"
    page = manager_client.get(url)
    assert a.name in page.content.decode()
    response = manager_client.post(
        url, {f"counted_{a.pk}": "7", f"counted_{b.pk}": "", "review": "1"}
    )
    review = response.context["review"]
    assert [(r["product"], r["difference"]) for r in review] == [(a, -3)]
    assert Product.objects.get(pk=a.pk).stock_on_hand == 10  # nothing posted yet
    response = manager_client.post(url, {f"counted_{a.pk}": "7", "post": "1"}, follow=True)
    assert "1 product(s) counted, 1 corrected" in " ".join(texts(response))
    assert Product.objects.get(pk=a.pk).stock_on_hand == 7
    assert StockCount.objects.get().lines.get().counted_quantity == 7


def test_stock_count_rejects_negative(manager_client, product):
    url = reverse("admin:pos_product_stock_count")
    response = manager_client.post(url, {f"counted_{product.pk}": "-1", "post": "1"})
    assert response.context["form"].errors[f"counted_{product.pk}"]
    assert StockCount.objects.count() == 0


def test_csv_import_preview_then_confirm(manager_client, category):
    url = reverse("admin:pos_product_import")
    good = "sku,name,category,retail_price\nX-1,Cable,Chargers,3500\n"
    response = manager_client.post(url, {"file": SimpleUploadedFile("p.csv", good.encode())})
    assert "Ready to import 1 row(s): 1 new" in response.content.decode()
    assert not Product.objects.exists()
    response = manager_client.post(url, {"content": response.context["content"], "confirm": "1"})
    assert response.status_code == 302 and Product.objects.get().sku == "X-1"
    bad = "sku,name,category,retail_price\nX-2,Cable,Nope,abc\n"
    response = manager_client.post(url, {"file": SimpleUploadedFile("p.csv", bad.encode())})
    body = response.content.decode()
    assert "Row 2, column category: Unknown category Nope." in body
    assert "Row 2, column retail_price: Enter a number." in body


def test_csv_export_action(manager_client, make_product):
    p = make_product()
    response = manager_client.post(
        reverse("admin:pos_product_changelist"),
        {"action": "export_csv", "_selected_action": [p.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("sku,name,barcode,category") and lines[1].startswith(p.sku)


def test_receive_view_partial_then_full(manager_client, manager, product, supplier):
    order = create_purchase_order(
        supplier=supplier, lines=[(product, 5, Decimal("6000"))], user=manager
    )
    mark_ordered(order=order, user=manager)
    line = order.lines.get()
    url = reverse("admin:pos_purchaseorder_receive", args=[order.pk])
    change = manager_client.get(reverse("admin:pos_purchaseorder_change", args=[order.pk]))
    assert url in change.content.decode()
    response = manager_client.post(url, {f"line_{line.pk}": "6"})
    assert response.context["form"].errors[f"line_{line.pk}"]
    manager_client.post(url, {f"line_{line.pk}": "2"})
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    manager_client.post(url, {f"line_{line.pk}": "3"})
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    assert Product.objects.get(pk=product.pk).stock_on_hand == 15


def test_ledgers_are_read_only(manager_client, admin_user, client, product):
    client.force_login(admin_user)
    movement = StockMovement.objects.get()
    assert client.get(reverse("admin:pos_stockmovement_add")).status_code == 403
    response = client.post(
        reverse("admin:pos_stockmovement_change", args=[movement.pk]), {"quantity": "99"}
    )
    assert response.status_code == 403
    assert (
        client.get(reverse("admin:pos_stockmovement_delete", args=[movement.pk])).status_code == 403
    )
    assert client.get(reverse("admin:pos_stockmovement_changelist")).status_code == 200
    assert StockMovement.objects.get().quantity == 10


def test_shop_settings_single_record(admin_user, client):
    client.force_login(admin_user)
    response = client.get(reverse("admin:pos_shopsettings_changelist"))
    assert response.status_code == 302
    assert client.get(reverse("admin:pos_shopsettings_add")).status_code == 403
    assert client.get(reverse("admin:pos_shopsettings_delete", args=[1])).status_code == 403
    assert ShopSettings.objects.count() == 1


def test_alerts_listed_and_acknowledged(
    manager_client, product, manager, django_capture_on_commit_callbacks
):
    from pos.services.stock import adjust_stock

    with django_capture_on_commit_callbacks(execute=True):
        adjust_stock(product=product, quantity=-9, reason="sold", user=manager)
    alert = LowStockAlert.objects.get()
    url = reverse("admin:pos_lowstockalert_changelist")
    assert product.name in manager_client.get(url).content.decode()
    manager_client.post(url, {"action": "acknowledge", "_selected_action": [alert.pk]})
    alert.refresh_from_db()
    assert alert.acknowledged and alert.acknowledged_by == manager
    low = manager_client.get(reverse("admin:pos_product_changelist"), {"stock": "low"})
    assert list(low.context["cl"].result_list) == [product]


def test_customer_phone_normalised_in_admin(manager_client):
    response = manager_client.post(
        reverse("admin:pos_customer_add"),
        {"name": "Jean", "phone": "0788 123 456", "credit_limit": "0", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Customer.objects.get().phone == "+250788123456"
    response = manager_client.post(
        reverse("admin:pos_customer_add"),
        {"name": "Bad", "phone": "12345", "credit_limit": "0"},
    )
    assert "Rwandan mobile number" in response.context["adminform"].form.errors["phone"][0]


def test_manager_sees_pos_models_in_admin(manager_client):
    body = manager_client.get(reverse("admin:index")).content.decode()
    for name in ("Products", "Stock movements", "Purchase orders", "Customers", "Low stock alerts"):
        assert name in body
    assert Category.objects.count() == 0


def test_every_pos_admin_page_renders(client, admin_user, product, supplier, manager):
    from django.contrib import admin

    from pos.services.counts import post_stock_count
    from pos.services.customers import create_customer
    from pos.services.stock import adjust_stock

    order = create_purchase_order(
        supplier=supplier, lines=[(product, 2, Decimal("1"))], user=manager
    )
    create_customer(name="Jean", phone="0788123456")
    post_stock_count(counted={product.pk: 9}, user=manager)
    adjust_stock(product=product, quantity=-8, reason="sold", user=manager)  # raises an alert
    client.force_login(admin_user)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "pos":
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = client.get(reverse(f"{prefix}_changelist"), follow=True)
        assert changelist.status_code == 200, model
        obj = model.objects.first()
        if obj is not None:
            page = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
            assert page.status_code == 200, model
        if model_admin.has_add_permission(changelist.wsgi_request):
            assert client.get(reverse(f"{prefix}_add")).status_code == 200, model
    for name, args in [
        ("admin:pos_product_import", []),
        ("admin:pos_product_stock_count", []),
        ("admin:pos_product_adjust_stock", [product.pk]),
        ("admin:pos_purchaseorder_receive", [order.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name


def test_customer_found_by_phone_typed_any_way(manager_client):
    from pos.services.customers import create_customer

    jean = create_customer(name="Jean", phone="+250788123456")
    url = reverse("admin:pos_customer_changelist")
    for q in ("0788123456", "788 123 456", "Jean"):
        assert list(manager_client.get(url, {"q": q}).context["cl"].result_list) == [jean]


def test_the_receive_form_submitted_as_shown_receives_what_is_outstanding(
    manager_client, manager, product, supplier
):
    """The manager presses Receive without touching the prefilled quantities: a piece product's
    line shows "5", not the stored "5.000" that its whole-number input would refuse."""
    order = create_purchase_order(
        supplier=supplier, lines=[(product, 5, Decimal("6000"))], user=manager
    )
    mark_ordered(order=order, user=manager)
    line = order.lines.get()
    url = reverse("admin:pos_purchaseorder_receive", args=[order.pk])
    form = manager_client.get(url).context["form"]
    shown = form[f"line_{line.pk}"].value()
    assert str(form[f"line_{line.pk}"].field.widget.format_value(shown)) == "5"
    half = manager_client.post(url, {f"line_{line.pk}": "2.5"})  # a piece is whole
    assert "no more than 0 decimal places" in str(half.context["form"].errors)
    response = manager_client.post(url, {f"line_{line.pk}": "5.000"})
    assert response.status_code == 302, response.context["form"].errors
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
