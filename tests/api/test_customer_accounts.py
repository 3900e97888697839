"""Gift cards, store credit and points through the API: sell a card, check it, pay with it;
what a customer holds; revenue reports that leave card sales out and count what cards pay."""

import uuid

import pytest
import yaml

from pos.models import Customer

pytestmark = pytest.mark.django_db


def checkout(client, product, tenders, customer=None):
    body = {"lines": [{"product": product.pk, "quantity": 1}], "tenders": tenders}
    if customer is not None:
        body["customer"] = customer.pk
    return client.post(
        "/api/v1/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )


def report_total(client) -> str:
    report = client.get("/api/v1/reports/sales/").json()
    (periods,) = [t for t in report["tables"] if t["name"] == "periods"]
    return periods["footer"][2]


def test_a_card_sold_checked_and_redeemed_counts_as_revenue_only_when_it_pays(
    as_cashier, as_manager, shift, product
):
    sold = as_cashier.post("/api/v1/gift-cards/", {"amount": "20000"}, format="json")
    assert sold.status_code == 201, sold.json()
    code = sold.json()["code"]
    assert sold.json()["balance"] == "20000"
    assert report_total(as_manager) == "0"  # the card's sale is a liability, not revenue

    paid = checkout(as_cashier, product, [{"tender": "gift_card", "amount": "12000",
                                           "reference": code.lower()}])  # fmt: skip
    assert paid.status_code == 201, paid.json()
    checked = as_cashier.get("/api/v1/gift-cards/balance/", {"code": code})
    assert (checked.json()["balance"], checked.json()["expired"]) == ("8000", False)
    assert report_total(as_manager) == "12000"  # the redemption is revenue

    spent = checkout(as_cashier, product, [{"tender": "gift_card", "amount": "12000",
                                            "reference": code}])  # fmt: skip
    assert spent.status_code == 400
    assert spent.json()["error"]["fields"]["tenders"] == [
        f"Gift card {code} holds 8,000 RWF; this needs 12,000 RWF."
    ]


def test_bad_input_is_a_400_with_field_messages_and_an_unknown_card_a_404(as_cashier, shift):
    response = as_cashier.post(
        "/api/v1/gift-cards/", {"amount": "-5", "customer": 999999}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"amount"}
    unknown = as_cashier.post(
        "/api/v1/gift-cards/", {"amount": "5", "customer": 999999}, format="json"
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["fields"] == {"customer": ["Unknown customer."]}
    missing = as_cashier.get("/api/v1/gift-cards/balance/")
    assert (missing.status_code, list(missing.json()["error"]["fields"])) == (400, ["code"])
    none = as_cashier.get("/api/v1/gift-cards/balance/", {"code": "GC-NOPE"})
    assert none.status_code == 404
    assert none.json()["error"]["fields"] == {"code": ["No gift card has that code."]}


def test_a_customer_shows_and_spends_store_credit_and_shows_points(
    as_cashier, as_manager, shift, product, manager
):
    from pos.services import ledger

    customer = Customer.objects.create(name="Aline", phone="+250788000666")
    ledger.adjust(
        user=manager, kind="store_credit", amount=12000, reason="Returned goods, no receipt",
        request_key="k1", customer=customer,
    )  # fmt: skip
    shown = as_cashier.get(f"/api/v1/customers/{customer.pk}/").json()
    assert (shown["store_credit"], shown["points"]) == ("12000", "0")
    paid = checkout(as_cashier, product, [{"tender": "store_credit", "amount": "12000"}], customer)
    assert paid.status_code == 201, paid.json()
    assert as_cashier.get(f"/api/v1/customers/{customer.pk}/").json()["store_credit"] == "0"


def test_the_schema_names_the_gift_card_endpoints(as_cashier):
    paths = yaml.safe_load(as_cashier.get("/api/schema/").content)["paths"]
    assert {"post"} <= set(paths["/api/v1/gift-cards/"])
    assert "400" in paths["/api/v1/gift-cards/"]["post"]["responses"]
    balance = paths["/api/v1/gift-cards/balance/"]["get"]
    assert [p["name"] for p in balance["parameters"]] == ["code"]
