"""Issue 26 in headless Chromium: the till keeps selling with the link down and every sale made
offline is stored exactly once when it comes back. Screenshots go to test-output/screenshots/."""

import time
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
    from pos.models import Category, Register
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    Register.objects.create(code="R1", name="Till 1")
    cables = Category.objects.create(name="Cables")

    def product(name, sku, price, stock):
        return create_product(
            name=name,
            sku=sku,
            barcode=sku,
            category=cables,
            cost_price=price / 2,
            retail_price=price,
            minimum_price=price / 2,
            initial_stock=stock,
        )

    return {"cable": product("USB-C cable 1m", "CAB-1", Decimal(3500), 10)}


def shot(page, name):
    full_page_shot(page, SHOTS / f"{name}.png")


def sign_in_and_open_shift(page):
    page.goto("/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Cash in the drawer (float)").fill("20000")
    page.get_by_role("button", name="Open shift").click()
    page.get_by_label(SCAN).wait_for()


def prepared_for_offline(page):
    """The online till has installed its service worker, set up its device, reserved a block of
    numbers and stored the snapshot."""
    page.wait_for_function("() => window.VevurnOffline && window.VevurnOffline.ready")
    page.evaluate("() => window.VevurnOffline.ready")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
        page.wait_for_function("() => !!navigator.serviceWorker.controller")
        page.evaluate("() => window.VevurnOffline.ready")
    page.wait_for_function(
        "async () => !!(await window.VevurnOffline.getMeta('snapshot'))"
        " && !!(await window.VevurnOffline.getMeta('blocks'))"
    )


def sell_offline(page, code, cash):
    field = page.get_by_label(SCAN)
    field.fill(code)
    field.press("Enter")
    page.locator("[data-lines] .cart-line").first.wait_for()
    page.get_by_label("Cash received").fill(str(cash))
    page.get_by_role("button", name="Take cash").click()
    page.get_by_role("heading", name="PROVISIONAL SLIP").wait_for()
    number = page.locator("[data-slip-number]").inner_text()
    page.get_by_role("button", name="New sale").click()
    return number


def wait_for(condition, seconds=40):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError("timed out")


def test_three_sales_offline_a_reload_offline_then_each_stored_once(browser, live_server, shop):
    from pos.models import Sale, StockMovement

    cable = shop["cable"]
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_and_open_shift(page)
    prepared_for_offline(page)

    context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    banner.wait_for()  # the online till says so, and offers the offline till
    assert "The server cannot be reached" in banner.inner_text()
    page.goto("/register/")  # the server cannot be reached: the offline till opens
    page.get_by_role("heading", name="Sale (offline)").wait_for()
    page.locator("[data-prices-as-of]").filter(has_text="Prices as of").wait_for()
    page.get_by_role("button", name="Refund").and_(page.locator("[disabled]")).wait_for()
    assert "original sale" in page.locator("#why-refund").inner_text()
    numbers = [sell_offline(page, "CAB-1", 5000) for _ in range(3)]
    assert numbers == ["R1-T1-000001", "R1-T1-000002", "R1-T1-000003"]
    page.get_by_text("Sales waiting to be sent: 3").wait_for()
    shot(page, "offline-till")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "offline-till-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.reload()  # still offline: the till opens from the service worker's cache
    page.get_by_role("heading", name="Sale (offline)").wait_for()
    page.get_by_text("Sales waiting to be sent: 3").wait_for()
    assert Sale.objects.count() == 0

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    wait_for(lambda: Sale.objects.count() == 3)
    page.get_by_text("Back to the online till").wait_for()
    assert sorted(Sale.objects.values_list("number", flat=True)) == numbers
    cable.refresh_from_db()
    assert cable.stock_on_hand == 7
    assert StockMovement.objects.filter(product=cable, kind="sale").count() == 3
    time.sleep(1)  # a second push (focus, timer) stores nothing more
    page.evaluate("() => window.VevurnOffline.sync()")
    assert Sale.objects.count() == 3
    context.close()


