"""The Django admin's own words on the admin pages managers use, in French and Kinyarwanda.

Django ships French but no Kinyarwanda; our locale/rw translates the admin's strings that our
admin pages show (vevurn/django_strings.py lists them). Two checks, on the pages a manager
opens (index, change lists with filters, search and actions, change and add forms with inlines,
delete confirmations, history, password change, sign-in):

- every msgid of every Django template the page was rendered from (read from the references
  of Django's own catalogue, django/contrib/*/locale/en) has a translation in that language;
- no text a person reads on the page is an English message of Django's admin, auth or form
  catalogues (messages with placeholders are matched as patterns: "Select product to change").
"""

import re
from functools import cache
from pathlib import Path

import django
import polib
import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation

from tests.i18n.template_text import visible_text

pytestmark = pytest.mark.django_db

DJANGO = Path(django.__file__).parent
# Django's catalogues whose English can reach an admin page (the English .po files carry the
# English msgids and, in their references, the file each comes from).
CATALOGUES = {
    "admin": DJANGO / "contrib" / "admin" / "locale" / "en" / "LC_MESSAGES" / "django.po",
    "auth": DJANGO / "contrib" / "auth" / "locale" / "en" / "LC_MESSAGES" / "django.po",
    "contenttypes": DJANGO / "contrib" / "contenttypes" / "locale" / "en" / "LC_MESSAGES"
    / "django.po",
    "core": DJANGO / "conf" / "locale" / "en" / "LC_MESSAGES" / "django.po",
}  # fmt: skip
# Read the same in English and in the other language (codes, names, symbols).
SAME = {"OK", "Documentation", "Date", "ID", "URL", "Total", "Code", "Action", "Actions", "hash"}
# Core (django/conf) messages are many and short ("and", "or", "Error"); only the ones the admin
# pages show are checked as text, the rest would match our own words by chance.
CORE_SHOWN = {
    "Yes",
    "No",
    "Unknown",
    "Currently",
    "Change",
    "Clear",
    "This field is required.",
}


@cache
def django_entries(name: str) -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(CATALOGUES[name])) if e.msgid and not e.obsolete]


def template_msgids(template_names: set[str]) -> set[tuple[str, str, str]]:
    """(context, msgid, plural) of the Django templates among `template_names`, from the
    references of Django's own catalogues (".../templates/admin/change_list.html:42")."""
    found = set()
    for name in ("admin", "auth"):
        for entry in django_entries(name):
            for path, _line in entry.occurrences:
                if "/templates/" in path and path.split("/templates/", 1)[1] in template_names:
                    found.add((entry.msgctxt or "", entry.msgid, entry.msgid_plural or ""))
    return found


def _translated(context: str, msgid: str, plural: str) -> bool:
    if plural:
        # Both forms: one of one thing, and of many.
        return translation.ngettext(msgid, plural, 1) != msgid and (
            translation.ngettext(msgid, plural, 5) != plural
        )
    text = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
    return text != msgid


def untranslated(messages: set[tuple[str, str, str]], language: str) -> list[str]:
    with translation.override(language):
        return sorted(
            msgid
            for context, msgid, plural in messages
            if msgid not in SAME and not _translated(context, msgid, plural)
        )


def _pattern(msgid: str) -> re.Pattern:
    """A message as a pattern of the text it renders: placeholders match any words."""
    parts = re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", " ".join(msgid.split()))
    body = r".+?".join(re.escape(part) for part in parts)  # "Change %s" is not "Changer…"
    return re.compile(rf"^{body}$")


