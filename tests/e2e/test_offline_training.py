"""A till in training loses its link (issues 25 and 26) in headless Chromium: a real sale made
offline before the manager switched the till into training syncs as a sale; the offline till
then shows "TRAINING - not a sale" (also at phone width and after a reload offline) and rings
up nothing offline. Screenshots in test-output/screenshots/fiscal/."""

import pytest

from tests.e2e.test_offline_till import (
    SCAN,
    prepared_for_offline,
    shop,  # noqa: F401
    sign_in_and_open_shift,
    wait_for,
)
from tests.e2e.test_training_mode import no_sideways_scroll, shot

pytestmark = pytest.mark.django_db(transaction=True)

REFUSAL = "Training sales need the connection"


def outbox_size(page) -> int:
    return page.evaluate("async () => (await window.VevurnOffline.all('outbox')).length")


def test_a_till_in_training_going_offline_sells_nothing_offline(
    browser,
    live_server,
    shop,  # noqa: F811
    make_user,
):
    from fiscal import training
    from fiscal.models import TrainingReceipt
    from pos.models import OfflineSale, Register, Sale, StockMovement

    cable = shop["cable"]
    manager = make_user("ines", "manager", first_name="Ines")
    till = Register.objects.get(code="R1")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_and_open_shift(page)
    prepared_for_offline(page)

    # A real sale offline, then the manager puts the till in training before the link is back.
    context.set_offline(True)
    page.goto("/register/offline/")
    page.get_by_role("heading", name="Sale (offline)").wait_for()
    banner = page.locator("[data-training-banner]")
    assert banner.is_hidden()
    field = page.get_by_label(SCAN)
    field.fill("CAB-1")
    field.press("Enter")
    page.get_by_label("Cash received").fill("5000")
    page.get_by_role("button", name="Take cash").click()
    page.get_by_role("heading", name="PROVISIONAL SLIP").wait_for()
    page.get_by_role("button", name="New sale").click()
    training.start_training(register=till, user=manager)

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    wait_for(lambda: Sale.objects.count() == 1)  # the flag at sale time decides: a real sale
    assert Sale.objects.get().number == "R1-T1-000001"
    assert StockMovement.objects.filter(product=cable, kind="sale").count() == 1
    # The heartbeat says the till is in training: the till reads the snapshot again.
    banner.wait_for()
    assert "TRAINING - not a sale" in banner.text_content()

    context.set_offline(True)
    page.evaluate("() => window.dispatchEvent(new Event('offline'))")
    page.reload()  # offline: the till opens from the service worker's cache, still in training
    page.get_by_role("heading", name="Sale (offline)").wait_for()
    banner.wait_for()
    field = page.get_by_label(SCAN)
    field.fill("CAB-1")
    field.press("Enter")
    page.locator("[data-lines] .cart-line").first.wait_for()
    page.get_by_label("Cash received").fill("5000")
    page.get_by_role("button", name="Take cash").click()
    alert = page.locator("[data-pay-error]")
    alert.filter(has_text=REFUSAL).wait_for()
    assert page.locator("[data-slip]").is_hidden() and outbox_size(page) == 0
    shot(page, "offline-training")
    page.set_viewport_size({"width": 390, "height": 844})
    assert banner.is_visible() and no_sideways_scroll(page)
    shot(page, "offline-training-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.evaluate("() => window.VevurnOffline.sync()")
    assert Sale.objects.count() == 1 and OfflineSale.objects.count() == 1
    assert not TrainingReceipt.objects.exists()
    cable.refresh_from_db()
    assert cable.stock_on_hand == 9

    # The manager takes the till out of training: the next heartbeat hides the banner.
    training.stop_training(register=till, user=manager)
    page.evaluate("() => window.VevurnOffline.heartbeat()")
    banner.wait_for(state="hidden")
    context.close()