def test_two_tabs_offline_each_sale_stored_once(browser, live_server, shop):
    from pos.models import Sale

    context = browser.new_context(base_url=live_server.url)
    first = context.new_page()
    first.set_default_timeout(15_000)
    sign_in_and_open_shift(first)
    prepared_for_offline(first)
    second = context.new_page()
    second.set_default_timeout(15_000)
    second.goto("/register/offline/")
    second.get_by_role("heading", name="Sale (offline)").wait_for()
    first.goto("/register/offline/")
    first.get_by_role("heading", name="Sale (offline)").wait_for()

    context.set_offline(True)
    numbers = []
    for _ in range(2):
        numbers.append(sell_offline(first, "CAB-1", 3500))
        numbers.append(sell_offline(second, "CAB-1", 3500))
    assert len(set(numbers)) == 4  # the tabs never share a number

    context.set_offline(False)
    for page in (first, second):
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
    wait_for(lambda: Sale.objects.count() == 4)
    time.sleep(1)
    for page in (first, second):
        page.evaluate("() => window.VevurnOffline.sync()")
    assert sorted(Sale.objects.values_list("number", flat=True)) == sorted(numbers)
    context.close()


def test_the_last_unit_sold_online_and_offline_at_once(browser, live_server, shop):
    import uuid

    from pos.models import Sale, SaleLine, Shift
    from pos.monitoring import check_offline_oversold
    from pos.services.catalogue import create_product
    from pos.services.checkout import Cart, CartLine, TenderLine, checkout

    last = create_product(
        name="Oraimo earbuds",
        sku="EAR-1",
        barcode="EAR-1",
        category=shop["cable"].category,
        cost_price=Decimal(6000),
        retail_price=Decimal(15000),
        minimum_price=Decimal(12000),
        initial_stock=1,
    )
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_and_open_shift(page)
    prepared_for_offline(page)
    context.set_offline(True)
    page.goto("/register/offline/")
    sell_offline(page, "EAR-1", 15000)

    shift = Shift.objects.get(status="open")
    checkout(  # meanwhile, another till of the shop sells it online
        shift=shift,
        cashier=shift.cashier,
        cart=Cart([CartLine(last.pk, 1)]),
        tenders=[TenderLine("cash", Decimal(15000))],
        idempotency_key=uuid.uuid4(),
    )
    last.refresh_from_db()
    assert last.stock_on_hand == 0

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    wait_for(lambda: Sale.objects.count() == 2)
    last.refresh_from_db()
    assert last.stock_on_hand == -1
    flagged = SaleLine.objects.get(product=last, oversold=True)
    assert flagged.sale.number == "R1-T1-000001"
    alerts = check_offline_oversold({"lookback_hours": 24})
    assert "Oraimo earbuds" in alerts[str(flagged.pk)]
    context.close()


def go_offline_on_the_till(context, page):
    context.set_offline(True)
    page.locator("[data-offline-banner]").wait_for()
    page.get_by_role("link", name="Sell offline").click()
    page.get_by_role("heading", name="Sale (offline)").wait_for()


def shoot_pay_and_sync(context, page, name):
    """Screenshots of the offline cart (wide and at 390 px), paid with 20,000 in cash, then
    back online: the one sale stored."""
    from pos.models import Sale

    shot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"{name}-phone")
    page.get_by_label("Cash received").fill("20000")
    page.get_by_role("button", name="Take cash").click()
    page.get_by_role("heading", name="PROVISIONAL SLIP").wait_for()
    page.get_by_role("button", name="New sale").click()
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    wait_for(lambda: Sale.objects.count() == 1)
    return Sale.objects.get()