@cache
def english_messages() -> tuple[set[str], list[re.Pattern]]:
    plain, patterns = set(), []
    for name in CATALOGUES:
        for entry in django_entries(name):
            if name == "core" and entry.msgid not in CORE_SHOWN:
                continue
            for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
                if msgid in SAME or len(msgid) < 3:
                    continue
                if re.search(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", msgid):
                    if len(re.sub(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", "", msgid).strip()) > 3:
                        patterns.append(_pattern(msgid))
                else:
                    plain.add(" ".join(msgid.split()))
    return plain, patterns


def english_on_page(html: str) -> list[str]:
    plain, patterns = english_messages()
    found = []
    for fragment in visible_text(html):
        text = " ".join(fragment.split()).strip(" ›:|")
        if not text:
            continue
        if text in plain or any(p.match(text) for p in patterns):
            found.append(text)
    return found


@pytest.fixture
def admin_pages(admin_user, manager, cashier, make_product):
    """The admin pages a manager opens, with something on each (a product with a selling unit,
    a history entry)."""
    from pos.models import SellingUnit

    product = make_product(
        name="Sugar 1kg", sku="SUG-1", retail_price=1500, minimum_price=1400, stock=48
    )
    unit = SellingUnit.objects.create(product=product, name="Carton", factor=24, price=34000)
    LogEntry.objects.log_actions(
        user_id=admin_user.pk,
        queryset=[product],
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Retail price"]}}]',
        single_object=True,
    )
    ContentType.objects.get_for_model(product)
    return [
        reverse("admin:index"),
        reverse("admin:app_list", args=["pos"]),
        reverse("admin:pos_product_changelist"),
        reverse("admin:pos_product_changelist") + "?status__exact=active&q=sugar",
        reverse("admin:pos_product_change", args=[product.pk]),
        reverse("admin:pos_product_add"),
        reverse("admin:pos_product_history", args=[product.pk]),
        reverse("admin:pos_product_delete", args=[product.pk]),
        reverse("admin:pos_sellingunit_changelist"),
        reverse("admin:pos_sellingunit_change", args=[unit.pk]),
        reverse("admin:pos_sale_changelist"),
        reverse("admin:pos_customer_add"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[cashier.pk]),
        reverse("admin:accounts_user_add"),
        reverse("admin:auth_user_password_change", args=[cashier.pk]),
        reverse("admin:password_change"),
        reverse("admin:password_change_done"),
        reverse("admin:jobs_failedjob_changelist"),
        reverse("admin:otp_totp_totpdevice_changelist"),
    ], product


def _problems(client, urls, language, *, post=None):
    missing, english = {}, {}
    headers = {"accept-language": language}
    for url in urls:
        response = (
            client.post(url, post, headers=headers) if post else client.get(url, headers=headers)
        )
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Language"] == language, url
        names = {t.name for t in response.templates if t.name}
        if gaps := untranslated(template_msgids(names), language):
            missing[url] = gaps
        if left := english_on_page(response.content.decode()):
            english[url] = left
    return missing, english


@pytest.mark.parametrize("language", ["fr", "rw"])
def test_the_admin_pages_managers_use_carry_no_english_from_django(
    client, admin_user, admin_pages, language
):
    urls, product = admin_pages
    admin_user.preferred_language = language
    admin_user.save(update_fields=["preferred_language"])
    client.force_login(admin_user)

    missing, english = _problems(client, urls, language)
    # The delete-selected action's confirmation page.
    m2, e2 = _problems(
        client,
        [reverse("admin:pos_product_changelist")],
        language,
        post={"action": "delete_selected", "_selected_action": [product.pk]},
    )
    missing.update(m2)
    english.update(e2)
    # Signed out: the admin's sign-in page follows the browser.
    client.logout()
    m3, e3 = _problems(client, [reverse("admin:login")], language)
    missing.update(m3)
    english.update(e3)

    assert not missing, f"Django admin messages without a {language} translation: {missing}"
    assert not english, f"English from Django on {language} admin pages: {english}"


def test_the_checks_catch_an_untranslated_admin_message_and_english_text():
    assert untranslated({("", "Save and add another", "")}, "fr") == []
    assert untranslated({("", "Save and add another", ""), ("", "No such msgid", "")}, "fr") == [
        "No such msgid"
    ]
    page = "<h1>Select product to change</h1><a>Ahabanza</a><input type=submit value='Save'>"
    assert english_on_page(page) == ["Select product to change", "Save"]
    assert ("", "Save and add another", "") in template_msgids({"admin/submit_line.html"})


ADMIN_JS = DJANGO / "contrib" / "admin" / "locale" / "en" / "LC_MESSAGES" / "djangojs.po"


def _js_keys(path: Path) -> set[tuple[str, str, str]]:
    po = polib.pofile(str(path))
    return {
        (e.msgctxt or "", e.msgid, e.msgid_plural or "") for e in po if e.msgid and not e.obsolete
    }


@pytest.mark.parametrize("language", ["fr", "rw"])
def test_every_admin_script_string_is_in_our_javascript_catalogue(language):
    """The admin's scripts (the "n of m selected" counter, the many-to-many picker, calendar and
    clock) take their words from Django's djangojs catalogue: ours holds every one of them
    (tests/i18n/test_catalogues.py checks each is translated)."""
    ours = Path(__file__).resolve().parents[2] / "locale" / language / "LC_MESSAGES" / "djangojs.po"
    missing = _js_keys(ADMIN_JS) - _js_keys(ours)
    assert not missing, f"Add them to vevurn/django_js_strings.js: {sorted(missing)[:10]}"


def test_our_french_admin_script_strings_are_djangos_own():
    """French comes from Django itself: locale/fr repeats it word for word (it wins over
    Django's in LOCALE_PATHS, so a difference would change the admin's French)."""

    def translations(path: Path) -> dict:
        po = polib.pofile(str(path))
        return {
            (e.msgctxt or "", e.msgid): e.msgstr or tuple(sorted(e.msgstr_plural.items()))
            for e in po
            if e.msgid and not e.obsolete
        }

    djangos = translations(ADMIN_JS.parents[2] / "fr" / "LC_MESSAGES" / "djangojs.po")
    ours = translations(Path(__file__).resolve().parents[2] / "locale/fr/LC_MESSAGES/djangojs.po")
    assert ours == djangos


@pytest.mark.parametrize(
    ("language", "today", "selected", "sunday"),
    [
        ("fr", "Aujourd'hui", "%(sel)s sur %(cnt)s sélectionné", "dim"),
        ("rw", "Uyu munsi", "Byatoranyijwe: %(sel)s muri %(cnt)s", "Cyu"),
    ],
)
def test_the_admins_javascript_catalogue_speaks_the_users_language(
    client, admin_user, language, today, selected, sunday
):
    import json

    admin_user.preferred_language = language
    admin_user.save(update_fields=["preferred_language"])
    client.force_login(admin_user)
    response = client.get(reverse("admin:jsi18n"))
    assert response.status_code == 200
    found = re.search(r"const newcatalog = (\{.*?\});\n", response.content.decode(), re.S)
    catalog = json.loads(found.group(1))
    assert catalog["Today"] == today
    assert catalog["%(sel)s of %(cnt)s selected"][0] == selected
    assert catalog["abbrev. day Sunday\x04Sun"] == sunday  # the calendar's day names
    assert len(catalog) == len(_js_keys(ADMIN_JS))  # every admin script string
