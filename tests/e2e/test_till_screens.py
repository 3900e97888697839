"""The till on a phone, a tablet and a desktop (issue 20): a full sale by touch, and the layout
each width needs. Screenshots land in test-output/screenshots/till/ for a person to look at."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.browser import full_page_shot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots" / "till"
VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 768, "height": 1024},
    "desktop": {"width": 1366, "height": 768},
}


@pytest.fixture
def shop(make_user):
    from pos.barcodes import make_ean13
    from pos.models import Category, Register
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    make_user("eric", "manager", first_name="Eric")
    Register.objects.create(code="R1", name="Till 1")
    chargers = Category.objects.create(name="Chargers")
    loose = Category.objects.create(name="Loose goods")
    return {
        "charger": create_product(
            name="Samsung 25W charger",
            sku="CHG-1",
            barcode=make_ean13("600000000001"),
            category=chargers,
            cost_price=Decimal(6000),
            retail_price=Decimal(12000),
            minimum_price=Decimal(9000),
            initial_stock=10,
        ),
        "protector": create_product(
            name="Screen protector",
            sku="LOOSE-1",
            category=loose,
            cost_price=Decimal(500),
            retail_price=Decimal(2000),
            minimum_price=Decimal(1500),
            initial_stock=50,
        ),
    }


def shot(page, viewport, name):
    full_page_shot(page, SHOTS / viewport / f"{name}.png")


def sign_in_and_open_shift(page, username="grace"):
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Till").select_option(label="Till 1")
    page.get_by_label("Cash in the drawer (float)").fill("20000")
    page.get_by_role("button", name="Open shift").click()
    page.get_by_role("heading", name="Sale").wait_for()


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def small_touch_targets(page) -> list[str]:
    """Visible buttons, links styled as buttons and inputs of the till under 44 px high."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('main button, main a.button, '
                + 'main a.tile, main input:not([type=hidden]), main select'))
            .filter(e => e.offsetParent !== null && !e.classList.contains('default-submit'))
            .filter(e => e.getBoundingClientRect().height < 43.5)
            .map(e => e.outerHTML.slice(0, 80))"""
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_full_sale_by_touch(page, shop, viewport):
    from pos.models import Sale

    size = VIEWPORTS[viewport]
    page.set_viewport_size(size)
    sign_in_and_open_shift(page)

    # A product without a barcode, from its category's tiles; then one more with "+".
    page.get_by_role("link", name="Loose goods").click()
    page.get_by_role("button", name=re.compile("Screen protector")).click()
    page.locator(".line-name").filter(has_text="Screen protector").wait_for()
    page.get_by_role("button", name="One more Screen protector").click()
    page.locator("[data-total]").filter(has_text="4,000 RWF").wait_for()
    # A name typed: the matches, then the charger picked.
    page.get_by_label("Scan or type a barcode, SKU or name").fill("samsung")
    page.get_by_role("button", name=re.compile("Samsung 25W charger")).click()
    page.locator("[data-total]").filter(has_text="16,000 RWF").wait_for()
    assert small_touch_targets(page) == []

    cart, pay = box(page, ".cart"), page.get_by_role("link", name="Pay")
    if viewport == "phone":
        # One column: the cart spans the screen; the total and Pay stay in sight at the bottom.
        assert cart["width"] >= size["width"] - 40
        finder = box(page, ".finder")
        assert finder["y"] < cart["y"]
        bar = box(page, ".paybar")
        assert bar["y"] + bar["height"] == pytest.approx(size["height"], abs=1)
        assert page.locator(".paybar [data-total]").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    else:
        panel = box(page, ".panel")
        assert panel["x"] > cart["x"] + cart["width"] - 1  # two columns
        assert cart["width"] >= 300
    shot(page, viewport, "1-register")

    pay.click()
    page.get_by_role("heading", name="Payment").wait_for()
    shot(page, viewport, "2-payment")
    assert page.locator("table.summary").is_visible()
    page.get_by_role("button", name="Add 20,000 RWF in cash").click()
    page.locator("[data-change]").filter(has_text="4,000 RWF").wait_for()
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_text("R1-000001").first.wait_for()
    shot(page, viewport, "3-receipt")
    assert page.locator(".code svg").is_visible()
    assert page.evaluate("document.activeElement.dataset.newSale") == ""  # Enter: next sale
    if viewport == "desktop":  # printed to PDF, the page is the 80 mm roll, not Letter
        pdf = page.pdf(prefer_css_page_size=True)
        width = float(re.search(rb"/MediaBox \[0 0 ([\d.]+)", pdf).group(1))
        assert width == pytest.approx(80 / 25.4 * 72, abs=1)
    sale = Sale.objects.get()
    assert (sale.total, sale.change_given) == (Decimal(16000), Decimal(4000))
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


def test_the_sales_history_fits_a_phone(page, shop):
    from pos.models import Register
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.shifts import open_shift_for

    page.set_viewport_size(VIEWPORTS["phone"])
    sign_in_and_open_shift(page)
    shift = open_shift_for(Register.objects.get().shifts.get().cashier)
    import uuid

    checkout(
        shift=shift,
        cashier=shift.cashier,
        cart=Cart([CartLine(shop["charger"].pk, 1)]),
        tenders=[TenderLine("cash", Decimal(12000))],
        idempotency_key=uuid.uuid4(),
    )
    page.goto("/register/history/")
    page.get_by_text("R1-000001").wait_for()
    shot(page, "phone", "4-history")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.fixture
def earlier_sale(shop):
    """A sale of two chargers on yesterday's shift, on another till, closed since."""
    import uuid

    from accounts.models import User
    from pos.models import Register
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.shifts import close_shift, open_shift

    manager = User.objects.get(username="eric")
    second = Register.objects.create(code="R2", name="Till 2")
    earlier = open_shift(register=second, cashier=manager, opening_float=Decimal(0))
    sale = checkout(
        shift=earlier,
        cashier=manager,
        cart=Cart([CartLine(shop["charger"].pk, 2)]),
        tenders=[TenderLine("cash", Decimal(24000))],
        idempotency_key=uuid.uuid4(),
    )
    close_shift(shift=earlier, counted={"cash": Decimal(24000)}, user=manager)
    return sale


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_return_found_by_scanning_the_receipts_code(page, shop, earlier_sale, viewport):
    from pos.models import Refund

    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in_and_open_shift(page)
    # A scanner types what the receipt's code holds, then Enter, into the register's box.
    field = page.get_by_label("Scan or type a barcode, SKU or name")
    field.fill(earlier_sale.number)
    field.press("Enter")
    page.get_by_role("heading", name=f"Refund from sale {earlier_sale.number}").wait_for()

    page.get_by_label("Return Samsung 25W charger").fill("1")
    page.locator("[data-refund-total]").filter(has_text="12,000 RWF").wait_for()
    page.get_by_label("Why are the goods returned?").fill("Does not charge")
    shot(page, viewport, "5-refund")
    page.get_by_role("button", name="Refund").click()
    # Refused (a manager must approve): what was typed is still there.
    page.get_by_role("alert").filter(has_text="A manager must approve").wait_for()
    assert page.get_by_label("Return Samsung 25W charger").input_value() == "1"
    page.get_by_label("Manager username").fill("eric")
    page.get_by_label("Manager password").fill(PASSWORD)
    page.get_by_role("button", name="Refund").click()

    page.get_by_text("REFUND", exact=True).wait_for()
    refund = Refund.objects.get()
    assert refund.total == Decimal(12000) and refund.sale == earlier_sale
    assert refund.number in page.locator("main.receipt").inner_text()
    shot(page, viewport, "6-refund-slip")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]


