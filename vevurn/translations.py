"""The message catalogues (locale/fr, locale/rw): how they are extracted and compiled.

`make messages` runs this module: it extracts every marked string of our code, templates and
scripts into the catalogues (django.po, and djangojs.po for JavaScript; new strings arrive
empty, gone ones are dropped) and compiles them into the .mo files that Django reads.
Translate the new entries (docs/glossary.md keeps the words consistent), then run it again.
Needs GNU gettext (msgfmt, msgmerge, xgettext).
tests/i18n checks that the catalogues are complete, current and compiled.
"""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TRANSLATED_LANGUAGES = ("fr", "rw")
# Only our code: not the virtualenv, collected static files, tests or benchmarks.
IGNORED = [".venv/*", "staticfiles/*", "tests/*", "bench/*", "docs/*", "media/*", "locale/*"]


# The catalogues of each language: Python and templates, and JavaScript (Django admin's own
# scripts, vevurn/django_js_strings.js; the till's scripts take their words from the page).
DOMAINS = ("django", "djangojs")


def makemessages_args(domain: str = "django") -> list[str]:
    """`manage.py makemessages` arguments for one domain. Locations name the file only (no line
    numbers), so a catalogue changes when its strings change, not when code moves."""
    args = ["makemessages", "--domain", domain, "--add-location", "file", "--no-wrap"]
    args += ["--no-obsolete"]
    for language in TRANSLATED_LANGUAGES:
        args += ["--locale", language]
    for pattern in IGNORED:
        args += ["--ignore", pattern]
    return args


def compilemessages_args() -> list[str]:
    return ["compilemessages", "--ignore", ".venv", "--ignore", "staticfiles"]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vevurn.settings")
    os.environ.setdefault("DEBUG", "1")
    os.chdir(BASE_DIR)
    from django.core.management import execute_from_command_line

    for domain in DOMAINS:
        execute_from_command_line([sys.argv[0], *makemessages_args(domain)])
    execute_from_command_line([sys.argv[0], *compilemessages_args()])


if __name__ == "__main__":
    main()
