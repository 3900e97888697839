"""Issue 20, points 4, 5, 6 and 10: returns of any sale found from the till, a refund form that
keeps what was typed and shows its total, a refund slip, a guarded shift close, and a receipt
with one header, paper sizes, a scannable code and a big "New sale"."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pos.models import Refund, Register, ShopSettings
from pos.services.customers import create_customer
from pos.services.shifts import close_shift, open_shift
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def earlier_sale(sell, product, manager):
    """A sale on another till's earlier, closed shift, to a customer."""
    customer = create_customer(name="Aline", phone="0788000111")
    second = Register.objects.create(code="R2", name="Till 2")
    earlier = open_shift(register=second, cashier=manager, opening_float=Decimal(0))
    sale = sell((product, 2), shift=earlier, cashier=manager, customer=customer)
    close_shift(shift=earlier, counted={"cash": Decimal(24000)}, user=manager)
    return sale


# --- Point 5: find a sale from an earlier shift ----------------------------------------------


def test_a_receipt_number_from_an_earlier_shift_opens_its_return(till, earlier_sale):
    response = till.get(reverse("register:returns"), {"q": earlier_sale.number})
    assert response["Location"] == reverse("register:refund", args=[earlier_sale.pk])


def test_scanning_the_receipts_code_at_the_register_opens_its_return(till, earlier_sale):
    response = till.post(reverse("register:scan"), {"code": earlier_sale.number.lower()})
    assert response["Location"] == reverse("register:refund", args=[earlier_sale.pk])


def test_a_sale_is_found_by_the_customers_phone(till, earlier_sale):
    response = till.get(reverse("register:returns"), {"q": "+250 788 000 111"})
    assert response.context["sales"] == [earlier_sale]
    assert "Return goods from R2-000001" in response.content.decode()


def test_a_sale_is_found_by_day_and_amount(till, earlier_sale):
    day = timezone.localdate(earlier_sale.created_at)
    found = till.get(reverse("register:returns"), {"day": day.isoformat(), "amount": "24000"})
    assert found.context["sales"] == [earlier_sale]
    other_day = (day - datetime.timedelta(days=1)).isoformat()
    missed = till.get(reverse("register:returns"), {"day": other_day, "amount": "24000"})
    assert missed.context["sales"] == []
    assert "No sale matches." in missed.content.decode()


def test_an_empty_search_says_what_to_type(till):
    response = till.get(reverse("register:returns"), {"q": ""})
    assert response.status_code == 400
    assert "give a day and amount" in response.content.decode()


# --- Point 4: the refund form -----------------------------------------------------------------


def test_the_refund_form_keeps_the_typed_quantities_after_an_error_and_shows_the_total(
    till, earlier_sale
):
    line = earlier_sale.lines.get()
    url = reverse("register:refund", args=[earlier_sale.pk])
    response = till.post(url, {f"qty_{line.pk}": "1", "reason": "", "tender": "cash"})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'name="qty_{line.pk}" type="number" min="0" max="2" value="1"' in page
    assert response.context["refund_total"] == Decimal(12000)
    assert "12,000 RWF" in page

    preview = till.post(url, {f"qty_{line.pk}": "2", "preview": "1", "tender": "cash"})
    assert preview.status_code == 200
    assert preview.context["refund_total"] == Decimal(24000)
    assert not preview.context["form"].errors
    assert not Refund.objects.exists()


def test_a_refund_prints_a_slip(till, earlier_sale, manager):
    line = earlier_sale.lines.get()
    response = till.post(
        reverse("register:refund", args=[earlier_sale.pk]),
        {
            f"qty_{line.pk}": "1",
            "reason": "Faulty",
            "tender": "cash",
            "manager_username": "manager",
            "manager_password": PASSWORD,
        },
    )
    refund = Refund.objects.get()
    assert response["Location"] == reverse("pos:refund_slip", args=[refund.pk])
    slip = till.get(response["Location"])
    page = slip.content.decode()
    for text in ("REFUND", refund.number, earlier_sale.number, "Faulty", "12,000", "data-print"):
        assert text in page, text
    assert f"Refund {refund.number} done." in page


