"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""

import os

import pytest

from tests.conftest import PASSWORD, service_missing
from tests.support.fixtures import airtel_simulator, fiscal_device, momo_simulator, vsdc  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
# Chromium's background services would try to reach the internet; this machine has none.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if service_missing("browser"):
        pytest.skip("no browser")  # the browser marker has already failed or skipped the test
    # Playwright's sync API runs an event loop in this thread; the live server's database
    # access from the test itself is still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in_to_admin(page, username):
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
