"""Gift cards, store credit and points at the till, and managers' issue and adjust pages in the
admin: what the cashier and the manager see."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from pos.models import Customer, GiftCard, LedgerEntry, Sale
from pos.services import ledger
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
D = Decimal


def _pay(till, key, **tenders):
    return till.post(reverse("register:complete"), {"idempotency_key": key, **tenders})


def test_a_card_is_sold_its_code_shown_and_its_balance_checked(till):
    response = till.post(reverse("register:sell_gift_card"), {"amount": "20000"})
    card = GiftCard.objects.get()
    assert response["Location"] == f"{reverse('register:gift_cards')}?code={card.code}&sold=1"
    page = till.get(response["Location"]).content.decode()
    assert "Card sold: hand the code to the customer." in page
    assert card.code in page and "20,000 RWF" in page

    unknown = till.get(reverse("register:gift_cards"), {"code": "GC-NOPE"})
    assert "No gift card has that code." in unknown.content.decode()
    refused = till.post(reverse("register:sell_gift_card"), {"amount": "0"})
    assert refused.status_code == 400
    assert refused.context["sell_form"].errors["amount"]
    assert GiftCard.objects.count() == 1


def test_a_card_pays_part_of_a_sale_and_a_wrong_code_is_refused_by_the_tenders(
    till, scan, pay_page, product, shift, cashier
):
    till.post(reverse("register:sell_gift_card"), {"amount": "5000"})
    card = GiftCard.objects.get()
    scan(product.barcode)
    _, key = pay_page()
    wrong = _pay(till, key, gift_card="5000", gift_card_code="GC-NOPE", cash="7000")
    assert wrong.status_code == 400
    assert "No gift card has that code." in wrong.content.decode()
    paid = _pay(till, key, gift_card="5000", gift_card_code=card.code.lower(), cash="7000")
    assert paid.status_code == 302
    sale = Sale.objects.get()
    assert sorted((p.tender, p.amount) for p in sale.payments.all()) == [
        ("cash", D(7000)),
        ("gift_card", D(5000)),
    ]
    card.refresh_from_db()
    assert card.balance == D(0)


def test_store_credit_from_a_refund_pays_at_the_till(
    till, scan, pay_page, product, shift, cashier, manager
):
    customer = Customer.objects.create(name="Aline", phone="+250788000777")
    sale = checkout(
        shift=shift,
        cashier=cashier,
        cart=Cart([CartLine(product.pk, 1)], customer_id=customer.pk),
        tenders=[TenderLine("cash", D(12000))],
        idempotency_key=uuid.uuid4(),
    )
    page = till.get(reverse("register:refund", args=[sale.pk]))
    assert ("store_credit", "Store credit") in page.context["form"].fields["tender"].choices
    refunded = till.post(
        reverse("register:refund", args=[sale.pk]),
        {
            f"qty_{sale.lines.get().pk}": "1",
            "reason": "Wrong colour",
            "tender": "store_credit",
            "manager_username": "manager",
            "manager_password": PASSWORD,
        },
    )
    assert refunded.status_code == 302
    till.post(reverse("register:attach_customer"), {"customer_id": customer.pk})
    assert "store credit 12,000 RWF" in till.get("/register/").content.decode()
    scan(product.barcode)
    response, key = pay_page()
    assert "Aline's store credit (holds 12,000 RWF)" in response.content.decode()
    assert _pay(till, key, store_credit="12000").status_code == 302
    customer.refresh_from_db()
    assert customer.store_credit == D(0)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_a_manager_issues_a_card_and_adjusts_a_customer_once_per_form(manager_client):
    customer = Customer.objects.create(name="Aline", phone="+250788000888")
    issued = manager_client.post(
        reverse("admin:pos_giftcard_issue"),
        {"amount": "3000", "reason": "Replaces a damaged card", "customer_phone": "0788 000 888"},
    )
    card = GiftCard.objects.get()
    assert issued["Location"] == reverse("admin:pos_giftcard_change", args=[card.pk])
    assert (card.balance, card.customer) == (D(3000), customer)

    url = reverse("admin:pos_customer_adjust", args=[customer.pk])
    form = {"kind": "points", "amount": "50", "reason": "Birthday", "request_key": uuid.uuid4()}
    assert manager_client.post(url, form).status_code == 302
    assert manager_client.post(url, form).status_code == 302  # the same form again
    customer.refresh_from_db()
    assert customer.points == D(50)
    below = manager_client.post(url, {**form, "amount": "-80", "request_key": uuid.uuid4()})
    assert below.status_code == 200
    assert "That would take the balance below zero: it holds 50." in below.content.decode()
    no_reason = manager_client.post(url, {**form, "reason": "", "request_key": uuid.uuid4()})
    assert no_reason.context["form"].errors["reason"]
    assert ledger.mismatches() == []
    assert list(LedgerEntry.objects.values_list("note", flat=True)) == [
        "Replaces a damaged card",
        "Birthday",
    ]


def test_a_cashier_cannot_reach_the_adjust_pages(client, cashier):
    client.force_login(cashier)
    customer = Customer.objects.create(name="Aline", phone="+250788000999")
    assert client.get(reverse("admin:pos_customer_adjust", args=[customer.pk])).status_code in (
        302,
        403,
    )


def test_points_pay_from_the_payment_screen(till, scan, pay_page, product, manager):
    from pos.models import ShopSettings

    shop = ShopSettings.load()
    shop.points_value = D(10)
    shop.save(update_fields=["points_value"])
    customer = Customer.objects.create(name="Aline", phone="+250788000111")
    ledger.adjust(
        user=manager, kind="points", amount=D(500), reason="Welcome", request_key="w1",
        customer=customer,
    )  # fmt: skip
    till.post(reverse("register:attach_customer"), {"customer_id": customer.pk})
    assert "500 points" in till.get("/register/").content.decode()
    scan(product.barcode)
    response, key = pay_page()
    assert "Paid with Aline's points (500 held, each pays 10 RWF)" in response.content.decode()
    refused = _pay(till, key, points="5005", cash="6995")
    assert "Points pay in whole points of 10 RWF each." in refused.content.decode()
    assert _pay(till, key, points="5000", cash="7000").status_code == 302
    customer.refresh_from_db()
    assert customer.points == D(0)


@pytest.mark.parametrize("typed", ["0788 123 456", "+250 788-123-456", "250788123456", "788123456"])
def test_the_till_finds_a_customer_by_phone_typed_any_rwandan_way(till, typed):
    aline = Customer.objects.create(name="Aline", phone="+250788123456")
    Customer.objects.create(name="Aline Uwase", phone="+250788654321")
    response = till.get("/register/", {"customer_q": typed})
    assert response.context["customer_matches"] == [aline]


def test_an_unknown_phone_opens_the_new_customer_form_with_it_for_a_name(till):
    response = till.get("/register/", {"customer_q": "0722 000 111"})
    page = response.content.decode()
    assert "No customer has +250722000111: add them with their name below." in page
    assert 'name="phone" value="+250722000111"' in page
    assert response.context["show_customer"] is True
    created = till.post(
        reverse("register:create_customer"), {"phone": "+250722000111", "name": "Jean"}
    )
    assert created.status_code == 302
    customer = Customer.objects.get()
    assert (customer.name, customer.phone, customer.email) == ("Jean", "+250722000111", "")
    assert till.get("/register/").context["customer"] == customer
    taken = till.post(reverse("register:create_customer"), {"phone": "0722000111", "name": "X"})
    assert taken.status_code == 400
    assert taken.context["customer_form"].errors["phone"]
