"""CSV that a spreadsheet will not run as a formula (CSV or formula injection).

Every CSV the app writes -- report tables, the customer statement, the product export (command
and admin action) -- goes through `csv_writer`. A text cell that starts with `=`, `+`, `-`, `@`,
a tab or a carriage return gets a leading `'`, which Excel, LibreOffice and Google Sheets show as
text and never evaluate. Only text is changed: numbers (int, Decimal) are written as they are, so
a negative amount (-500) stays a number that sums. `unneutralise` takes the `'` off again, so a
product export imports back unchanged.
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The cell as written: text that could start a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(text: str) -> str:
    """Undo `safe_cell` on a cell read back from one of our files."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


class SafeWriter:
    """`csv.writer` whose rows go through `safe_cell`."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **options) -> SafeWriter:
    return SafeWriter(out, **options)
