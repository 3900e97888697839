"""Every till, report and admin page we own, rendered in French and in Kinyarwanda, shows no
English from our templates or code: no text on the page is an English message of the catalogue
whose translation differs (and tests/i18n/test_catalogues.py checks every template's words are
marked, so none escapes the catalogue)."""

from decimal import Decimal

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from tests.i18n.template_text import visible_text

pytestmark = pytest.mark.django_db


def catalogue(language: str) -> dict[str, str]:
    """English message -> its translation, for messages that read differently once translated."""
    po = polib.pofile(str(settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"))
    english = {}
    for entry in po:
        if entry.obsolete or entry.msgctxt or "%" in entry.msgid or "{" in entry.msgid:
            continue
        if entry.msgid_plural:
            continue
        if entry.msgstr and entry.msgstr != entry.msgid:
            english[" ".join(entry.msgid.split())] = entry.msgstr
    return english


def untranslated(html: str, english: dict[str, str]) -> list[str]:
    found = []
    for fragment in visible_text(html):
        text = " ".join(fragment.split()).strip(" ·:—–|()")
        if text in english:
            found.append(text)
    return found


@pytest.fixture
def shop(shop_day, manager):
    """A day of selling (reports), a cart in progress, an invoice and a closed shift."""
    from pos.models import Customer, Register, ShopSettings
    from pos.services.shifts import close_shift, open_shift

    settings_row = ShopSettings.load()
    settings_row.tin = "102345678"
    settings_row.phone = "0788000000"
    settings_row.save()
    debtor = Customer.objects.create(
        name="Hotel Mille Collines", phone="+250788000222", credit_limit=Decimal(100000)
    )
    product = shop_day["charger"]
    till2 = Register.objects.create(code="R2", name="Till 2")
    other = open_shift(register=till2, cashier=manager, opening_float=Decimal(0))
    closed = close_shift(shift=other, counted={"cash": Decimal(0)}, user=manager)
    return {"product": product, "debtor": debtor, "closed_shift": closed}


def _credit_sale(sell, shop):
    from pos.services.checkout import TenderLine

    return sell(
        (shop["product"], 1),
        customer=shop["debtor"],
        tenders=[TenderLine("account", Decimal(11800))],
    )


@pytest.mark.parametrize("language", ["fr", "rw"])
def test_till_report_and_admin_pages_show_no_english(
    language, client, cashier, manager, admin_user, shop, shop_day, sell, shift
):
    english = catalogue(language)
    credit = _credit_sale(sell, shop)
    sale = shop_day["sales"][0]
    refund = shop_day["refund"]
    invoice = credit.invoice

    for user in (cashier, manager, admin_user):
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    # The receipts and slips print in the shop's receipt language: make it the same.
    from pos.models import ShopSettings

    shop_settings = ShopSettings.load()
    shop_settings.receipt_language = language
    shop_settings.save()

    client.force_login(cashier)
    client.post(reverse("register:add_product", args=[shop["product"].pk]))
    till_pages = [
        reverse("accounts:home"),
        reverse("accounts:password_change"),
        reverse("register:register"),
        reverse("register:payment"),
        reverse("register:history"),
        reverse("register:shift"),
        reverse("register:returns"),
        reverse("register:account"),
        reverse("register:account_payment", args=[shop["debtor"].pk]),
        reverse("register:refund", args=[sale.pk]),
        reverse("register:void", args=[credit.pk]),
        reverse("register:z_report", args=[shift.pk]),
        reverse("register:offline_till"),
        reverse("pos:receipt", args=[credit.pk]),
        reverse("pos:refund_slip", args=[refund.pk]),
        "/no-such-page/",
    ]
    manager_pages = [
        reverse("reports:dashboard"),
        reverse("reports:sales") + "?start=2026-03-10&end=2026-03-11&by=tender",
        reverse("reports:profit") + "?start=2026-03-10&end=2026-03-11",
        reverse("reports:inventory"),
        reverse("reports:shifts"),
        reverse("reports:shift_detail", args=[shop["closed_shift"].pk]),
        reverse("reports:customers"),
        reverse("register:offline_tills"),
        reverse("pos:invoice", args=[invoice.pk]),
        reverse("pos:customer_statement", args=[shop["debtor"].pk]),
    ]
    admin_pages = [
        reverse("admin:index"),
        reverse("admin:health"),
        reverse("admin:pos_product_import"),
        reverse("admin:pos_product_stock_count"),
        reverse("admin:pos_product_adjust_stock", args=[shop["product"].pk]),
    ]
    problems = {}
    for who, pages in ((cashier, till_pages), (manager, manager_pages), (admin_user, admin_pages)):
        client.force_login(who)
        for url in pages:
            response = client.get(url)
            expected = 404 if url == "/no-such-page/" else 200
            assert response.status_code == expected, (url, response.status_code)
            assert response["Content-Language"] == language, url
            left = untranslated(response.content.decode(), english)
            if left:
                problems[url] = left
    assert not problems, f"English left on {language} pages: {problems}"


def test_the_check_catches_english_on_a_page():
    english = catalogue("fr")
    page = "<main><h1>Sales history</h1><button>Complete sale</button><p>Historique</p></main>"
    assert untranslated(page, english) == ["Sales history", "Complete sale"]


@pytest.mark.parametrize(
    ("language", "offline"), [("en", "Offline"), ("fr", "Hors ligne"), ("rw", "Nta murandasi")]
)
def test_the_offline_banner_says_offline_once(language, offline, client, cashier, shift):
    import re

    cashier.preferred_language = language
    cashier.save(update_fields=["preferred_language"])
    client.force_login(cashier)
    page = client.get(reverse("register:offline_till")).content.decode()
    banner = re.search(r'<p class="offline-banner".*?</p>', page, re.S).group(0)
    text = " ".join(visible_text(banner))
    assert text.lower().count(offline.lower()) == 1, text
