"""The languages of the shop: English, French and Kinyarwanda.

Django knows English and French. It has no Kinyarwanda, so its language info (name, name in the
language itself, direction) is added here, before anything asks for it (the switcher lists
`name_local`). Its strings come from our own catalogue, locale/rw, which also translates the
Django strings our screens show (vevurn/django_strings.py).
"""

from django.conf.locale import LANG_INFO

LANG_INFO.setdefault(
    "rw",
    {"bidi": False, "code": "rw", "name": "Kinyarwanda", "name_local": "Ikinyarwanda"},
)

# The names stay in English here (settings cannot translate); screens show `name_local`.
LANGUAGES = [
    ("en", "English"),
    ("fr", "French"),
    ("rw", "Kinyarwanda"),
]
LANGUAGE_CODES = tuple(code for code, _name in LANGUAGES)


def language_choices():
    """The shop's languages, each named in itself (English, Français, Ikinyarwanda)."""
    from django.utils.translation import get_language_info

    return [(code, get_language_info(code)["name_local"]) for code in LANGUAGE_CODES]
