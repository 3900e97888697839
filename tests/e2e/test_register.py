"""The issue's acceptance scenario, in headless Chromium against the live server."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.browser import full_page_shot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
SCAN = "Scan or type a barcode, SKU or name"


@pytest.fixture
def shop(make_user):
    """A cashier and a manager with known passwords, a till and three products."""
    from pos.barcodes import make_ean13
    from pos.models import Category, Register
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    make_user("eric", "manager", first_name="Eric")
    Register.objects.create(code="R1", name="Till 1")
    chargers = Category.objects.create(name="Chargers")
    cables = Category.objects.create(name="Cables")

    def product(name, sku, price, minimum, stock, category):
        return create_product(
            name=name,
            sku=sku,
            barcode=make_ean13(f"600{len(sku):02d}{sku[-7:]:0>7}"),
            category=category,
            cost_price=minimum / 2,
            retail_price=price,
            minimum_price=minimum,
            initial_stock=stock,
        )

    return {
        "charger": product(
            "Samsung 25W charger", "CHG-0000001", Decimal(12000), Decimal(9000), 10, chargers
        ),
        "cable": product("USB-C cable 1m", "CAB-0000002", Decimal(3500), Decimal(2000), 10, cables),
        "earbuds": product(
            "Oraimo earbuds", "EAR-0000003", Decimal(15000), Decimal(12000), 0, chargers
        ),
    }


def shot(page, name):
    full_page_shot(page, SHOTS / f"{name}.png")


def scan(page, code):
    field = page.get_by_label(SCAN)
    field.fill(code)
    field.press("Enter")


def test_a_day_at_the_till(page, shop):
    from pos.models import Refund, Sale

    charger, cable, earbuds = shop["charger"], shop["cable"], shop["earbuds"]
    page.set_viewport_size({"width": 1366, "height": 768})

    # Sign in: no shift yet, so the cashier lands on "open a shift".
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Grace").wait_for()
    page.get_by_label("Cash in the drawer (float)").fill("20000")
    page.get_by_role("button", name="Open shift").click()

    # Scan two barcodes, the second twice is not needed: change the quantity instead.
    scan(page, charger.barcode)
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()
    expect_focus_on_scan(page)
    scan(page, cable.barcode)
    page.locator(".line-name").filter(has_text="USB-C cable 1m").wait_for()
    page.get_by_label("Quantity of Samsung 25W charger").fill("2")
    page.locator(".cart-line").filter(has_text="Samsung 25W charger").get_by_role(
        "button", name="Update"
    ).click()
    page.locator("[data-total]").filter(has_text="27,500 RWF").wait_for()

    # An out-of-stock scan says so next to the scan box and keeps the cart.
    scan(page, earbuds.barcode)
    page.get_by_role("alert").filter(has_text="Out of stock: Oraimo earbuds").wait_for()
    assert page.locator(".cart-line").count() == 2

    # A 20% discount, over the cashier's 10% limit.
    page.get_by_label("Discount on the sale (RWF)").fill("5500")
    page.get_by_role("button", name="Apply").last.click()
    page.locator("[data-total]").filter(has_text="22,000 RWF").wait_for()
    shot(page, "register")

    page.get_by_role("link", name="Pay").click()
    assert page.get_by_label("Cash received (RWF)").input_value() == "22000"
    page.get_by_label("Cash received (RWF)").fill("15000")
    page.get_by_label("Mobile Money amount (RWF)").fill("10000")
    page.get_by_label("Mobile Money transaction id").fill("MP261129.0930.A12345")
    page.locator("[data-change]").filter(has_text="3,000 RWF").wait_for()
    shot(page, "payment")
    page.get_by_role("button", name="Complete sale").click()

    # Refused: a manager must approve; the cart and the tenders are kept.
    page.get_by_role("alert").filter(has_text="a manager must approve it").wait_for()
    assert Sale.objects.count() == 0
    assert page.get_by_label("Cash received (RWF)").input_value() == "15000"
    page.get_by_label("Manager username").fill("eric")
    page.get_by_label("Manager password").fill(PASSWORD)
    shot(page, "payment-approval")
    page.get_by_role("button", name="Complete sale").click()

    # The receipt.
    page.get_by_text("R1-000001").wait_for()
    receipt = page.locator("main.receipt").inner_text()
    assert "22,000" in receipt and "3,000" in receipt and "MP261129.0930.A12345" in receipt
    assert "COPY" not in receipt
    shot(page, "receipt")
    sale = Sale.objects.get()
    assert sale.total == Decimal(22000) and sale.change_given == Decimal(3000)

    # Reprint from the history: a copy.
    page.get_by_role("link", name="Sales history").click()
    page.get_by_role("link", name="Reprint R1-000001").click()
    page.get_by_text("COPY — reprint").wait_for()

    # Refund the cable as the manager (override at the till).
    page.goto("/register/history/")
    page.get_by_role("link", name="Refund R1-000001").click()
    page.get_by_label("Return USB-C cable 1m").fill("1")
    page.get_by_label("Why are the goods returned?").fill("Does not charge")
    page.get_by_label("Manager username").fill("eric")
    page.get_by_label("Manager password").fill(PASSWORD)
    page.get_by_role("button", name="Refund").click()
    page.get_by_text(re.compile(r"Refund RF?.*done")).wait_for()
    shot(page, "history")
    refund = Refund.objects.get()
    assert refund.total == Decimal(2800)  # 3,500 less its 700 share of the discount

    # A second sale, submitted twice: one sale.
    page.get_by_role("link", name="New sale").click()
    scan(page, charger.barcode)
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()
    page.get_by_role("link", name="Pay").click()
    posted = page.evaluate(
        "() => Object.fromEntries(new FormData(document.getElementById('payment-form')))"
    )
    page.get_by_role("button", name="Complete sale").dblclick()
    page.get_by_text("R1-000002").wait_for()
    receipt_url = page.url
    # ...and the same form posted again (a retry after a lost answer) shows the same receipt.
    again = page.request.post("/register/pay/complete/", form=posted)
    assert again.ok and again.url == receipt_url
    assert Sale.objects.count() == 2

    # Close the shift with the counted amounts; the Z-report adds up. (The shop closes on the
    # cashier's count; tests/e2e/test_counter.py has the manager's review.)
    from pos.models import ShopSettings

    shop_settings = ShopSettings.load()
    shop_settings.review_shift_close = False
    shop_settings.save()
    page.goto("/register/shift/")
    # 20,000 float + 15,000 cash - 3,000 change - 2,800 refund + 12,000 = 41,200
    page.get_by_label("Cash counted (RWF)").fill("41200")
    page.get_by_label("Mobile Money counted (RWF)").fill("10000")
    shot(page, "shift")
    page.get_by_role("button", name="Close shift").click()
    page.get_by_role("heading", name=re.compile("Z-report")).wait_for()
    figures = page.locator(".figures").inner_text()
    assert re.search(r"Sales\s+2", figures)
    assert re.search(r"Net sales\s+34,000 RWF", figures)
    assert re.search(r"Refunds \(1\)\s+2,800 RWF", figures)
    counted = page.locator("table").filter(has_text="Counted").inner_text()
    assert re.search(r"Cash\s+41,200 RWF\s+41,200 RWF\s+0 RWF", counted)
    assert re.search(r"Mobile Money\s+10,000 RWF\s+10,000 RWF\s+0 RWF", counted)
    shot(page, "z-report")


def open_the_till(page):
    """Grace signs in and opens a shift with no float: the register, ready to scan."""
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("0")
    page.get_by_role("button", name="Open shift").click()


def expect_focus_on_scan(page):
    assert page.evaluate("document.activeElement.id") == "id_code"


def test_register_on_a_tablet(page, shop):
    page.set_viewport_size({"width": 768, "height": 1024})
    open_the_till(page)
    scan(page, shop["charger"].barcode)
    page.locator(".line-name").filter(has_text="Samsung 25W charger").wait_for()
    # Typing a name lists the matches; arrow down and Enter adds one.
    page.get_by_label(SCAN).press_sequentially("usb-c")
    page.locator('#matches[data-searched="usb-c"]').wait_for(state="attached")
    page.get_by_role("button", name=re.compile("USB-C cable 1m")).wait_for()
    page.get_by_label(SCAN).press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator(".line-name").filter(has_text="USB-C cable 1m").wait_for()
    shot(page, "register-tablet")


def test_matches_arriving_late_keep_the_cashiers_pick(page, shop):
    """On a slow link the matches for what was typed last can arrive after the cashier has
    moved down to an earlier match: the focus stays on that product, and Enter adds it."""
    open_the_till(page)
    page.get_by_label(SCAN).press_sequentially("cab")
    page.get_by_role("button", name=re.compile("USB-C cable 1m")).wait_for()
    held = []
    page.route(re.compile(r"/register/search/\?code=cable$"), lambda route: held.append(route))
    page.get_by_label(SCAN).press_sequentially("le")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the search for 'cable' was held back"
    page.get_by_label(SCAN).press("ArrowDown")
    assert "USB-C cable 1m" in page.evaluate("document.activeElement.textContent")
    earlier = page.locator("#matches .match").first.element_handle()
    held[0].continue_()
    page.wait_for_function("match => !match.isConnected", arg=earlier)  # the new matches shown
    assert page.evaluate("document.activeElement.classList.contains('match')")
    assert "USB-C cable 1m" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.locator(".line-name").filter(has_text="USB-C cable 1m").wait_for()


@pytest.fixture
def page_without_js(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_the_till_works_without_javascript(page_without_js, shop):
    from pos.models import Sale

    page = page_without_js
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("5000")
    page.get_by_role("button", name="Open shift").click()
    scan(page, shop["charger"].barcode)
    scan(page, shop["charger"].barcode)
    assert page.get_by_label("Quantity of Samsung 25W charger").input_value() == "2"
    page.get_by_role("link", name="Pay").click()
    # Quick cash from the amount due (24,000): a round note, posted, replaces the amount the
    # page filled in, then each note adds.
    page.get_by_role("button", name="Add 25,000 RWF in cash").click()
    assert page.get_by_label("Cash received (RWF)").input_value() == "25000"
    page.get_by_role("button", name="Add 25,000 RWF in cash").click()
    assert page.get_by_label("Cash received (RWF)").input_value() == "50000"
    page.get_by_label("Cash received (RWF)").fill("10000")
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_role("alert").filter(has_text="do not cover the total").wait_for()
    page.get_by_role("button", name="Exact").click()
    assert page.get_by_label("Cash received (RWF)").input_value() == "24000"
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_text("R1-000001").wait_for()
    assert Sale.objects.get().total == Decimal(24000)


def test_mobile_money_request_to_pay_waits_then_sells(page, shop, momo_simulator):
    from pos.models import Sale

    momo_simulator.on_payer("250788123456", outcome="SUCCESSFUL", pending_polls=1)
    open_the_till(page)
    scan(page, shop["cable"].barcode)
    page.locator(".line-name").filter(has_text="USB-C cable 1m").wait_for()
    page.get_by_role("link", name="Pay").click()
    page.get_by_label("Cash received (RWF)").fill("")
    page.get_by_label("Mobile Money amount (RWF)").fill("3500")
    page.get_by_text("…or ask the customer's phone to pay").click()
    page.get_by_label("Customer's phone").fill("0788123456")
    page.get_by_role("button", name="Send request").click()
    page.get_by_role("status").filter(has_text="Waiting for the customer").wait_for()
    # register.js polls the request until MTN says it is paid.
    page.get_by_role("status").filter(has_text="Paid.").wait_for()
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_text("R1-000001").wait_for()
    assert Sale.objects.get().payments.get().tender == "mobile_money"


def test_a_name_typed_before_the_tills_script_ran_is_searched_when_it_runs(page, shop):
    """A fast typist on a slow phone: what is in the scan field when register.js arrives is
    searched then, as if typed after (the script is held back here until the typing is done)."""
    open_the_till(page)
    page.get_by_label(SCAN).wait_for()
    held = []
    page.route("**/register*.js", lambda route: held.append(route))
    page.reload(wait_until="commit")  # a deferred script holds DOMContentLoaded back
    page.get_by_label(SCAN).press_sequentially("usb-c")
    assert held, "register.js was held back"
    assert page.locator("#matches button").count() == 0
    for route in held:
        route.continue_()
    page.unroute("**/register*.js")
    page.get_by_role("button", name=re.compile("USB-C cable 1m")).wait_for()


def test_the_lookup_shows_the_other_stores_stock_on_a_phone(page, shop, make_user):
    """Issue 29: beside the till's own stock, what the other stores hold; the match still fits
    a phone's width (no sideways scroll)."""
    from pos.models import Store
    from pos.services.stock import adjust_stock
    from pos.services.stores import create_store

    owner = make_user("owner", "admin")
    musanze = create_store(user=owner, store=Store(name="Musanze", code="MSZ", branch_id="01"))
    adjust_stock(
        product=shop["cable"], quantity=Decimal(25), reason="Delivery", user=owner, store=musanze
    )
    page.set_viewport_size({"width": 360, "height": 740})
    open_the_till(page)
    page.get_by_label(SCAN).press_sequentially("usb-c")
    match = page.get_by_role("button", name=re.compile("USB-C cable 1m"))
    match.wait_for()

    assert "10 in stock · other stores: 25" in match.inner_text()
    box = match.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "register-phone-other-stores")