def test_the_cart_in_progress_carries_over_when_the_link_drops(browser, live_server, shop):
    """Lines added online, then the link drops: they are in the offline cart; paid in cash and
    synced, the sale is stored once, and the online till's cart is empty again."""
    from pos.models import Sale, StockMovement
    from pos.services.catalogue import create_product

    cable = shop["cable"]
    charger = create_product(
        name="Charger 25W", sku="CHG-1", barcode="CHG-1", category=cable.category,
        cost_price=Decimal(6000), retail_price=Decimal(12000), minimum_price=Decimal(10000),
        initial_stock=5,
    )  # fmt: skip
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_and_open_shift(page)
    prepared_for_offline(page)
    for code, product, quantity in (
        ("CAB-1", cable, 1),
        ("CAB-1", cable, 2),
        ("CHG-1", charger, 1),
    ):
        field = page.get_by_label(SCAN)
        field.fill(code)
        field.press("Enter")
        line = f"[data-cart-line][data-product='{product.pk}'][data-quantity='{quantity}']"
        page.locator(line).wait_for()

    go_offline_on_the_till(context, page)
    lines = page.locator("[data-lines] .cart-line")
    lines.nth(1).wait_for()
    assert lines.count() == 2
    assert lines.nth(0).locator("[data-qty]").inner_text() == "2"
    assert "USB-C cable 1m" in lines.nth(0).inner_text()
    assert "Charger 25W" in lines.nth(1).inner_text()
    page.get_by_text("The sale in progress on the online till was carried over.").wait_for()
    assert page.locator("[data-total]").inner_text() == "19,000 RWF"
    sale = shoot_pay_and_sync(context, page, "offline-carried-cart")
    assert sale.total == Decimal(19000)
    assert sorted((line.product_id, line.quantity) for line in sale.lines.all()) == [
        (cable.pk, 2), (charger.pk, 1),
    ]  # fmt: skip
    # Back online, the server's copy of the carried cart is cleared (page.evaluate awaits).
    cleared = "async () => !(await window.VevurnOffline.getMeta('clear_online_cart'))"
    wait_for(lambda: page.evaluate(cleared))
    page.evaluate("() => window.VevurnOffline.sync()")
    assert Sale.objects.count() == 1
    assert StockMovement.objects.filter(kind="sale").count() == 2
    page.goto("/register/")  # the online till's cart moved: it is empty
    page.get_by_label(SCAN).wait_for()
    assert page.locator("[data-cart-line]").count() == 0
    context.close()


# The same label set read by the server (pos/scale_labels.py) and by the offline till
# (pos/static/pos/scale_labels.js): a label of every common layout (weights, prices, zeros,
# leading zeros), and codes that are none: a wrong check digit, a prefix with no template, too
# short, not starting with 2, a letter, blank; one with spaces around.
LABEL_BODIES = [
    "200012300750", "200012312345", "200000100001", "210004201250", "210004299999",
    "220004201000", "221234500000", "230001200150", "230120000005", "240015000123",
    "249999999999", "250012300750", "260001200150",
]  # fmt: skip
NOT_LABELS = ["2000123007504", "200012300750", "1000123007503", "20001230075a3", ""]


def label_set():
    codes = [_with_check_digit(body) for body in LABEL_BODIES]
    wrong = codes[0][:-1] + str((int(codes[0][-1]) + 1) % 10)
    return [*codes, wrong, f" {codes[1]} ", *NOT_LABELS]


def _reading(item_code, weight, price):
    """What a label says, the same whether Python or the browser read it."""
    return (item_code, weight and Decimal(weight), price and Decimal(price))


def _with_check_digit(body):
    from pos.barcodes import gs1_check_digit

    return body + str(gs1_check_digit(body))


