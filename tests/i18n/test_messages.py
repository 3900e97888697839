"""Messages in the reader's language: API refusals by Accept-Language, the reminder mail in the
customer's language, and the glossary's words in the catalogues."""

import datetime
import re
import uuid
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cashier):
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=cashier)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _sale(api, product, language):
    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "tenders": [{"tender": "cash", "amount": "100000"}],
    }
    return api.post(
        "/api/v1/sales/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Open a shift before selling."),
        ("fr", "Ouvrez une session avant de vendre."),
        ("rw", "Fungura igihe cy'akazi mbere yo kugurisha."),
    ],
)
def test_an_api_refusal_is_in_the_language_of_accept_language(api, product, language, message):
    response = _sale(api, product, language)
    assert response.status_code == 409
    assert response["Content-Language"] == language
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("shift_closed", message)  # the code never changes


def test_django_rest_frameworks_own_field_errors_are_translated_too(api, shift, product):
    response = api.post(
        "/api/v1/sales/",
        {"tenders": []},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        HTTP_ACCEPT_LANGUAGE="rw",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["lines"] == ["Iki kibanza kigomba kuzuzwa."]


def test_the_reminder_mail_is_in_the_customers_language(sell, product, settings):
    from pos.models import Customer, Invoice
    from pos.services.checkout import TenderLine

    settings.INVOICE_REMINDER_DAYS = [1]
    customer = Customer.objects.create(
        name="Hôtel des Mille Collines",
        phone="+250788000111",
        email="pay@millecollines.rw",
        credit_limit=Decimal(10**6),
        language="fr",
    )
    sale = sell((product, 1), tenders=[TenderLine("account", Decimal(12000))], customer=customer)
    due = timezone.localdate() - datetime.timedelta(days=3)
    Invoice.objects.filter(pk=sale.invoice.pk).update(due_date=due)

    call_command("send_invoice_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115

    message = mail.outbox[0]
    assert "a 3 jours de retard" in message.subject
    assert "Bonjour Hôtel des Mille Collines," in message.body
    assert "Reste dû :    RWF 12\xa0000" in message.body
    assert f"était due le {due:%d/%m/%Y}" in message.body


def _glossary() -> list[tuple[str, str, str]]:
    rows = []
    text = (Path(settings.BASE_DIR) / "docs" / "glossary.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] and not set(cells[0]) <= {"-"} and cells[0] != "English":
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def _words(cell: str) -> set[str]:
    """The words a glossary cell allows: "annulation / annuler; ..." -> {annulation, annuler}."""
    return {word.strip().casefold() for word in re.split(r"[,;(]", cell)[0].split("/")}


@pytest.mark.parametrize("language", ["fr", "rw"])
def test_the_catalogues_use_the_glossarys_words(language):
    """Where the catalogue translates a glossary term on its own, it uses the glossary's word."""
    po = polib.pofile(
        str(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po")
    )
    translations = {e.msgid: e.msgstr for e in po if not e.msgctxt and not e.msgid_plural}
    column = 1 if language == "fr" else 2
    checked = 0
    for row in _glossary():
        expected = _words(row[column])
        for english in _words(row[0]):
            for msgid in (english, english.capitalize()):
                if msgid in translations:
                    checked += 1
                    assert translations[msgid].casefold() in expected, (msgid, language)
    assert checked >= 8  # sale, receipt, refund, shift, invoice, cash, discount, customer...
