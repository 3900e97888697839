"""An edit screen open while a sale commits: the edit must not put back the counters the sale
wrote (stock on hand, the customer's balance and totals, the till's receipt counter).

Each test commits a sale between the edit's read (the admin's or the API's `get_object`) and its
save. `between` runs that sale on the request's own connection (any database), and on
PostgreSQL also on a second, real connection in another thread, committed before the edit goes
on.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from pos.admin.catalogue import ProductAdmin
from pos.admin.customers import CustomerAdmin
from pos.admin.selling import RegisterAdmin
from pos.api.views import CustomerViewSet
from pos.models import Customer, Invoice, Product, Register, Sale
from pos.services import csv_import
from pos.services.checkout import TenderLine
from pos.services.customers import create_customer
from tests.pos.ledger_checks import assert_ledgers_hold


def _on_a_second_connection(work):
    """Run `work` in another thread (its own database connection) and wait for its commit."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the sale on the second connection never finished"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture(
    params=[
        pytest.param("same connection", marks=pytest.mark.django_db),
        pytest.param(
            "second connection",
            marks=[pytest.mark.postgres, pytest.mark.django_db(transaction=True)],
        ),
    ]
)
def between(request, monkeypatch):
    """between(owner, "method", sale): the sale commits just before owner.method runs."""

    def hook(owner, name, sale):
        original = getattr(owner, name)

        def hooked(*args, **kwargs):
            if request.param == "second connection":
                _on_a_second_connection(sale)
            else:
                sale()
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, hooked)

    return hook


@pytest.fixture
def credit_customer():
    return create_customer(name="Aline", phone="0788123456", credit_limit=Decimal(100_000))


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _form_data(response) -> dict:
    """The change form as the browser would post it back, inline management forms included."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


def _sell_on_credit(sell, product, customer):
    return lambda: sell((product, 1), customer=customer, tenders=[TenderLine("account", 12000)])


def test_a_customer_note_sent_over_the_api_keeps_a_credit_sale_s_balance(
    between, manager, product, credit_customer, sell
):
    between(CustomerViewSet, "perform_update", _sell_on_credit(sell, product, credit_customer))

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    response = api.patch(
        f"/api/v1/customers/{credit_customer.pk}/", {"notes": "VIP"}, format="json"
    )

    assert response.status_code == 200, response.content
    customer = Customer.objects.get(pk=credit_customer.pk)
    assert (customer.notes, customer.balance) == ("VIP", Decimal(12000))
    assert (customer.visits, customer.total_spent) == (1, Decimal(12000))
    assert Decimal(response.json()["balance"]) == Decimal(12000)
    assert Invoice.objects.get(customer=customer).balance_due == Decimal(12000)


def test_a_customer_edited_in_the_admin_keeps_a_credit_sale_s_balance(
    between, manager_client, product, credit_customer, sell
):
    url = reverse("admin:pos_customer_change", args=[credit_customer.pk])
    data = _form_data(manager_client.get(url))
    between(CustomerAdmin, "save_model", _sell_on_credit(sell, product, credit_customer))

    response = manager_client.post(url, {**data, "notes": "Pays on Fridays"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get(pk=credit_customer.pk)
    assert (customer.notes, customer.balance, customer.visits) == (
        "Pays on Fridays",
        Decimal(12000),
        1,
    )


def test_a_price_change_in_the_admin_keeps_the_stock_a_sale_took(
    between, manager_client, make_product, sell
):
    product = make_product(stock=10)
    url = reverse("admin:pos_product_change", args=[product.pk])
    data = _form_data(manager_client.get(url))
    between(ProductAdmin, "save_model", lambda: sell((product, 3)))

    response = manager_client.post(url, {**data, "retail_price": "12500"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert (product.retail_price, product.stock_on_hand) == (Decimal(12500), 7)
    assert_ledgers_hold()  # stock on hand == the sum of the ledger's movements


def test_renaming_a_till_keeps_its_receipt_counter_and_the_next_sale_gets_a_new_number(
    between, manager_client, register, product, sell
):
    url = reverse("admin:pos_register_change", args=[register.pk])
    data = _form_data(manager_client.get(url))
    between(RegisterAdmin, "save_model", lambda: sell((product, 1)))

    response = manager_client.post(url, {**data, "name": "Front till"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    register = Register.objects.get(pk=register.pk)
    assert (register.name, register.last_receipt_number) == ("Front till", 1)
    sell((product, 1))
    assert sorted(Sale.objects.values_list("number", flat=True)) == ["R1-000001", "R1-000002"]


def test_a_csv_import_keeps_the_stock_sold_while_it_ran(between, manager, make_product, sell):
    product = make_product(stock=10)
    between(csv_import, "_write", lambda: sell((product, 4)))
    data = (
        "sku,name,category,retail_price\n"
        f"{product.sku},{product.name},{product.category.name},13000\n"
    )

    report = csv_import.import_products(data=data, user=manager)

    assert report.ok and report.updated == 1, report.errors
    product = Product.objects.get(pk=product.pk)
    assert (product.retail_price, product.stock_on_hand) == (Decimal(13000), 6)
    assert_ledgers_hold()


@pytest.mark.django_db
def test_an_edit_writes_only_the_columns_it_changes(product, manager):
    from django.test.utils import CaptureQueriesContext

    from pos.services.catalogue import update_product

    with CaptureQueriesContext(connection) as queries:
        update_product(product=product, user=manager, name="Renamed", retail_price=Decimal(12000))
    (update,) = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert '"name"' in update and "stock_on_hand" not in update and "retail_price" not in update


@pytest.mark.django_db
def test_the_counters_are_not_editable_through_the_edit_services(credit_customer, register):
    from pos.services.customers import update_customer
    from pos.services.registers import update_register

    with pytest.raises(ValueError, match="only through the sales"):
        update_customer(customer=credit_customer, balance=Decimal(0))
    with pytest.raises(ValueError, match="only through checkout"):
        update_register(register=register, last_receipt_number=0)
