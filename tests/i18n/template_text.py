"""The text our templates show that is not marked for translation.

A template's text (outside `{% translate %}`/`{% blocktranslate %}`, tags, comments, scripts,
styles, <code> and <kbd>) and the visible attributes (title, aria-label, placeholder, alt, a
button's value) must hold no words: everything a person reads goes through the catalogue.
Names that stay as they are (the brand, currency codes, units) are listed in ALLOWED.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATE_DIRS = [
    Path(settings.BASE_DIR) / "templates",
    Path(settings.BASE_DIR) / "pos" / "templates",
    Path(settings.BASE_DIR) / "monitoring" / "templates",
    Path(settings.BASE_DIR) / "accounts" / "templates",
]
VISIBLE_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
# Not prose: scripts, styles, and identifiers a person types as they are (<code>, <kbd>).
UNREAD = {"script", "style", "code", "kbd"}
# Words that are the same in every language: names, codes and units.
ALLOWED = {
    "Vevurn POS",
    "Vevurn",
    "POS",
    "RWF",
    "CSV",
    "JSON",
    "API",
    "MTN",
    "MTN Mobile Money",
    "Mobile Money",
    "mm",
    "ms",
    "s",
    "KB",
    "P50",
    "P95",
    "P99",
    "4xx",
    "5xx",
    "PING",
    "Redis",
    "Enter",
    "Esc",
    "F2",
    "F4",
    "F8",
    "F9",
    "Ctrl",
    "OK",
    "Z",
    "EBM",
    "SKU",
    "TIN",
    "VAT",
}
# A word: two letters or more, not glued to a digit (4xx, 5xx, 80mm are codes).
WORD = re.compile(r"(?<![\w])[^\W\d_]{2,}(?![\w])")


def template_files():
    for directory in TEMPLATE_DIRS:
        if directory.is_dir():
            yield from sorted(
                path for path in directory.rglob("*") if path.suffix in {".html", ".txt"}
            )


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in UNREAD:
            self._hidden += 1
        button = tag == "input" and dict(attrs).get("type") in ("submit", "button", "reset")
        for name, value in attrs:
            if value and (name in VISIBLE_ATTRIBUTES or (button and name == "value")):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in UNREAD and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def _is_words(fragment: str) -> bool:
    text = " ".join(fragment.split())
    if not text or text in ALLOWED:
        return False
    words = [w for w in WORD.findall(text) if w not in ALLOWED]
    return bool(words)


def unmarked_text(path: Path) -> list[str]:
    """The fragments of `path` a person would read that are not marked for translation."""
    source = path.read_text(encoding="utf-8")
    plain = []
    marked = 0  # inside {% blocktranslate %}
    skipped = 0  # inside {% comment %} or a {% block *_class %} (CSS class names)
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            bits = token.contents.split()
            name = bits[0] if bits else ""
            if name in ("blocktranslate", "blocktrans"):
                marked += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                marked -= 1
            elif name == "comment" or (name == "block" and bits[1].endswith("_class")):
                skipped += 1
            elif name == "endcomment" or (name == "endblock" and skipped):
                skipped -= 1
            elif name in ("translate", "trans"):
                plain.append("\x00")  # a marked string separates the text around it
        elif token.token_type == TokenType.VAR:
            plain.append("\x00")
        elif token.token_type == TokenType.TEXT and not marked and not skipped:
            plain.append(token.contents)
    parser = _Visible()
    parser.feed("".join(plain))
    fragments = []
    for part in parser.parts:
        for piece in part.split("\x00"):
            if _is_words(piece):
                fragments.append(" ".join(piece.split()))
    return fragments


def visible_text(html: str) -> list[str]:
    """The text a person reads on a rendered page: text nodes and visible attributes."""
    parser = _Visible()
    parser.feed(html)
    return parser.parts