def test_a_refund_slip_of_another_cashiers_shift_is_refused(client, make_user, earlier_sale):
    from pos.services.refunds import RefundLineInput, refund_sale

    manager = earlier_sale.cashier
    own = open_shift(
        register=Register.objects.get(code="R2"), cashier=manager, opening_float=Decimal(20000)
    )
    refund = refund_sale(
        sale=earlier_sale,
        shift=own,
        user=manager,
        lines=[RefundLineInput(earlier_sale.lines.get().pk, 1)],
        reason="x",
    )
    client.force_login(make_user("other", "cashier"))
    assert client.get(reverse("pos:refund_slip", args=[refund.pk])).status_code == 403


# --- Point 6: closing with a sale in progress -------------------------------------------------


def test_closing_the_shift_with_a_cart_in_progress_is_refused_until_confirmed(
    till, scan, product, shift
):
    scan(product.barcode)
    page = till.get(reverse("register:shift")).content.decode()
    assert "A sale is in progress on the register (1 line)" in page
    form = {"counted_cash": "20000", "close": "1"}
    response = till.post(reverse("register:shift"), form)
    assert response.status_code == 200
    assert "Finish or hold it first" in response.content.decode()
    shift.refresh_from_db()
    assert shift.status == "open"
    assert len(till.get("/register/").context["lines"]) == 1

    response = till.post(reverse("register:shift"), {**form, "discard_cart": "1"})
    shift.refresh_from_db()
    assert shift.status == "ended"  # counted; a manager reviews it
    assert response["Location"] == reverse("register:z_report", args=[shift.pk])


# --- Point 10: the receipt --------------------------------------------------------------------


def test_the_receipt_prints_the_shops_header_once(client, cashier, sell, product):
    shop = ShopSettings.load()
    shop.name, shop.address = "Vevurn Phone Accessories", "Kigali City Tower, Kigali"
    shop.receipt_header = "Vevurn Phone Accessories\nKigali City Tower, Kigali\nOpen 8-20"
    shop.save()
    client.force_login(cashier)
    page = client.get(reverse("pos:receipt", args=[sell((product, 1)).pk])).content.decode()
    assert page.count("Vevurn Phone Accessories") == 1
    assert page.count("Kigali City Tower, Kigali") == 1
    assert "Open 8-20" in page


def test_the_receipt_has_a_scannable_code_of_its_number_and_a_new_sale_button(
    client, cashier, sell, product
):
    import segno  # noqa: F401 - pinned in requirements.txt

    sale = sell((product, 1))
    client.force_login(cashier)
    page = client.get(reverse("pos:receipt", args=[sale.pk])).content.decode()
    assert f'data-code="{sale.number}"' in page
    assert "<svg" in page and 'aria-label="Code of R1-000001"' in page
    assert 'class="new-sale" data-new-sale autofocus>New sale <kbd>Enter</kbd>' in page


def test_the_receipt_prints_on_80_or_58_mm_and_remembers_the_choice(client, cashier, sell, product):
    sale = sell((product, 1))
    client.force_login(cashier)
    url = reverse("pos:receipt", args=[sale.pk])
    assert "receipt-58.css" not in client.get(url).content.decode()
    narrow = client.get(url, {"paper": "58"})
    assert "receipt-58.css" in narrow.content.decode()
    assert narrow.cookies["receipt_paper"].value == "58"
    assert "receipt-58.css" in client.get(url).content.decode()  # remembered on this device


def test_the_receipt_stylesheets_set_the_page_to_the_papers_width():
    from django.contrib.staticfiles import finders

    wide = open(finders.find("pos/receipt.css")).read()
    narrow = open(finders.find("pos/receipt-58.css")).read()
    assert "@page { size: 80mm" in wide
    assert "@page { size: 58mm" in narrow