@pytest.fixture
def customer_owing(shop):
    """Aline owes 24,000 on account: two chargers from yesterday's shift on another till."""
    import uuid

    from accounts.models import User
    from pos.models import Customer, Register
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout
    from pos.services.shifts import close_shift, open_shift

    manager = User.objects.get(username="eric")
    customer = Customer.objects.create(
        name="Aline Uwase", phone="+250788000111", credit_limit=Decimal(100000)
    )
    second = Register.objects.create(code="R2", name="Till 2")
    earlier = open_shift(register=second, cashier=manager, opening_float=Decimal(0))
    checkout(
        shift=earlier,
        cashier=manager,
        cart=Cart([CartLine(shop["charger"].pk, 2)], customer_id=customer.pk),
        tenders=[TenderLine("account", Decimal(24000))],
        idempotency_key=uuid.uuid4(),
    )
    close_shift(shift=earlier, counted={"cash": Decimal(0)}, user=manager)
    return customer


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_credit_repayment_at_the_till(page, shop, customer_owing, viewport):
    from pos.models import Payment

    size = VIEWPORTS[viewport]
    page.set_viewport_size(size)
    sign_in_and_open_shift(page)
    page.get_by_role("link", name="Credit").click()
    page.get_by_label("Customer's phone or name").fill("0788 000 111")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("heading", name="Aline Uwase").wait_for()
    assert "24,000 RWF" in page.locator("[data-owed]").inner_text()
    assert page.locator("table.statement").last.is_visible()  # the statement

    page.get_by_label("Amount paid (RWF)").fill("10000")
    if viewport == "phone":
        page.get_by_label("Cash").check()
    else:
        page.get_by_label("Mobile Money", exact=True).check()
        page.get_by_label("Mobile Money transaction id").fill("MP261203.1200.B777")
    shot(page, viewport, "7-credit")
    page.get_by_role("button", name="Take the payment").click()

    page.get_by_text("PAYMENT ON ACCOUNT").wait_for()
    assert "10,000" in page.locator("[data-paid]").inner_text()
    assert "14,000" in page.locator("[data-still-owed]").inner_text()
    shot(page, viewport, "8-credit-receipt")
    payment = Payment.objects.get(invoice__isnull=False)
    assert payment.amount == Decimal(10000)
    assert payment.tender == ("cash" if viewport == "phone" else "mobile_money")
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]

    # Back to the account: the statement has the payment.
    page.get_by_role("link", name="Statement").click()
    page.locator("[data-closing]").filter(has_text="14,000").wait_for()
