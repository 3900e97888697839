"""Training mode (fiscal.training): a manager puts a till in training; its sales and refunds go
to the VSDC as training receipts (salesTyCd T, printed TS/TR, the training counter) and stay
out of stock, money, the journal and every report."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from fiscal import receipts, sending, training
from fiscal.models import Device, OutboxItem, TrainingReceipt
from fiscal.reports import day_report
from fiscal.training_escpos import training_receipt_bytes
from pos import errors
from pos.models import (
    JournalEntry,
    LedgerEntry,
    Payment,
    ReceiptPrinter,
    Sale,
    StockMovement,
)
from pos.reports import queries
from pos.services import shifts
from pos.services.checkout import Cart, CartLine, TenderLine
from pos.services.momo_reconciliation import reconcile_day
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_training(register, manager):
    training.start_training(register=register, user=manager)
    return register


@pytest.fixture
def practise(shift, cashier):
    """Ring up a training sale through the service: practise((product, qty), ..., tenders=)."""

    def ring(*items, tenders=None, order_discount=Decimal(0), key=None):
        cart = Cart([CartLine(p.pk, q) for p, q in items], order_discount)
        return training.ring_up(
            shift=shift,
            cashier=cashier,
            cart=cart,
            tenders=tenders or [TenderLine("cash", Decimal(10**6))],
            idempotency_key=key or uuid.uuid4(),
        )

    return ring


def _training_bodies(vsdc):
    return [r.body for r in vsdc.received_for("sales") if r.body["salesTyCd"] == "T"]


def test_a_training_sale_and_its_refund_are_T_receipts_on_the_training_counter(
    fiscal_device, vsdc, goods, make_product, in_training, practise, cashier
):
    cable = make_product(stock=5, retail_price=Decimal("3500"), minimum_price=Decimal("3000"))
    sale = practise((goods, 2), (cable, 1), order_discount=Decimal("500"))
    item = OutboxItem.objects.get(training=sale)
    assert (item.kind, item.invoice_number) == ("training", 1)
    sending.drain()
    refund = training.refund_training_sale(
        receipt=sale,
        user=cashier,
        lines=[training.RefundLine(sale.lines.first().pk, Decimal(1))],
        reason_code="06",
    )
    sending.drain()

    sold, back = _training_bodies(vsdc)
    # 2 x 12,000 and 1 x 3,500 = 27,500; the 500 off shared by value in whole francs (RWF has
    # no cents): 436 and 64; tax included, per line, 18/118 rounded to cents.
    assert {k: sold[k] for k in ("invcNo", "orgInvcNo", "rcptTyCd", "pmtTyCd", "totAmt")} == {
        "invcNo": 1,
        "orgInvcNo": 0,
        "rcptTyCd": "S",
        "pmtTyCd": "01",
        "totAmt": 27000,
    }
    first, second = sold["itemList"]
    assert (first["qty"], first["prc"], first["splyAmt"], first["dcAmt"]) == (2, 12000, 24000, 436)
    assert (first["taxblAmt"], first["taxAmt"]) == (23564, 3594.51)
    assert (second["splyAmt"], second["dcAmt"], second["taxblAmt"], second["taxAmt"]) == (
        3500,
        64,
        3436,
        524.14,
    )
    assert (sold["taxblAmtB"], sold["taxAmtB"], sold["totTaxAmt"]) == (27000, 4118.65, 4118.65)
    assert {k: back[k] for k in ("invcNo", "orgInvcNo", "rcptTyCd", "rfdRsnCd", "totAmt")} == {
        "invcNo": 2,
        "orgInvcNo": 1,
        "rcptTyCd": "R",
        "rfdRsnCd": "06",
        "totAmt": 11782,  # one of the two: half of the line's 23,564
    }
    assert (back["itemList"][0]["qty"], back["taxAmtB"]) == (1, 1797.25)
    # Their own counters: the VSDC's TS and TR, our training numbers; no sale's number taken.
    assert vsdc.counters == {"S": 0, "R": 0, "TS": 1, "TR": 1}
    device = Device.objects.get()
    assert (device.last_invoice_number, device.last_training_number) == (0, 2)
    assert OutboxItem.objects.get(training=refund).signature.receipt_type == "R"
    # Nothing of it is reported as stock.
    assert not OutboxItem.objects.filter(kind="stock").exclude(stock_type_code="06").exists()


def test_the_training_receipt_says_TS_and_not_official_then_TR_for_its_refund(
    fiscal_device, vsdc, goods, in_training, practise, cashier, client
):
    sale = practise((goods, 1))
    client.force_login(cashier)
    pending = client.get(sale.get_absolute_url()).content.decode()
    assert "FISCAL PENDING" in pending and "TRAINING: NOT AN OFFICIAL RECEIPT" in pending
    sending.drain()
    page = client.get(sale.get_absolute_url()).content.decode()
    assert 'data-label="TS"' in page and "data-counters>1/1 TS<" in page
    assert page.count("TRAINING: NOT AN OFFICIAL RECEIPT") == 3  # top, SDC block, bottom
    assert "data-training-refund" in page
    again = client.get(sale.get_absolute_url()).content.decode()
    assert "COPY" in again and 'data-label="TS"' in again

    response = client.post(
        reverse("fiscal:training_refund", args=[sale.pk]),
        {f"qty-{sale.lines.get().pk}": "1", "reason_code": "01"},
    )
    refund = TrainingReceipt.objects.get(original=sale)
    assert response.url == refund.get_absolute_url()
    sending.drain()
    page = client.get(refund.get_absolute_url()).content.decode()
    assert 'data-label="TR"' in page and "data-counters>1/2 TR<" in page
    assert "−12,000" in page and "Refund of invoice 1, reason 01" in page
    # Nothing is left to refund: a second refund is refused, shown beside the form.
    refused = client.post(
        reverse("fiscal:training_refund", args=[sale.pk]), {f"qty-{sale.lines.get().pk}": "1"}
    )
    assert refused.status_code == 400 and "At most 0 of" in refused.content.decode()


@pytest.mark.parametrize(("width", "columns"), [("80", 48), ("58", 32)])
def test_the_training_receipt_prints_in_escpos_with_its_label_notice_and_qr(
    fiscal_device, vsdc, goods, in_training, practise, width, columns
):
    from pos.models import ShopSettings

    sale = practise((goods, 1))
    sending.drain()
    printer = ReceiptPrinter.objects.create(name="Front", host="127.0.0.1", width=width)
    blocks = [receipts.receipt_block(sale, width=width)]
    data = training_receipt_bytes(sale, ShopSettings.load(), printer, blocks)
    text = data.decode("cp437", errors="replace")
    assert text.count("TRAINING: NOT AN OFFICIAL") == 2  # RECEIPT on its own line on 58 mm
    assert "TS" in text and "1/1 TS" in text and "TRN-" in text
    assert b"\x1d(k" in data  # the printer's own QR code
    assert b"\x1bp" not in data  # no drawer kick: no money moves
    lines = [line for line in text.split("\n") if "x 12,000" in line]
    assert lines and all(len(line) <= columns for line in lines)


def _figures(shift, products):
    """Every figure training must leave alone."""
    today = timezone.localdate()
    shift.refresh_from_db()
    report = shifts.z_report(shift)
    return {
        "stock": [p.__class__.objects.get(pk=p.pk).stock_on_hand for p in products],
        "movements": StockMovement.objects.count(),
        "sales": Sale.objects.count(),
        "payments": Payment.objects.count(),
        "expected_cash": shifts.expected_cash(shift),
        "expected": shifts.expected_by_tender(shift),
        "z_report": report,
        "journal": list(JournalEntry.objects.order_by("pk").values_list("pk", "kind")),
        "ledger": LedgerEntry.objects.count(),
        "summary": queries.sales_summary(today, today),
        "by_period": queries.sales_by_period(today, today),
        "top": queries.top_products(today, today),
        "fiscal_day": (day_report(today).counts, day_report(today).plu),
        "fiscal_z": receipts.z_report_section("z_report", shift=shift).context,
        "momo": reconcile_day(today).totals(),
    }


def test_training_sales_and_refunds_at_the_till_leave_stock_money_reports_and_journal_alone(
    fiscal_device, vsdc, goods, make_product, sell, shift, register, cashier, manager, client
):
    cable = make_product(stock=5, retail_price=Decimal("3500"), minimum_price=Decimal("3000"))
    sell((goods, 1))  # a real sale before: the figures are not all zero
    sending.drain()
    before = _figures(shift, [goods, cable])

    boss = Client()
    boss.force_login(manager)
    assert boss.post(reverse("fiscal:training_start", args=[register.pk])).status_code == 302
    client.login(username=cashier.username, password=PASSWORD)
    page = client.get("/register/").content.decode()
    assert "data-training-banner" in page and "TRAINING - not a sale" in page
    for product in (goods, cable):
        client.post("/register/scan/", {"code": product.barcode})
        client.post("/register/scan/", {"code": product.barcode})
        pay = client.get("/register/pay/")
        assert "data-training-banner" in pay.content.decode()
        key = pay.context["form"]["idempotency_key"].value()
        done = client.post(
            "/register/pay/complete/",
            {"idempotency_key": str(key), "cash": "30000", "mobile_money": "", "card": ""},
        )
        assert done.status_code == 302 and "/fiscal/training/receipts/" in done.url, done
        # A second click on "Complete" shows the same training receipt.
        again = client.post(
            "/register/pay/complete/", {"idempotency_key": str(key), "cash": "30000"}
        )
        assert again.url == done.url
    sold = list(TrainingReceipt.objects.order_by("pk"))
    assert [r.total for r in sold] == [Decimal("24000"), Decimal("7000")]
    assert [r.change_given for r in sold] == [Decimal("6000"), Decimal("23000")]
    refund_url = reverse("fiscal:training_refund", args=[sold[0].pk])
    assert client.post(refund_url, {f"qty-{sold[0].lines.get().pk}": "2"}).status_code == 302
    sending.drain()

    assert _figures(shift, [goods, cable]) == before
    assert len(_training_bodies(vsdc)) == 3
    assert boss.post(reverse("fiscal:training_stop", args=[register.pk])).status_code == 302
    # Out of training: the till sells again, for real.
    client.post("/register/scan/", {"code": cable.barcode})
    done = client.post(
        "/register/pay/complete/", {"idempotency_key": str(uuid.uuid4()), "cash": "3500"}
    )
    assert Sale.objects.count() == before["sales"] + 1
    assert done.url == reverse("pos:receipt", args=[Sale.objects.latest("pk").pk])
    assert "data-training-banner" not in client.get("/register/").content.decode()


def test_a_till_in_training_refuses_what_would_move_real_money(
    in_training, sell, shift, cashier, client, goods
):
    real = sell((goods, 1))
    payments = Payment.objects.count()
    client.login(username=cashier.username, password=PASSWORD)
    tries = [
        ("/register/gift-cards/sell/", {"amount": "5000"}),
        ("/register/shift/", {"cash_movement": "1", "kind": "paid_in", "amount": "100"}),
        ("/register/shift/no-sale/", {"reason": "change"}),
        (f"/register/sales/{real.pk}/refund/", {}),
        (f"/register/sales/{real.pk}/void/", {"reason": "x"}),
    ]
    for url, data in tries:
        response = client.post(url, data, follow=True)
        assert "This till is in training" in response.content.decode(), url
    assert Payment.objects.count() == payments and shift.cash_movements.count() == 0


def test_only_a_manager_switches_training_and_each_switch_is_audited(
    register, cashier, manager, client
):
    client.force_login(cashier)
    assert client.get(reverse("fiscal:training_tills")).status_code == 403
    assert client.post(reverse("fiscal:training_start", args=[register.pk])).status_code == 403
    with pytest.raises(errors.NotAllowed):
        training.start_training(register=register, user=cashier)
    assert not training.in_training(register.pk, fresh=True)

    client.force_login(manager)
    page = client.get(reverse("fiscal:training_tills")).content.decode()
    assert "data-training-start" in page
    client.post(reverse("fiscal:training_start", args=[register.pk]))
    assert training.in_training(register.pk) and training.in_training(register.pk, fresh=True)
    again = client.post(reverse("fiscal:training_start", args=[register.pk]), follow=True)
    assert "already in training" in again.content.decode()
    with pytest.raises(errors.NotAllowed):
        training.stop_training(register=register, user=cashier)
    client.post(reverse("fiscal:training_stop", args=[register.pk]))
    assert not training.in_training(register.pk)
    audits = AuditLog.objects.filter(target_id=str(register.pk)).order_by("pk")
    assert [(a.action, a.actor) for a in audits] == [
        ("training.started", manager),
        ("training.stopped", manager),
    ]


def test_a_training_sale_is_checked_as_a_sale_is_and_a_refund_only_while_in_training(
    in_training, practise, goods, manager, cashier
):
    with pytest.raises(errors.TendersDoNotCover):
        practise((goods, 1), tenders=[TenderLine("cash", Decimal(100))])
    with pytest.raises(errors.TendersDoNotCover):  # change only from cash
        practise((goods, 1), tenders=[TenderLine("card", Decimal(20000))])
    sale = practise((goods, 1))
    training.stop_training(register=in_training, user=manager)
    with pytest.raises(training.TrainingRefused):
        training.refund_training_sale(
            receipt=sale, user=cashier, lines=[training.RefundLine(sale.lines.get().pk, 1)]
        )
    with pytest.raises(training.TrainingRefused):
        practise((goods, 1))
    assert TrainingReceipt.objects.count() == 1


def test_without_a_fiscal_backend_training_still_works_and_sends_nothing(
    in_training, practise, product, cashier, client
):
    sale = practise((product, 1))
    assert not OutboxItem.objects.exists()
    client.force_login(cashier)
    page = client.get(sale.get_absolute_url()).content.decode()
    assert 'data-label="TS"' in page and "TRAINING: NOT AN OFFICIAL RECEIPT" in page
    assert "data-print" in page  # nothing to wait for


@pytest.mark.parametrize(
    ("language", "banner", "notice"),
    [
        ("en", "TRAINING - not a sale", "TRAINING: NOT AN OFFICIAL RECEIPT"),
        ("fr", "FORMATION - pas une vente", "FORMATION : CE N'EST PAS UN REÇU OFFICIEL"),
        ("rw", "IMYITOZO - si igurisha", "IMYITOZO: SI INYEMEZABWISHYU YEMEWE"),
    ],
)
def test_the_banner_and_the_receipt_speak_each_language(
    in_training, practise, product, cashier, client, language, banner, notice
):
    from django.core.cache import cache

    from pos.models import ShopSettings
    from pos.models.shop import CACHE_KEY

    cashier.preferred_language = language
    cashier.save(update_fields=["preferred_language"])
    ShopSettings.objects.filter(pk=1).update(receipt_language=language)
    cache.delete(CACHE_KEY)  # the shop's settings are cached whole
    client.login(username=cashier.username, password=PASSWORD)
    for url in ("/register/", "/register/history/", "/register/shift/"):
        assert banner in client.get(url).content.decode(), url
    receipt = client.get(practise((product, 1)).get_absolute_url()).content.decode()
    assert notice in receipt


def test_the_api_takes_no_sale_on_a_till_in_training(in_training, as_cashier, shift, product):
    from tests.api.test_selling import post_sale

    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "tenders": [{"tender": "cash", "amount": "20000"}],
    }
    response = post_sale(as_cashier, body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "till_not_selling"
    assert Sale.objects.count() == 0


def test_the_api_reads_the_tills_mode_with_the_shop_settings_in_one_cache_read(
    as_cashier, shift, product, monkeypatch
):
    """Checkout through the API reads the till's training flag and the shop settings from the
    cache at once (one get_many), and a flag found there is the answer."""
    from django.core.cache import caches

    from pos.models.shop import CACHE_KEY
    from tests.api.test_selling import post_sale

    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "tenders": [{"tender": "cash", "amount": "20000"}],
    }
    assert post_sale(as_cashier, body).status_code == 201  # warm: both cached
    flag = training._cache_key(shift.register_id)
    default = caches["default"]
    reads, inside = [], []
    get, get_many = default.get, default.get_many

    def counted_get(key, *args, **kwargs):
        if not inside:  # LocMem's get_many gets each key
            reads.append([key])
        return get(key, *args, **kwargs)

    def counted_get_many(keys, *args, **kwargs):
        reads.append(list(keys))
        inside.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(default, "get", counted_get)
    monkeypatch.setattr(default, "get_many", counted_get_many)
    assert post_sale(as_cashier, body).status_code == 201
    assert [keys for keys in reads if CACHE_KEY in keys or flag in keys] == [[CACHE_KEY, flag]]

    # The flag as cached is what the sale goes by (the database says no training here).
    default.set(flag, True, 30)
    response = post_sale(as_cashier, body)
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "till_not_selling"


def test_the_managers_home_page_links_training_mode(manager, cashier, client):
    client.force_login(manager)
    assert reverse("fiscal:training_tills") in client.get("/home/").content.decode()
    client.force_login(cashier)
    assert reverse("fiscal:training_tills") not in client.get("/home/").content.decode()