def test_scale_labels_read_offline_as_the_server_reads_them(browser, live_server, shop):
    import importlib

    from django.apps import apps

    from pos.models import ScaleLabelTemplate
    from pos.scale_labels import parse_label
    from pos.services.catalogue import create_product
    from pos.services.selling_lines import test_label

    layouts = importlib.import_module("pos.migrations.0017_units_variants_labels_price_lists")
    layouts.install_common_layouts(apps, None)  # a transactional test before may have emptied it
    category = shop["cable"].category
    sugar = create_product(
        name="Sugar", sku="SUG-1", category=category, unit="kg", quantity_places=3,
        cost_price=Decimal(1100), retail_price=Decimal(1450), minimum_price=Decimal(1300),
        initial_stock=Decimal(20), scale_code=123,
    )  # fmt: skip
    beef = create_product(
        name="Beef", sku="BEEF-1", category=category, unit="kg", quantity_places=3,
        cost_price=Decimal(5000), retail_price=Decimal(7000), minimum_price=Decimal(6000),
        initial_stock=Decimal(20), scale_code=42,
    )  # fmt: skip
    # A valid code for every layout, besides the fixed set.
    codes = label_set()
    templates = list(ScaleLabelTemplate.objects.filter(is_active=True))
    snapshot_templates = [
        {k: getattr(t, k) for k in ("prefix", "item_digits", "value_digits", "value_kind",
                                    "value_decimals")}
        for t in templates
    ]  # fmt: skip
    expected = []
    for code in codes:
        label = parse_label(code, templates)
        expected.append(label and _reading(label.item_code, label.weight, label.price))
    assert sum(e is not None for e in expected) == 12  # every layout; 25 and 26 have none

    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_and_open_shift(page)
    prepared_for_offline(page)
    page.goto("/register/offline/")
    page.wait_for_function("() => !!window.VevurnScaleLabels")
    read = page.evaluate(
        "([codes, templates]) => codes.map((c) => window.VevurnScaleLabels.parse(c, templates))",
        [codes, snapshot_templates],
    )
    got = [r and _reading(r["item_code"], r["weight"], r["price"]) for r in read]
    assert got == expected

    # Scanned offline: a weight label (0.750 kg of sugar) and a price label (beef for 10,000).
    weight_code, price_code = _with_check_digit("200001230750"), _with_check_digit("220004210000")
    context.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Sale (offline)").wait_for()
    for code in (weight_code, price_code):
        field = page.get_by_label(SCAN)
        field.fill(code)
        field.press("Enter")
    lines = page.locator("[data-lines] .cart-line")
    lines.nth(1).wait_for()
    assert lines.nth(0).locator("[data-qty]").inner_text() == "0.75 kg"
    online = [test_label(weight_code), test_label(price_code)]
    assert lines.nth(0).locator(".line-total").inner_text() == f"{online[0].total:,.0f} RWF"
    assert lines.nth(1).locator(".line-total").inner_text() == f"{online[1].total:,.0f} RWF"
    sale = shoot_pay_and_sync(context, page, "offline-scale-labels")
    stored = {line.product_id: (line.quantity, line.total) for line in sale.lines.all()}
    assert stored == {
        sugar.pk: (online[0].weight, online[0].total),
        beef.pk: (online[1].weight, online[1].total),
    }
    context.close()


def test_the_managers_offline_sales_page_at_phone_width(browser, live_server, shop, make_user):
    """A refused sale listed with its reason, to accept (note optional) or dismiss (reason),
    readable at 390 px."""
    import uuid

    from django.utils import timezone

    from accounts.models import User
    from pos.models import Register
    from pos.services import offline
    from pos.services.shifts import open_shift

    seller = User.objects.get(username="grace")
    bob = make_user("bob", "cashier")
    make_user("eric", "manager")
    shift = open_shift(register=Register.objects.get(), cashier=seller, opening_float=Decimal(0))
    device = offline.register_device(register=shift.register, user=seller, key=uuid.uuid4())
    offline.reserve_block(device=device)
    sale = {
        "key": str(uuid.uuid4()), "number": 1, "shift": shift.pk,
        "sold_at": timezone.now().isoformat(), "prices_as_of": timezone.now().isoformat(),
        "lines": [{"product": shop["cable"].pk, "quantity": "1", "price": "3500"}],
        "tenders": [{"tender": "cash", "amount": "3500"}],
    }  # fmt: skip
    assert offline.sync_sales(device=device, user=bob, sales=[sale])[0].status == "refused"

    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/")
    page.get_by_label("Username").fill("eric")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/register/offline/tills/")
    page.get_by_role("button", name="Accept the sale").wait_for()
    assert "another cashier" in page.content()
    shot(page, "offline-sales-manager-phone")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
    page.get_by_label("Note (optional)").fill("Bob signed in before it synced")
    page.get_by_role("button", name="Accept the sale").click()
    page.get_by_text("Offline sale R1-T1-000001 resolved.").wait_for()
    context.close()
