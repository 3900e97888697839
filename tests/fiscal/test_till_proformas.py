"""Proforma quotes from the till: the cashier turns the cart into a quote (customer name and
TIN optional), it is signed through the outbox like the admin's, printed (80/58 mm page, ESC/POS
on the till's printer) or sent by message; the cart stays as it was."""

import pytest
from django.core import mail
from django.urls import reverse

from fiscal import messages, sending
from fiscal.models import OutboxItem, Proforma
from pos.models import Sale, SellingUnit
from pos.services import customer_messages
from tests.support.fake_printer import fake_printer  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_till(client, cashier, shift):
    client.force_login(cashier)
    return client


def _cart(client, product, times=1):
    for _ in range(times):
        client.post(reverse("register:add_product", args=[product.pk]))


def test_the_till_quotes_its_cart_and_keeps_it(fiscal_device, vsdc, goods, at_till, cashier):
    _cart(at_till, goods, times=2)
    register = at_till.get(reverse("register:register")).content.decode()
    assert reverse("fiscal:till_proforma") in register and "Proforma quote" in register
    page = at_till.get(reverse("fiscal:till_proforma"))
    assert page.status_code == 200
    assert goods.name in page.content.decode()
    response = at_till.post(
        reverse("fiscal:till_proforma"),
        {"customer_name": "Kigali Hardware", "buyer_tin": "101234567"},
    )
    quote = Proforma.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("fiscal:proforma", args=[quote.pk])
    assert (quote.customer_name, quote.buyer_tin, quote.created_by) == (
        "Kigali Hardware",
        "101234567",
        cashier,
    )
    line = quote.lines.get()
    assert (line.product, line.quantity, line.unit_price) == (goods, 2, goods.retail_price)
    assert OutboxItem.objects.get(kind="proforma").invoice_number == 1
    # The cart is as it was: still two of the product, nothing sold.
    assert at_till.session["register_cart"]["lines"][0]["quantity"] in (2, "2")
    assert Sale.objects.count() == 0
    pending = at_till.get(response["Location"]).content.decode()
    assert "FISCAL PENDING" in pending
    sending.drain()
    (body,) = [r.body for r in vsdc.received_for("sales") if r.body["salesTyCd"] == "P"]
    assert (body["custNm"], body["custTin"]) == ("Kigali Hardware", "101234567")
    signed = at_till.get(response["Location"]).content.decode()
    assert 'data-label="PS"' in signed and "data-counters>1/1 PS<" in signed


def test_a_carton_in_the_cart_is_quoted_in_pieces(fiscal_device, goods, at_till):
    carton = SellingUnit.objects.create(product=goods, name="Box", factor=10)
    at_till.post(reverse("register:add_product", args=[goods.pk]), {"unit": carton.pk})
    session = at_till.session
    cart = session["register_cart"]
    cart["lines"] = [{**cart["lines"][0], "selling_unit_id": carton.pk}]
    session.save()
    at_till.post(reverse("fiscal:till_proforma"), {})
    assert Proforma.objects.get().lines.get().quantity == 10


def test_a_bad_tin_or_an_empty_cart_is_refused_and_takes_no_number(fiscal_device, goods, at_till):
    empty = at_till.post(reverse("fiscal:till_proforma"), {})
    assert empty.status_code == 400
    assert "Add at least one line." in empty.content.decode()
    _cart(at_till, goods)
    bad = at_till.post(reverse("fiscal:till_proforma"), {"buyer_tin": "12345"})
    assert bad.status_code == 400
    assert "A TIN is 9 digits." in bad.content.decode()
    assert not Proforma.objects.exists()
    assert not OutboxItem.objects.filter(kind="proforma").exists()


def test_without_signing_the_till_offers_no_quote(goods, at_till, settings):
    settings.FISCAL_BACKEND = "none"
    _cart(at_till, goods)
    page = at_till.get(reverse("register:register")).content.decode()
    assert reverse("fiscal:till_proforma") not in page


def test_a_cashier_opens_their_own_quotes_only(
    fiscal_device, goods, at_till, make_user, client, manager
):
    _cart(at_till, goods)
    at_till.post(reverse("fiscal:till_proforma"), {})
    url = reverse("fiscal:proforma", args=[Proforma.objects.get().pk])
    other = make_user("other", "cashier")
    client.force_login(other)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    assert client.get(url).status_code == 200


def test_the_quote_prints_on_the_tills_printer_then_as_a_copy(
    fiscal_device,
    goods,
    at_till,
    register,
    fake_printer,  # noqa: F811
):
    from pos.models import ReceiptPrinter

    register.receipt_printer = ReceiptPrinter.objects.create(
        name="Counter", host="127.0.0.1", port=fake_printer.port, width="58", timeout_seconds=2
    )
    register.save(update_fields=["receipt_printer"])
    _cart(at_till, goods)
    at_till.post(reverse("fiscal:till_proforma"), {"customer_name": "Amina"})
    quote = Proforma.objects.get()
    print_url = reverse("fiscal:print_proforma", args=[quote.pk])
    held = at_till.post(print_url, follow=True).content.decode()
    assert "FISCAL PENDING" in held and not fake_printer.jobs  # nothing printed unsigned
    sending.drain()
    page = at_till.post(print_url, follow=True).content.decode()
    job = fake_printer.next_job()
    assert b"PROFORMA: NOT A RECEIPT" in job and b"PS" in job and b"Amina" in job
    assert b"1/1 PS" in job and b"\x1d(k" in job  # the counters and the printer's own QR code
    assert b"COPY" not in job
    assert "Printed on Counter." in page and 'data-label="PS"' in page
    assert ">COPY PS<" not in page  # the page after the print shows it, counts no copy
    at_till.post(print_url)
    assert b"COPY" in fake_printer.next_job()
    assert OutboxItem.objects.get(kind="proforma").prints == 2


def test_the_quote_is_sent_by_email_once_signed(fiscal_device, goods, at_till):
    _cart(at_till, goods)
    at_till.post(reverse("fiscal:till_proforma"), {})
    quote = Proforma.objects.get()
    url = reverse("fiscal:send_proforma", args=[quote.pk])
    refused = at_till.post(url, {"address": "amina@"})
    assert refused.status_code == 400 and "Enter a valid email address." in refused.content.decode()
    assert at_till.post(url, {"address": "amina@example.rw"}).status_code == 302
    messages.hand_over_due()
    customer_messages.send_due()
    assert mail.outbox == []  # not signed yet
    sending.drain()
    messages.hand_over_due()
    customer_messages.send_due()
    (sent,) = mail.outbox
    assert sent.to == ["amina@example.rw"] and quote.number in sent.subject
    assert "1/1 PS" in sent.body and "PROFORMA: NOT A RECEIPT" in sent.body
