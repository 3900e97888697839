"""The screens satisfy the Content-Security-Policy: a real browser reports no violation.

Chromium reports each blocked inline script, inline style, `on...=` handler or foreign source
twice: a `securitypolicyviolation` event in the page and a console error. The test listens to
both on every page it opens, while a cashier rings up and pays a sale, a manager reads a report
and an admin opens the admin, the health dashboard and the API docs.
"""

import re
from decimal import Decimal

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in_to_admin

pytestmark = pytest.mark.django_db(transaction=True)

# Runs before each page's own scripts (added by the browser, so the CSP does not apply to it).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline")
    + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations; `watched.check()` asserts none so far."""
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)

    class Watched:
        def __init__(self):
            self.page = page

        def check(self, where):
            in_page = page.evaluate("window.__cspViolations || []")
            assert not in_page and not console, f"CSP violations on {where}: {in_page + console}"

    return Watched()


@pytest.fixture
def shop(make_user):
    from pos.models import Category, Register
    from pos.services.catalogue import create_product

    make_user("grace", "cashier", first_name="Grace")
    make_user("eric", "manager", first_name="Eric")
    make_user("aline", "admin", first_name="Aline")
    Register.objects.create(code="R1", name="Till 1")
    return create_product(
        name="USB-C cable 1m",
        sku="CAB-1",
        barcode="CAB-1",
        category=Category.objects.create(name="Cables"),
        cost_price=Decimal(1500),
        retail_price=Decimal(3500),
        minimum_price=Decimal(2000),
        initial_stock=10,
    )


def sign_in(page, username):
    page.context.clear_cookies()
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_no_screen_breaks_the_content_security_policy(watched, shop):
    page = watched.page
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    watched.check("the sign-in page")

    # A cashier opens a shift, rings up a sale and pays it in cash: the receipt.
    sign_in(page, "grace")
    page.get_by_label("Cash in the drawer (float)").fill("10000")
    page.get_by_role("button", name="Open shift").click()
    field = page.get_by_label("Scan or type a barcode, SKU or name")
    field.fill("CAB-1")
    field.press("Enter")
    page.locator(".line-name").filter(has_text="USB-C cable 1m").wait_for()
    watched.check("the register")
    page.get_by_role("link", name="Pay").click()
    page.get_by_label("Cash received (RWF)").fill("5000")
    page.locator("[data-change]").filter(has_text="1,500 RWF").wait_for()  # register.js ran
    watched.check("the payment screen")
    page.get_by_role("button", name="Complete sale").click()
    page.get_by_text("R1-000001").wait_for()
    watched.check("the receipt")
    page.goto("/register/history/")
    page.goto("/register/shift/")
    watched.check("the history and shift screens")

    # A manager reads the reports.
    sign_in(page, "eric")
    page.goto("/reports/")
    page.get_by_role("heading", name=re.compile("^Today, ")).wait_for()
    page.goto("/reports/sales/")
    watched.check("the reports")

    # An admin: the admin's pages, the health dashboard and the API docs.
    page.context.clear_cookies()
    sign_in_to_admin(page, "aline")
    page.get_by_role("link", name="System health dashboard").click()
    page.get_by_role("heading", name="System health").wait_for()
    watched.check("the health dashboard")
    page.goto(f"/admin/pos/product/{shop.pk}/change/")
    page.goto("/admin/pos/product/")
    page.goto("/admin/pos/product/stock-count/")
    watched.check("the admin's product pages")
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info").wait_for()
    watched.check("the API docs")
