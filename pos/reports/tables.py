"""A report table: columns and rows once, shown as HTML, downloaded as CSV or read as JSON."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy

from pos.money import to_currency
from pos.quantities import normalised, summed
from pos.spreadsheet import csv_writer


def _count(value):
    """A count as it is; a summed quantity (Decimal) as 2 or 0.75."""
    return normalised(summed(value)) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text, int, money, percent, date, datetime

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "money", "percent")


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    footer: list | None = None
    places: int = 0
    empty: str = gettext_lazy("Nothing in this period.")
    # The page shows at most `shown` rows (downloads have them all) ...
    shown: int | None = None
    # ... or `rows` are one page of many: a Django Page, and the query string of its links.
    page: Page | None = None
    page_query: str = ""
    # A link under the table to the rest: (url, label).
    link: tuple[str, str] | None = None

    @property
    def hidden(self) -> int:
        """How many rows the page leaves out (the download has them)."""
        return max(0, len(self.rows) - self.shown) if self.shown is not None else 0

    def display(self, value, column: Column) -> str:
        """A cell as shown on the page, in the formats of the page's language (vevurn/formats):
        money with the currency's places and thousands grouped, dates as the language writes
        them."""
        if value is None or value == "":
            return "—" if column.kind != "text" else ""
        if isinstance(value, str):  # a label such as "Total" in a footer
            return value
        if column.kind == "money":
            return _grouped(to_currency(value, self.places), self.places)
        if column.kind == "percent":
            return f"{_grouped(to_currency(value, 1), 1)} %"
        if column.kind == "int":  # counts, and quantities (0.75 kg) without trailing zeros
            count = _count(value)
            places = -count.as_tuple().exponent if isinstance(count, Decimal) else 0
            return _grouped(count, max(places, 0))
        if column.kind == "datetime":
            return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        if column.kind == "date":
            return date_format(value, "SHORT_DATE_FORMAT")
        return str(value)

    def raw(self, value, column: Column):
        """A cell as exported: plain numbers (currency places), shop-local dates, safe text."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value  # made safe by the writer (pos/spreadsheet.py)
        if column.kind == "money":
            return to_currency(value, self.places)
        if column.kind == "percent":
            return to_currency(value, 1)
        if column.kind == "datetime":
            return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
        if isinstance(value, datetime.date):
            return f"{value:%Y-%m-%d}"
        if column.kind == "int":
            return _count(value)
        return value

    def html_rows(self):
        rows = self.rows if self.shown is None else self.rows[: self.shown]
        return [[(self.display(v, c), c) for v, c in zip(row, self.columns, strict=True)]
                for row in rows]  # fmt: skip

    def html_footer(self):
        if self.footer is None:
            return None
        return [(self.display(v, c), c) for v, c in zip(self.footer, self.columns, strict=True)]


def _grouped(number, places: int) -> str:
    return number_format(number, places, use_l10n=True, force_grouping=True)


def csv_response(table: Table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv_writer(response)
    writer.writerow([c.label for c in table.columns])
    for row in table.rows + ([table.footer] if table.footer else []):
        writer.writerow([table.raw(v, c) for v, c in zip(row, table.columns, strict=True)])
    return response


def json_response(tables: list[Table]) -> JsonResponse:
    def value(v, c):
        raw = Table.raw(tables[0], v, c) if c.kind != "text" else ("" if v is None else str(v))
        return str(raw) if isinstance(raw, Decimal) else raw

    return JsonResponse(
        {
            "tables": [
                {
                    "name": t.slug,
                    "title": t.title,
                    "columns": [c.label for c in t.columns],
                    "rows": [
                        [value(v, c) for v, c in zip(r, t.columns, strict=True)] for r in t.rows
                    ],
                    "footer": [value(v, c) for v, c in zip(t.footer, t.columns, strict=True)]
                    if t.footer
                    else None,
                }
                for t in tables
            ]
        }
    )
