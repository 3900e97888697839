"""Stores (issue 29): owners add them in the admin, every till belongs to one, and a till's slips
print its store's address, TIN and receipt header where the store has them (the shop's
otherwise); the shop's settings stay the shop's."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pos.models import ReceiptPrinter, Register, ShopSettings, Store, StoreMembership
from pos.services.checkout import TenderLine
from tests.support import fake_printer as printers

pytestmark = pytest.mark.django_db
fake_printer = printers.fake_printer


@pytest.fixture
def shop():
    shop = ShopSettings.load()
    shop.name, shop.address, shop.tin = "Duka Letu", "KG 11 Ave, Kimironko", "101234567"
    shop.receipt_header = "Open every day"
    shop.save()
    return shop


@pytest.fixture
def branch(make_user):
    from pos.services.stores import create_store

    return create_store(
        user=make_user("branch-owner", "admin"),
        store=Store(
            name="Musanze",
            code="MSZ",
            address="Musanze market, stall 4",
            tin="109876543",
            branch_id="01",
            receipt_header="Musanze branch\nMon-Sat 8:00-19:00",
        ),
    )


def stock_branch(branch, product, manager, quantity=10):
    from pos.services.stock import adjust_stock

    adjust_stock(product=product, quantity=quantity, reason="Delivery", user=manager, store=branch)


def test_a_till_made_without_a_store_belongs_to_the_first_active_store(branch):
    first = Store.objects.order_by("pk").first()
    assert first != branch

    till = Register.objects.create(code="R7", name="Till 7")

    assert till.store == first
    assert first.registers.filter(pk=till.pk).exists()


def test_a_receipt_prints_the_tills_store_address_tin_and_header(
    client, cashier, manager, sell, product, shop, branch, register
):
    stock_branch(branch, product, manager)
    register.store = branch
    register.save(update_fields=["store"])
    StoreMembership.objects.create(user=cashier, store=branch)  # they work there (pos.scoping)
    sale = sell((product, 1), tenders=[TenderLine("cash", Decimal(12000))])
    client.force_login(cashier)

    page = client.get(reverse("pos:receipt", args=[sale.pk])).content.decode()

    for text in ["Duka Letu", "Musanze market, stall 4", "TIN 109876543", "Musanze branch"]:
        assert text in page, text
    for text in ["Kimironko", "TIN 101234567", "Open every day"]:
        assert text not in page, text


def test_a_store_without_its_own_address_tin_or_header_prints_the_shops(
    client, cashier, sell, product, shop, register
):
    store = register.store
    assert (store.address, store.tin, store.receipt_header) == ("", "", "")
    sale = sell((product, 1), tenders=[TenderLine("cash", Decimal(12000))])
    client.force_login(cashier)

    page = client.get(reverse("pos:receipt", args=[sale.pk])).content.decode()

    for text in ["Duka Letu", "KG 11 Ave, Kimironko", "TIN 101234567", "Open every day"]:
        assert text in page, text


def test_a_refund_slip_prints_the_tills_store(
    client, manager, sell, product, shift, shop, branch, register
):
    from pos.services.refunds import RefundLineInput, refund_sale

    stock_branch(branch, product, manager)
    register.store = branch
    register.save(update_fields=["store"])
    sale = sell((product, 1))
    refund = refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Faulty",
    )
    StoreMembership.objects.create(user=manager, store=branch)  # they work there (pos.scoping)
    client.force_login(manager)

    page = client.get(reverse("pos:refund_slip", args=[refund.pk])).content.decode()

    assert "TIN 109876543" in page and "Musanze market, stall 4" in page
    assert "TIN 101234567" not in page


def test_the_receipt_printer_prints_the_tills_store(
    fake_printer, sell, product, shop, branch, register, cashier, manager
):
    from pos.services import printing

    printer = ReceiptPrinter.objects.create(
        name="Counter", host="127.0.0.1", port=fake_printer.port, width="58", timeout_seconds=2
    )
    stock_branch(branch, product, manager)
    register.store = branch
    register.receipt_printer = printer
    register.save(update_fields=["store", "receipt_printer"])
    sale = sell((product, 1))

    printing.print_receipt(sale=sale, user=cashier, printer=printer)

    printed = fake_printer.next_job()
    assert b"TIN 109876543" in printed and b"Musanze market, stall 4" in printed
    assert b"Musanze branch" in printed
    assert b"TIN 101234567" not in printed


def owner_client(client, make_user):
    from accounts.models import User

    owner = User.objects.filter(username="owner").first() or make_user("owner", "admin")
    client.force_login(owner)
    return owner


def test_an_owner_adds_a_store_in_the_admin_and_moves_a_till_into_it(client, make_user, register):
    from accounts.models import AuditLog

    owner_client(client, make_user)
    form = {
        "name": "Rubavu",
        "code": "RBV",
        "address": "Gisenyi, Rue du Lac",
        "tin": "",
        "branch_id": "02",
        "receipt_header": "",
        "opening_hours": "Mon-Sun 8:00-21:00",
        "is_active": "on",
    }
    response = client.post(reverse("admin:pos_store_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    store = Store.objects.get(code="RBV")
    assert (store.branch_id, store.opening_hours) == ("02", "Mon-Sun 8:00-21:00")
    assert AuditLog.objects.filter(action="store.created", target_id=str(store.pk)).exists()

    page = client.get(reverse("admin:pos_register_change", args=[register.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("admin:pos_register_change", args=[register.pk]),
        {"store": store.pk, "name": register.name, "is_active": "on", "receipt_printer": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    register.refresh_from_db()
    assert register.store == store


def test_a_store_needs_a_two_digit_branch_id_unique_for_its_tin(client, make_user, branch):
    owner_client(client, make_user)
    form = {"name": "Huye", "code": "HYE", "tin": branch.tin, "is_active": "on"}

    letters = client.post(reverse("admin:pos_store_add"), {**form, "branch_id": "A1"})
    taken = client.post(reverse("admin:pos_store_add"), {**form, "branch_id": branch.branch_id})

    assert letters.status_code == 200 and "Two digits, e.g. 00 or 01." in letters.content.decode()
    assert taken.status_code == 200 and "already exists" in taken.content.decode()
    assert not Store.objects.filter(code="HYE").exists()


def test_a_manager_sees_the_stores_but_neither_adds_nor_changes_them(client, manager, branch):
    client.force_login(manager)

    assert client.get(reverse("admin:pos_store_changelist")).status_code == 200
    assert client.get(reverse("admin:pos_store_add")).status_code == 403
    response = client.post(
        reverse("admin:pos_store_change", args=[branch.pk]),
        {"name": "Renamed", "code": "MSZ", "branch_id": "01"},
    )
    assert response.status_code == 403
    branch.refresh_from_db()
    assert branch.name == "Musanze"


# --- Staff per store (pos.scoping) -------------------------------------------------------------


def test_staff_assigned_to_no_store_work_in_the_first_store(cashier, branch):
    from pos import scoping

    first = Store.objects.order_by("pk").first()
    assert scoping.store_ids(cashier) == {first.pk}
    assert not scoping.works_in(cashier, branch.pk)


def test_an_owner_assigns_staff_on_the_users_page_audited(client, make_user, cashier, branch):
    from accounts.models import AuditLog

    owner = make_user("owner", "admin")
    client.force_login(owner)
    url = reverse("admin:accounts_user_change", args=[cashier.pk])
    page = client.get(url).content.decode()
    assert "Musanze" in page
    data = {
        "username": cashier.username,
        "first_name": cashier.first_name,
        "last_name": "",
        "email": "",
        "role": "cashier",
        "is_active": "on",
        "stores": [branch.pk],
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]

    assert list(cashier.store_memberships.values_list("store", flat=True)) == [branch.pk]
    entry = AuditLog.objects.get(action="store.staff_assigned")
    assert (entry.actor, entry.details) == (owner, {"user": cashier.username, "store": "MSZ"})
    from pos import scoping

    cashier.refresh_from_db()
    assert scoping.store_ids(cashier) == {branch.pk}

    data["stores"] = []
    client.post(url, data)
    assert not cashier.store_memberships.exists()
    assert AuditLog.objects.filter(action="store.staff_removed").count() == 1


def test_an_owner_assigns_staff_on_the_stores_page(client, make_user, cashier, branch):
    owner = make_user("owner", "admin")
    client.force_login(owner)
    url = reverse("admin:pos_store_change", args=[branch.pk])
    data = {
        "name": branch.name,
        "code": branch.code,
        "address": branch.address,
        "tin": branch.tin,
        "branch_id": branch.branch_id,
        "receipt_header": branch.receipt_header,
        "opening_hours": "",
        "is_active": "on",
        "staff": [cashier.pk],
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(branch.memberships.values_list("user", flat=True)) == [cashier.pk]


def test_a_manager_sees_but_cannot_change_the_stores_of_a_cashier(client, manager, cashier, branch):
    from pos.services.stores import set_staff_stores

    client.force_login(manager)
    url = reverse("admin:accounts_user_change", args=[cashier.pk])
    form = client.get(url).context["adminform"].form
    assert form.fields["stores"].disabled
    with pytest.raises(Exception, match="not allowed to assign"):
        set_staff_stores(actor=manager, user=cashier, stores=[branch])
    assert not cashier.store_memberships.exists()
