"""The catalogues are complete, current and compiled; every template's words are marked.

- Every French and Kinyarwanda message is translated, none is fuzzy, and each translation has
  the placeholders of its English (`%(name)s`, `%d`, DRF's `{name}`).
- The .po files hold exactly the strings of the code: `make messages` on a copy of the tree
  changes no message (a new string not extracted, or a gone one still there, fails).
- The .mo files Django reads say what the .po files say.
- Template text outside {% translate %} / {% blocktranslate %} fails (template_text.py).
When one of these fails: `make messages`, translate the new entries, `make messages` again.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.i18n.template_text import template_files, unmarked_text
from vevurn.translations import DOMAINS, TRANSLATED_LANGUAGES, makemessages_args

LOCALE = Path(settings.BASE_DIR) / "locale"
PLACEHOLDER = re.compile(r"%(?:\([a-zA-Z_0-9]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{[a-zA-Z_0-9]*\}")
FIX = "Run `make messages`, translate the new entries in locale/fr and locale/rw, run it again."
# Every catalogue: each language's django.po (Python, templates) and djangojs.po (JavaScript).
CATALOGUES = [(language, domain) for language in TRANSLATED_LANGUAGES for domain in DOMAINS]


def po_file(language: str, domain: str = "django") -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / f"{domain}.po"))


def placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text.replace("%%", "")))


def catalogue_problems(po: polib.POFile) -> list[str]:
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        name = repr(entry.msgid[:60])
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {name}")
        if entry.msgid_plural:
            forms = [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]
            if not forms or not all(forms):
                problems.append(f"missing: {name}")
                continue
            # The last form is the plural; the first may leave the number out ("one item").
            allowed = set(placeholders(entry.msgid) + placeholders(entry.msgid_plural))
            if placeholders(forms[-1]) != placeholders(entry.msgid_plural):
                problems.append(f"placeholders differ: {name}")
            elif any(not set(placeholders(form)) <= allowed for form in forms):
                problems.append(f"placeholders differ: {name}")
        elif not entry.msgstr:
            problems.append(f"missing: {name}")
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            problems.append(f"placeholders differ: {name}")
    return problems


@pytest.mark.parametrize(("language", "domain"), CATALOGUES)
def test_every_message_is_translated_without_fuzzy_or_wrong_placeholders(language, domain):
    po = po_file(language, domain)
    problems = catalogue_problems(po)
    if po.metadata_is_fuzzy or "INTEGER" in po.metadata.get("Plural-Forms", "INTEGER"):
        problems.append("header: fuzzy, or no Plural-Forms")
    where = f"locale/{language}/LC_MESSAGES/{domain}.po"
    assert not problems, f"{where}: {problems[:20]} ({len(problems)} in all). {FIX}"


def test_the_check_catches_a_missing_a_fuzzy_and_a_wrong_placeholder():
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Sale", msgstr=""))
    po.append(polib.POEntry(msgid="Till", msgstr="Caisse", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Hello %(name)s", msgstr="Bonjour %(nom)s"))
    po.append(polib.POEntry(msgid="{count} left", msgstr="il reste"))
    po.append(
        polib.POEntry(
            msgid="%(n)s item", msgid_plural="%(n)s items", msgstr_plural={0: "1 article", 1: "x"}
        )
    )
    po.append(polib.POEntry(msgid="VAT %(rate)s%%", msgstr="TVA %(rate)s %%"))  # fine
    assert catalogue_problems(po) == [
        "missing: 'Sale'",
        "fuzzy: 'Till'",
        "placeholders differ: 'Hello %(name)s'",
        "placeholders differ: '{count} left'",
        "placeholders differ: '%(n)s item'",
    ]


@pytest.mark.parametrize(("language", "domain"), CATALOGUES)
def test_the_compiled_catalogue_says_what_the_po_file_says(language, domain):
    po = po_file(language, domain)
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / f"{domain}.mo"))

    def messages(catalogue):
        out = {}
        for entry in catalogue:
            if entry.obsolete or not entry.msgid or "fuzzy" in entry.flags:
                continue
            key = (entry.msgctxt or "", entry.msgid)
            out[key] = (
                tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural))
                if entry.msgid_plural
                else entry.msgstr
            )
        return out

    assert messages(mo) == messages(po), (
        f"locale/{language}/LC_MESSAGES/{domain}.mo is stale. {FIX}"
    )


def _gettext_missing() -> bool:
    return not all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msguniq"))


def test_the_catalogues_hold_exactly_the_strings_of_the_code(tmp_path):
    """Extract again on a copy of the tree: no string may be new (not extracted) or gone."""
    if _gettext_missing():
        if os.environ.get("VEVURN_REQUIRE_SERVICES") == "1":
            pytest.fail("needs GNU gettext (apt-get install gettext)", pytrace=False)
        pytest.skip("needs GNU gettext (apt-get install gettext)")
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "staticfiles", "media", "db.sqlite3*", "__pycache__", "*.mo",
        "node_modules", "test-output", ".pytest_cache", ".ruff_cache", ".hypothesis",
    )  # fmt: skip
    shutil.copytree(base, copy, ignore=ignore, symlinks=True)
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "vevurn.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    for domain in DOMAINS:
        done = subprocess.run(
            [sys.executable, "manage.py", *makemessages_args(domain)],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr

    def keys(path: Path) -> set[tuple[str, str, str]]:
        po = polib.pofile(str(path))
        return {(e.msgctxt or "", e.msgid, e.msgid_plural or "") for e in po if not e.obsolete}

    for language, domain in CATALOGUES:
        relative = Path("locale") / language / "LC_MESSAGES" / f"{domain}.po"
        committed, current = keys(base / relative), keys(copy / relative)
        new = sorted(m[1] for m in current - committed)
        gone = sorted(m[1] for m in committed - current)
        assert not new and not gone, (
            f"{relative} is stale: not extracted {new[:10]}, no longer used {gone[:10]}. " + FIX
        )


def test_every_word_of_our_templates_is_marked_for_translation():
    unmarked = {str(path): found for path in template_files() if (found := unmarked_text(path))}
    assert not unmarked, f"Wrap these in {{% translate %}} or {{% blocktranslate %}}: {unmarked}"


def test_the_template_check_catches_unmarked_words(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Sales" %}</h1><p title="Press here">Total due</p>'
        "{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}<code>sku, name</code>"
        "{% block main_class %}page narrow{% endblock %}<span>RWF 4xx</span>"
    )
    assert unmarked_text(page) == ["Press here", "Total due"]
