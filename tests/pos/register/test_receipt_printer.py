"""Receipt printers: the exact ESC/POS bytes a network printer receives for a receipt, its copy,
a refund slip and the drawer's kick; each failure's message and the browser's print after it."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from pos.journal.verify import verify
from pos.models import JournalEntry, ReceiptPrinter, Sale, ShopSettings
from pos.printing import escpos_documents
from pos.printing.network import PrinterError, send
from pos.services import printing
from tests.support import fake_printer as printers
from tests.support.fixtures import fiscal_device, vsdc  # noqa: F401
from tests.support.vsdc_simulator import SDC_ID

pytestmark = pytest.mark.django_db
fake_printer, free_port, stalled_port = (
    printers.fake_printer,
    printers.free_port,
    printers.stalled_port,
)

INIT_CP850 = b"\x1b@\x1bt\x02"  # ESC @, then ESC t 2: code page 850
KICK = b"\x1bp\x00\x19\xfa"  # ESC p, pin 2, 50 ms on, 500 ms off
CUT = b"\x1bd\x06\x1dV\x00"  # feed 6 lines, full cut


def big(text: bytes) -> bytes:
    """Centred, bold, double size, then back to left and normal."""
    return b"\x1ba\x01\x1bE\x01\x1d!\x11" + text + b"\n\x1d!\x00\x1bE\x00\x1ba\x00"


@pytest.fixture
def printer(fake_printer, register):
    shop = ShopSettings.load()
    shop.name = "Duka"
    shop.save()
    printer = ReceiptPrinter.objects.create(
        name="Counter", host="127.0.0.1", port=fake_printer.port, width="58", timeout_seconds=2
    )
    register.receipt_printer = printer
    register.save(update_fields=["receipt_printer"])
    return printer


@pytest.fixture
def cable(make_product):
    return make_product(
        stock=5, name="Cable", retail_price=Decimal(3000), minimum_price=Decimal(2000)
    )


@pytest.fixture
def refund(sell, cable, shift, manager):
    """One cable sold, then refunded in cash."""
    from pos.services.refunds import RefundLineInput, refund_sale

    sale = sell((cable, 1))
    return refund_sale(
        sale=sale,
        shift=shift,
        user=manager,
        lines=[RefundLineInput(sale.lines.get().pk, 1)],
        reason="Faulty",
    )


def receipt_bytes(sale: Sale, *, copy: bool, kick: bool) -> bytes:
    when = date_format(timezone.localtime(sale.created_at), "SHORT_DATETIME_FORMAT")
    return (
        INIT_CP850
        + (KICK if kick else b"")
        + big(b"Duka")
        + (big(b"COPY") if copy else b"")
        + b"Receipt                R1-000001\n"
        + b"Date" + when.rjust(28).encode() + b"\n"
        + b"Cashier                    Grace\n"
        + b"-" * 32 + b"\n"
        + b"Cable\n"
        + b"  1 x 3,000                3,000\n"
        + b"-" * 32 + b"\n"
        + b"\x1bE\x01Total RWF                  3,000\n\x1bE\x00"
        + b"VAT 18% included             458\n"
        + b"Cash                       5,000\n"
        + b"Change                     2,000\n"
        + b"-" * 32 + b"\n"
        + (big(b"COPY") if copy else b"")
        + CUT
    )  # fmt: skip


def test_a_cash_sale_at_the_till_prints_its_receipt_and_kicks_the_drawer_then_a_copy(
    till,
    shift,
    cable,
    printer,
    fake_printer,
    scan,
    pay_page,
):
    scan(cable.barcode)
    _page, key = pay_page()
    response = till.post(reverse("register:complete"), {"idempotency_key": key, "cash": "5000"})
    sale = Sale.objects.get()
    assert response["Location"] == reverse("pos:receipt", args=[sale.pk])
    assert fake_printer.next_job() == receipt_bytes(sale, copy=False, kick=True)
    # The receipt page after the printer printed it: shown, not counted as another print.
    page = till.get(response["Location"]).content.decode()
    assert "COPY" not in page and "Print on Counter" in page
    sale.refresh_from_db()
    assert sale.receipt_prints == 1

    response = till.post(reverse("pos:print_receipt", args=[sale.pk]), follow=True)
    assert fake_printer.next_job() == receipt_bytes(sale, copy=True, kick=False)
    assert "Copy printed on Counter." in response.content.decode()
    assert JournalEntry.objects.filter(kind="reprint").count() == 1
    assert verify().ok


def test_the_shops_logo_prints_atop_the_receipt_in_black_and_white(
    till, shift, cable, printer, fake_printer, scan, pay_page
):
    from io import BytesIO

    from PIL import Image

    from pos.services import shop_logo

    png = BytesIO()
    Image.new("RGB", (16, 2), "black").save(png, "PNG")
    shop = ShopSettings.load()
    shop_logo.set_logo(shop, png)
    shop.save()
    scan(cable.barcode)
    _page, key = pay_page()
    till.post(reverse("register:complete"), {"idempotency_key": key, "cash": "5000"})
    sale = Sale.objects.get()

    # Centred, GS v 0: 2 bytes (16 dots) wide, 2 dots high, every dot black; then the receipt.
    logo = b"\x1ba\x01" + b"\x1dv0\x00\x02\x00\x02\x00" + b"\xff" * 4 + b"\x1ba\x00"
    start = len(INIT_CP850 + KICK)
    expected = receipt_bytes(sale, copy=False, kick=True)
    assert fake_printer.next_job() == expected[:start] + logo + expected[start:]


def test_a_sale_paid_by_mobile_money_prints_without_kicking_the_drawer(
    sell,
    cable,
    printer,
    fake_printer,
    cashier,
):
    from pos.services.checkout import TenderLine

    sale = sell((cable, 1), tenders=[TenderLine("mobile_money", Decimal(3000), reference="MP9")])
    printing.print_receipt(sale=sale, user=cashier, printer=printer)
    job = fake_printer.next_job()
    assert KICK not in job
    assert b"MTN MoMo (MP9)" + b" " * 13 + b"3,000\n" in job


def test_a_cash_refund_prints_its_slip_after_the_kick(refund, printer, fake_printer):
    printing.print_refund_slip(refund=refund, printer=printer)
    job = fake_printer.next_job()
    assert job.startswith(INIT_CP850 + KICK + big(b"Duka"))
    assert b"\x1bE\x01Refunded (Cash)            3,000\n\x1bE\x00" in job
    assert job.endswith(CUT)


def test_the_drawer_opened_without_a_sale_needs_the_permission_a_reason_and_is_journalled(
    till,
    shift,
    cashier,
    printer,
    fake_printer,
):
    from django.contrib.auth.models import Group, Permission

    response = till.post(reverse("register:no_sale"), {"reason": "Change for a 5000 note"})
    assert response["Location"] == reverse("register:shift")
    assert fake_printer.next_job() == INIT_CP850 + KICK
    entry = JournalEntry.objects.get(kind="no_sale")
    assert "Change for a 5000 note" in entry.payload

    cashiers = Group.objects.get(name="Cashiers")
    cashiers.permissions.remove(Permission.objects.get(codename="open_cash_drawer"))
    page = till.post(reverse("register:no_sale"), {"reason": "Again"}, follow=True)
    assert "not allowed to open the drawer" in page.content.decode()
    assert JournalEntry.objects.filter(kind="no_sale").count() == 1
    assert len(fake_printer.jobs) == 1


def test_the_shift_report_and_a_test_page_print(
    shift,
    printer,
    fake_printer,
    client,
    manager,
):
    from tests.conftest import PASSWORD

    client.login(username=manager.username, password=PASSWORD)
    client.post(reverse("register:print_z_report", args=[shift.pk]))
    job = fake_printer.next_job()
    assert big(b"Duka") in job and b"Z-report" in job and b"Sales" in job
    printing.print_test_page(printer)
    job = fake_printer.next_job()
    assert b"Test page" in job and b"58 mm, 32" in job
    assert "é".encode("cp850") in job  # the accents in the printer's code page


def test_each_failure_has_its_message(printer, free_port, stalled_port):
    payload = escpos_documents.drawer_kick(printer)
    printer.port = free_port
    with pytest.raises(PrinterError) as refused:
        send(printer, payload)
    assert refused.value.code == "printer_refused"
    assert "refused the connection" in refused.value.message

    printer.port, printer.timeout_seconds = stalled_port, 1
    with pytest.raises(PrinterError) as timed_out:
        send(printer, payload)
    assert timed_out.value.code == "printer_timeout"
    assert "did not answer within 1 s" in timed_out.value.message

    printer.host = "255.255.255.255"  # refused by this machine's network stack, sent nowhere
    with pytest.raises(PrinterError) as unreachable:
        send(printer, payload)
    assert unreachable.value.code == "printer_unreachable"
    assert "cannot be reached at 255.255.255.255" in unreachable.value.message


def test_an_unreachable_printer_is_told_and_the_browser_prints_the_receipt(
    till,
    shift,
    cable,
    printer,
    scan,
    pay_page,
    free_port,
):
    ReceiptPrinter.objects.filter(pk=printer.pk).update(port=free_port)
    scan(cable.barcode)
    _page, key = pay_page()
    response = till.post(
        reverse("register:complete"), {"idempotency_key": key, "cash": "5000"}, follow=True
    )
    page = response.content.decode()
    assert "refused the connection" in page and "Print from the browser instead." in page
    assert "data-print" in page  # the browser's print button
    sale = Sale.objects.get()
    assert sale.receipt_prints == 1  # the page is the original, printed by the browser


def test_a_refund_slips_copy_prints_copy_and_keeps_the_drawer_shut(
    refund, printer, fake_printer, manager, client
):
    client.force_login(manager)
    page = client.get(reverse("pos:refund_slip", args=[refund.pk])).content.decode()
    assert "Print a copy on Counter" in page

    answer = client.post(reverse("pos:print_refund_slip", args=[refund.pk]), follow=True)

    job = fake_printer.next_job()
    assert job.startswith(INIT_CP850 + big(b"Duka") + big(b"COPY"))
    assert KICK not in job
    assert b"\x1bE\x01Refunded (Cash)            3,000\n\x1bE\x00" in job
    assert job.endswith(big(b"COPY") + CUT)
    assert "Copy printed on Counter." in answer.content.decode()


def native_qr(content: bytes, size: int) -> bytes:
    """The printer's own QR code (GS ( k): model 2, module size, correction M, data, print."""

    def function(fn: bytes, data: bytes, m: bytes = b"") -> bytes:
        length = len(data) + len(m) + 2
        return b"\x1d(k" + bytes([length % 256, length // 256]) + b"1" + fn + m + data

    return (
        function(b"A", bytes([50, 0]))
        + function(b"C", bytes([size]))
        + function(b"E", bytes([49]))
        + function(b"P", content, b"0")
        + function(b"Q", b"", b"0")
    )


def test_a_signed_sale_prints_its_sdc_block_and_qr_code_then_a_copy_labelled_cs(
    sell,
    cable,
    printer,
    fake_printer,
    cashier,
    fiscal_device,  # noqa: F811
    vsdc,  # noqa: F811
):
    from fiscal import sending

    sending.drain()  # the product's opening stock
    sale = sell((cable, 1))
    with pytest.raises(printing.ReceiptHeld):  # not signed yet: nothing is sent
        printing.print_receipt(sale=sale, user=cashier, printer=printer)
    assert fake_printer.jobs == []
    sending.drain()
    signed = vsdc.signed[1]

    printing.print_receipt(sale=sale, user=cashier, printer=printer)

    job = fake_printer.next_job()
    assert job.startswith(INIT_CP850 + KICK + big(b"Duka"))
    assert big(b"NS") in job and b"COPY" not in job
    at = timezone.datetime.strptime(signed["vsdcRcptPbctDate"], "%Y%m%d%H%M%S")
    content = f"{at:%d%m%Y}#{at:%H%M%S}#{SDC_ID}#1/1#{signed['intrlData']}#{signed['rcptSign']}"
    centred = b"\x1ba\x01" + native_qr(content.encode(), 5) + b"\n\x1ba\x00"
    assert centred in job
    assert b"SDC ID" + b" " * (32 - 6 - len(SDC_ID)) + SDC_ID.encode() + b"\n" in job
    assert b"Receipt number" + b" " * 12 + b"1/1 NS\n" in job

    printing.print_receipt(sale=sale, user=cashier, printer=printer)

    copy = fake_printer.next_job()
    assert big(b"COPY") + big(b"CS") in copy and KICK not in copy
    assert b"1/1 CS\n" in copy and centred in copy  # from the stored signature
    assert len(vsdc.received_for("sales")) == 1


def test_an_api_sale_asked_to_print_prints_its_receipt_and_kicks_the_drawer_once(
    shift, cashier, cable, printer, fake_printer, free_port
):
    import uuid

    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(cashier)
    key = str(uuid.uuid4())
    body = {
        "lines": [{"product": cable.pk, "quantity": 1}],
        "tenders": [{"tender": "cash", "amount": "5000"}],
        "print_receipt": True,
    }

    taken = api.post("/api/v1/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert taken.status_code == 201
    assert taken.json()["receipt_print"] == {"status": "printed", "message": "Printed on Counter."}
    sale = Sale.objects.get()
    assert fake_printer.next_job() == receipt_bytes(sale, copy=False, kick=True)
    again = api.post("/api/v1/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200 and again.json()["receipt_print"] is None
    quiet = api.post(
        "/api/v1/sales/",
        {**body, "print_receipt": False},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert quiet.json()["receipt_print"] is None
    assert len(fake_printer.jobs) == 1

    printer.port = free_port  # nothing listens there: the sale stands, the answer says so
    printer.save(update_fields=["port"])
    failed = api.post("/api/v1/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert failed.status_code == 201
    assert failed.json()["receipt_print"]["status"] == "failed"
    assert "Counter" in failed.json()["receipt_print"]["message"]
    assert Sale.objects.count() == 3
