"""The register: shift, scan, quantities, discounts, customer, hold; totals from the server."""

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from pos.models import Customer, HeldSale, Shift
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_cashier_without_a_shift_lands_on_open_shift_then_the_register(client, cashier, register):
    response = client.post("/", {"username": "cashier", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("register:open_shift")
    assert b"Welcome, Grace" in response.content

    response = client.post(
        reverse("register:open_shift"),
        {"register": register.pk, "opening_float": "20000"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("register:register")
    assert Shift.objects.get(cashier=cashier).opening_float == Decimal("20000")
    assert b"Scan a product, type its name or pick a tile to start a sale." in response.content


def test_cashier_with_an_open_shift_lands_on_the_register(client, cashier, shift):
    response = client.post("/", {"username": "cashier", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("register:register")


def test_manager_lands_on_the_home_page_with_a_link_to_the_register(client, manager):
    response = client.post("/", {"username": "manager", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:home")
    assert reverse("register:register").encode() in response.content


def test_negative_float_is_refused_next_to_the_field(client, cashier, register):
    client.login(username="cashier", password=PASSWORD)
    response = client.post(
        reverse("register:open_shift"), {"register": register.pk, "opening_float": "-5"}
    )
    assert response.status_code == 200
    assert "opening_float" in response.context["form"].errors
    assert not Shift.objects.exists()


def test_register_needs_an_open_shift(client, cashier):
    client.login(username="cashier", password=PASSWORD)
    response = client.get(reverse("register:register"))
    assert response["Location"] == reverse("register:open_shift")


def test_scan_adds_then_adds_one_more_and_totals_come_from_the_server(till, scan, product):
    scan(product.barcode)
    scan(product.barcode)
    response = till.get(reverse("register:register"))
    (line,) = response.context["lines"]
    assert line.quantity == 2
    assert response.context["priced"].total == Decimal("24000")
    assert "24,000 RWF" in response.content.decode()
    assert "VAT 18% included" in response.content.decode()


def test_scan_by_sku_and_name(till, scan, make_product):
    a = make_product(stock=5, name="Anker cable 1m")
    make_product(stock=5, name="Anker cable 2m")
    scan(a.sku)
    response = scan("anker")  # two names match: pick one
    assert [p.name for p in response.context["matches"]] == ["Anker cable 1m", "Anker cable 2m"]
    till.post(reverse("register:add_product", args=[a.pk]))
    assert till.get("/register/").context["lines"][0].quantity == 2


def test_unknown_code_says_so_next_to_the_scan_box(scan, product):
    scan(product.barcode)
    response = scan("nothing-like-this")
    assert response.status_code == 404
    assert "No product matches" in response.context["scan_form"].errors["code"][0]
    assert len(response.context["lines"]) == 1  # the cart is kept


def test_out_of_stock_scan_shows_the_message_and_keeps_the_cart(scan, make_product, product):
    empty = make_product(stock=0, name="Sold-out earbuds")
    scan(product.barcode)
    response = scan(empty.barcode)
    assert response.status_code == 409
    assert "Out of stock: Sold-out earbuds" in response.content.decode()
    assert [line.product for line in response.context["lines"]] == [product]


def test_partial_answer_for_javascript(scan, product):
    response = scan(product.barcode, HTTP_X_REGISTER_PARTIAL="1")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert product.name.encode() in response.content


def test_quantity_remove_and_clear(till, scan, make_product):
    a, b = make_product(stock=9), make_product(stock=9)
    scan(a.barcode)
    scan(b.barcode)
    till.post(reverse("register:update_line", args=[0]), {"quantity": "3"})
    lines = till.get("/register/").context["lines"]
    assert [line.quantity for line in lines] == [3, 1]

    response = till.post(reverse("register:update_line", args=[1]), {"quantity": "0"})
    assert response.status_code == 400
    assert "quantity" in response.context["line_errors"][1]

    till.post(reverse("register:remove_line", args=[0]))
    assert [line.product for line in till.get("/register/").context["lines"]] == [b]
    till.post(reverse("register:clear"))
    assert till.get("/register/").context["lines"] == []


def test_line_discount_and_order_discount_are_priced_on_the_server(till, scan, product):
    scan(product.barcode)
    till.post(reverse("register:update_line", args=[0]), {"quantity": "2", "discount": "1000"})
    till.post(reverse("register:order_discount"), {"order_discount": "500"})
    priced = till.get("/register/").context["priced"]
    assert priced.total == Decimal("22500")
    assert priced.discount_total == Decimal("1500")


def test_customer_quick_create_and_search(till, scan, product):
    response = till.post(
        reverse("register:create_customer"), {"name": "Aline", "phone": "0788123456"}
    )
    customer = Customer.objects.get(phone="+250788123456")
    assert till.get("/register/").context["customer"] == customer
    till.post(reverse("register:attach_customer"), {"customer_id": "0"})
    assert till.get("/register/").context["customer"] is None
    response = till.get("/register/", {"customer_q": "0788123456"})
    assert list(response.context["customer_matches"]) == [customer]

    response = till.post(reverse("register:create_customer"), {"name": "Bad", "phone": "12"})
    assert response.status_code == 400
    assert response.context["customer_form"].errors


def test_hold_and_resume(till, scan, product, register):
    scan(product.barcode)
    till.post(reverse("register:hold"), {"note": "back in 5"})
    response = till.get("/register/")
    assert response.context["lines"] == []
    (held,) = response.context["held"]
    assert held.note == "back in 5"
    till.post(reverse("register:resume", args=[held.pk]))
    assert till.get("/register/").context["lines"][0].product == product
    assert not HeldSale.objects.exists()


@pytest.mark.parametrize("size", [1, 10])
def test_register_page_query_count_does_not_grow_with_the_cart(
    till, scan, make_product, django_assert_num_queries, size, request
):
    for _ in range(size):
        scan(make_product(stock=5).barcode)
    till.get("/register/")  # warm the shop settings cache
    with django_assert_num_queries(QUERIES):
        response = till.get("/register/")
    assert len(response.context["lines"]) == size


# The same for 1 line and for 10: session, user, shift, permissions (one query; PostgreSQL:
# read with the user), products, the price rules that may apply, held sales, the categories of
# the tiles.
QUERIES = 8 if connection.vendor == "sqlite" else 7


def test_typing_a_name_lists_the_matches(till, make_product):
    make_product(stock=5, name="Anker cable 1m")
    make_product(stock=5, name="Oraimo earbuds")
    till.get("/register/")
    response = till.get(reverse("register:search"), {"code": "anker"})
    assert "Anker cable 1m" in response.content.decode()
    assert "Oraimo" not in response.content.decode()


def test_a_discount_larger_than_the_sale_is_refused(till, scan, product):
    scan(product.barcode)
    response = till.post(reverse("register:order_discount"), {"order_discount": "12001"})
    assert response.status_code == 400
    assert "cannot be more than the sale" in response.content.decode()
    assert till.get("/register/").context["priced"].total == Decimal("12000")
