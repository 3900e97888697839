"""`seed_demo` builds a believable shop, through the services, once: 90 days of trading with its
ledgers whole, some products low (and alerted), customers who can buy on account."""

import datetime

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Sum
from django.utils import timezone

from accounts import pins
from accounts.models import User
from tests.pos.ledger_checks import assert_ledgers_hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=True):  # the low-stock alerts
        call_command("seed_demo")
    return capsys.readouterr().out


def test_seed_demo_builds_a_believable_shop_once(seeded, client):
    """One seeding (about ten seconds) for every check: 90 days of history through the
    services, whole ledgers, low stock alerted, unique names, credit, PINs; then nothing twice."""
    check_ninety_days_of_trading_with_whole_ledgers()
    check_some_products_are_low_and_alerted_and_names_are_unique()
    check_demo_cashiers_have_their_printed_pins(seeded)

    from pos.barcodes import validate_barcode
    from pos.models import (
        Category,
        Customer,
        Invoice,
        Payment,
        Product,
        Register,
        Sale,
        Shift,
        ShopSettings,
        StockMovement,
        Store,
        Supplier,
    )

    models = [User, Category, Supplier, Product, StockMovement, Customer, ShopSettings, Register]
    models += [Store]
    models += [Sale, Payment, Shift, Invoice]
    counts = {m.__name__: m.objects.count() for m in models}
    call_command("seed_demo")
    assert {m.__name__: m.objects.count() for m in models} == counts
    assert counts["Category"] == 10 and counts["Product"] >= 200 and counts["Customer"] >= 3
    assert counts["Register"] == 2
    # One store, the head office, holding both tills.
    (store,) = Store.objects.all()
    assert (store.name, store.code, store.branch_id) == ("Kigali City Tower", "KCT", "00")
    assert set(Register.objects.values_list("store", flat=True)) == {store.pk}
    assert ShopSettings.load().name == "Vevurn Phone Accessories"
    for product in Product.objects.all():
        validate_barcode(product.barcode)
        assert product.minimum_price <= product.retail_price
        assert product.cost_price < product.retail_price
        assert product.retail_price % 500 == 0
    ledger = StockMovement.objects.aggregate(s=Sum("quantity"))["s"]
    assert ledger == Product.objects.aggregate(s=Sum("stock_on_hand"))["s"] > 0
    assert all(c.phone.startswith("+2507") for c in Customer.objects.all())

    assert "manager / vevurn-manager-demo" in seeded
    # The printed credentials work.
    response = client.post("/", {"username": "cashier", "password": "vevurn-cashier-demo"})
    assert response.status_code == 302
    manager = User.objects.get(username="manager")
    assert manager.has_perm("accounts.manage_cashiers")


def check_ninety_days_of_trading_with_whole_ledgers():
    from pos.models import Invoice, Payment, Refund, Sale, Shift, Tender

    today = timezone.localdate()
    days = {timezone.localdate(d) for d in Sale.objects.values_list("created_at", flat=True)}
    assert min(days) == today - datetime.timedelta(days=90)
    assert len(days) == 90 and max(days) < today  # every day, none in the future
    last_30 = {d for d in days if d > today - datetime.timedelta(days=30)}
    assert len(last_30) >= 29  # the dashboard's 30-day chart is full
    assert Sale.objects.count() >= 300
    assert Sale.objects.filter(status=Sale.Status.VOIDED).exists()
    assert Refund.objects.count() >= 5
    assert Payment.objects.filter(tender=Tender.MOBILE_MONEY).exclude(reference="").exists()
    assert Shift.objects.filter(status=Shift.Status.CLOSED).count() >= 90
    assert not Shift.objects.filter(status=Shift.Status.OPEN).exists()
    assert Shift.objects.values("register").distinct().count() == 2  # busy days open till 2
    # Sales on account and their repayments, each invoice paid exactly its payments.
    assert Invoice.objects.count() >= 5
    assert Payment.objects.filter(invoice__isnull=False).count() >= 5
    for invoice in Invoice.objects.all():
        paid = invoice.payments.aggregate(s=Sum("amount"))["s"] or 0
        assert invoice.amount_paid == paid, invoice
    assert_ledgers_hold()  # stock = movements; sales paid = payments; daily sums = lines


def check_some_products_are_low_and_alerted_and_names_are_unique():
    from pos.models import Customer, LowStockAlert, Product

    low = Product.objects.filter(stock_on_hand__lte=F("reorder_level"))
    assert 5 <= low.count() <= 0.1 * Product.objects.count()
    assert not low.exclude(pk__in=LowStockAlert.objects.values("product")).exists()
    duplicated = Product.objects.values("name").annotate(n=Count("pk")).filter(n__gt=1)
    assert not duplicated.exists()
    assert Customer.objects.filter(credit_limit__gt=0).count() >= 3


def check_demo_cashiers_have_their_printed_pins(seeded):
    assert "PIN 2468" in seeded
    cashier = User.objects.get(username="cashier")
    assert pins.verify_pin(user=cashier, pin="2468") == cashier
