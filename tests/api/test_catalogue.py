"""Products, categories, suppliers, customers (+ statement), stock movements, adjustments and
purchase orders through the API."""

from decimal import Decimal

import pytest

from accounts.models import AuditLog
from pos.models import Customer, Product, PurchaseOrder, StockMovement

pytestmark = pytest.mark.django_db


def test_products_search_by_name_sku_and_barcode(as_cashier, make_product):
    cable = make_product(name="Anker USB-C cable", sku="CAB-1")
    charger = make_product(name="Samsung charger", sku="CHG-1")

    def found(query):
        return [row["id"] for row in as_cashier.get(f"/api/v1/products/?{query}").json()["results"]]

    assert found("search=anker") == [cable.pk]
    assert found("search=CHG-1") == [charger.pk]
    assert found(f"search={charger.barcode}") == [charger.pk]
    assert found("ordering=-name") == [charger.pk, cable.pk]


def test_products_filter_by_category_and_low_stock(as_cashier, make_product):
    from pos.models import Category

    cases = Category.objects.create(name="Cases")
    case = make_product(category=cases, stock=1, reorder_level=2)
    make_product(stock=50)

    by_category = as_cashier.get(f"/api/v1/products/?category={cases.pk}").json()["results"]
    low = as_cashier.get("/api/v1/products/?low_stock=true").json()["results"]
    assert [row["id"] for row in by_category] == [case.pk]
    assert [row["id"] for row in low] == [case.pk]


def test_a_manager_creates_a_product_with_opening_stock(as_manager, category, manager):
    response = as_manager.post(
        "/api/v1/products/",
        {
            "name": "Oraimo power bank 10000mAh",
            "sku": "PB-10K",
            "category": category.pk,
            "cost_price": "15000",
            "retail_price": "25000",
            "minimum_price": "22000",
            "initial_stock": 4,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["retail_price"], body["stock_on_hand"]) == ("25000", "4")
    product = Product.objects.get(sku="PB-10K")
    assert product.created_by == manager
    (movement,) = StockMovement.objects.filter(product=product)
    assert movement.quantity == 4


def test_a_price_change_goes_through_the_service_and_is_audited(
    as_manager, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.patch(
            f"/api/v1/products/{product.pk}/", {"retail_price": "13000"}, format="json"
        )

    assert response.status_code == 200
    assert response.json()["retail_price"] == "13000"
    assert AuditLog.objects.filter(action="product.price_changed").count() == 1


def test_stock_on_hand_cannot_be_written(as_manager, product):
    as_manager.patch(f"/api/v1/products/{product.pk}/", {"stock_on_hand": 999}, format="json")

    product.refresh_from_db()
    assert product.stock_on_hand == 10


def test_product_validation_errors_name_the_fields(as_manager, category):
    response = as_manager.post(
        "/api/v1/products/",
        {"sku": "X", "category": category.pk, "retail_price": "12.345"},
        format="json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "Some fields are not valid."
    assert set(error["fields"]) == {"name", "retail_price", "minimum_price"}
    assert error["fields"]["retail_price"] == [
        "Ensure that there are no more than 2 decimal places."
    ]
    assert error["request_id"] == response["X-Request-ID"]


def test_model_validation_in_a_service_is_a_400_with_fields(as_manager, category):
    # full_clean() in the catalogue service: the barcode check digit is wrong.
    response = as_manager.post(
        "/api/v1/products/",
        {
            "name": "Cable",
            "sku": "C-9",
            "category": category.pk,
            "retail_price": "5000",
            "minimum_price": "4000",
            "barcode": "5901234123450",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "barcode" in response.json()["error"]["fields"]


def test_categories_and_suppliers(as_manager, as_admin):
    category = as_manager.post("/api/v1/categories/", {"name": "Screen guards"}, format="json")
    supplier = as_manager.post(
        "/api/v1/suppliers/", {"name": "Nyabugogo Wholesale", "phone": "0788000000"}, format="json"
    )

    assert category.status_code == supplier.status_code == 201
    assert as_manager.get("/api/v1/categories/?search=screen").json()["count"] == 1
    updated = as_manager.patch(
        f"/api/v1/suppliers/{supplier.json()['id']}/", {"is_active": False}, format="json"
    )
    assert updated.json()["is_active"] is False
    assert as_manager.delete(f"/api/v1/suppliers/{supplier.json()['id']}/").status_code == 403
    assert as_admin.delete(f"/api/v1/suppliers/{supplier.json()['id']}/").status_code == 405


def test_a_cashier_quick_creates_a_customer_with_a_normalised_phone(as_cashier):
    response = as_cashier.post(
        "/api/v1/customers/", {"name": "Jean Bosco", "phone": "0788 123 456"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+250788123456"
    assert response.json()["balance"] == "0"
    duplicate = as_cashier.post(
        "/api/v1/customers/", {"name": "Other", "phone": "+250788123456"}, format="json"
    )
    assert duplicate.status_code == 400
    assert "phone" in duplicate.json()["error"]["fields"]


def test_customer_statement(as_manager, sell, product):
    from pos.services.checkout import TenderLine

    customer = Customer.objects.create(
        name="Boutique Nziza", phone="+250788111222", credit_limit=Decimal("100000")
    )
    sell((product, 2), customer=customer, tenders=[TenderLine("account", Decimal("24000"))])

    response = as_manager.get(f"/api/v1/customers/{customer.pk}/statement/")

    assert response.status_code == 200
    body = response.json()
    assert body["opening_balance"] == "0"
    assert body["closing_balance"] == "24000"
    assert [(row["kind"], row["debit"]) for row in body["rows"]] == [("invoice", "24000")]
    bad = as_manager.get(
        f"/api/v1/customers/{customer.pk}/statement/?start=2026-02-01&end=2026-01-01"
    )
    assert bad.status_code == 400
    assert "end" in bad.json()["error"]["fields"]


def test_stock_movements_are_read_only_and_filtered_by_product(
    as_manager, as_admin, product, make_product
):
    make_product(stock=3)

    response = as_manager.get(f"/api/v1/stock-movements/?product={product.pk}")

    rows = response.json()["results"]
    assert [(row["product"], row["quantity"]) for row in rows] == [(product.pk, "10")]
    assert as_admin.post("/api/v1/stock-movements/", {}).status_code == 405


def test_a_stock_adjustment(as_manager, product, manager):
    response = as_manager.post(
        "/api/v1/stock-adjustments/",
        {"product": product.pk, "quantity": -2, "reason": "Dropped", "kind": "damaged"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["stock_before"], response.json()["stock_after"]) == ("10", "8")
    product.refresh_from_db()
    assert product.stock_on_hand == 8


def test_an_adjustment_below_zero_is_refused_by_the_business_rule(as_manager, product):
    response = as_manager.post(
        "/api/v1/stock-adjustments/",
        {"product": product.pk, "quantity": -11, "reason": "Count"},
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "out_of_stock"
    product.refresh_from_db()
    assert product.stock_on_hand == 10


def test_an_adjustment_needs_a_reason_and_a_known_product(as_manager):
    response = as_manager.post(
        "/api/v1/stock-adjustments/", {"product": 999, "quantity": 0}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"quantity", "reason"}
    unknown = as_manager.post(
        "/api/v1/stock-adjustments/",
        {"product": 999, "quantity": 1, "reason": "x"},
        format="json",
    )
    assert unknown.status_code == 404


def test_purchase_order_create_order_and_receive(as_manager, product, supplier):
    created = as_manager.post(
        "/api/v1/purchase-orders/",
        {
            "supplier": supplier.pk,
            "lines": [{"product": product.pk, "quantity": 5, "unit_cost": "7000"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    order = created.json()
    assert order["status"] == "draft"
    (line,) = order["lines"]
    assert (line["quantity_ordered"], line["unit_cost"]) == ("5", "7000")

    base = f"/api/v1/purchase-orders/{order['id']}"
    assert as_manager.post(f"{base}/order/").json()["status"] == "ordered"
    received = as_manager.post(
        f"{base}/receive/", {"lines": [{"line": line["id"], "quantity": 3}]}, format="json"
    )
    assert received.status_code == 200, received.json()
    assert received.json()["status"] == "partly_received"
    assert received.json()["lines"][0]["quantity_outstanding"] == "2"
    product.refresh_from_db()
    assert product.stock_on_hand == 13

    too_many = as_manager.post(
        f"{base}/receive/", {"lines": [{"line": line["id"], "quantity": 3}]}, format="json"
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "over_receipt"
    assert as_manager.get(f"{base}/").json()["lines"][0]["quantity_received"] == "3"


def test_a_purchase_order_cancelled_twice_is_a_conflict(as_manager, product, supplier):
    created = as_manager.post(
        "/api/v1/purchase-orders/",
        {
            "supplier": supplier.pk,
            "lines": [{"product": product.pk, "quantity": 1, "unit_cost": "1"}],
        },
        format="json",
    ).json()
    base = f"/api/v1/purchase-orders/{created['id']}"

    assert as_manager.post(f"{base}/cancel/").json()["status"] == "cancelled"
    again = as_manager.post(f"{base}/cancel/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_status"
    assert PurchaseOrder.objects.get().status == "cancelled"
