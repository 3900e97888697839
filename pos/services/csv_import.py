"""Import and export products as CSV.

Columns (header row required, UTF-8, comma-separated; order free):

  sku              required; the key: an existing SKU is updated, a new one created
  name             required
  barcode          optional; unique; EAN-13 / UPC-A / EAN-8 check digit verified when numeric
  category         required; the name of an existing category
  supplier         optional; the name of an existing supplier
  brand, model, colour   optional text
  cost_price       optional (default 0); a number >= 0, e.g. 6000
  retail_price     required; a number >= 0
  wholesale_price  optional; a number >= 0
  minimum_price    optional (default: the retail price); must not exceed retail_price
  unit             optional (default piece): piece, kg, g, l or m (the stock unit)
  quantity_places  optional (default 0): decimal places of quantities, 0 to 3 (3 for 0.750 kg)
  reorder_level    optional (default 0); a number >= 0 with at most the unit's places
  status           optional (default active): active, inactive or discontinued
  variant_of       optional: the SKU of the product this one is a variant of
  attributes       optional: what sets a variant apart, as JSON: {"colour": "red"}
  scale_code       optional: the item code the shop's scales print on their labels

Stock is not imported: opening stock and changes go through the stock ledger.
The export neutralises text cells that a spreadsheet would run as a formula (a leading `'`,
pos/spreadsheet.py); the import takes that `'` off again, so an export imports back unchanged.
Every row is validated first; if any row fails, nothing is written (one transaction).
"""

import csv
import io
import json
from dataclasses import dataclass, field

from django import forms
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from core.errors import PermissionDenied
from pos.models import (
    PRODUCT_EDITABLE_FIELDS,
    Category,
    Product,
    ProductStatus,
    StockUnit,
    Supplier,
)
from pos.quantities import normalised
from pos.services import locks
from pos.services.catalogue import add_stock_levels, write_product_changes
from pos.spreadsheet import csv_writer, unneutralise

# The CSV's columns: SKU first (it names the row), then what a manager may edit.
COLUMNS = ["sku", *(name for name in PRODUCT_EDITABLE_FIELDS if name != "sku")]
REQUIRED_COLUMNS = {"sku", "name", "category", "retail_price"}
MAX_ROWS = 20000


class ProductImportForm(forms.ModelForm):
    category = forms.ModelChoiceField(
        Category.objects.all(),
        to_field_name="name",
        error_messages={"invalid_choice": gettext_lazy("Unknown category %(value)s.")},
    )
    supplier = forms.ModelChoiceField(
        Supplier.objects.all(),
        to_field_name="name",
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Unknown supplier %(value)s.")},
    )
    variant_of = forms.ModelChoiceField(
        Product.objects.all(),
        to_field_name="sku",
        required=False,
        error_messages={"invalid_choice": "No product has the SKU %(value)s."},
    )

    class Meta:
        model = Product
        fields = COLUMNS


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)  # {"row", "column", "message"}
    warnings: list[str] = field(default_factory=list)  # allowed, but worth a look

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})

    def error_lines(self) -> list[str]:
        return [
            f"Row {e['row']}"
            + (f", column {e['column']}" if e["column"] else "")
            + f": {e['message']}"
            for e in self.errors
        ]


def _read_rows(data: bytes | str, report: ImportReport) -> list[tuple[int, dict]]:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            report.error(1, "", gettext("The file is not UTF-8 text. Save it as CSV UTF-8."))
            return []
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = next(reader, None)
        if not header:
            report.error(1, "", gettext("The file is empty: expected a header row."))
            return []
        header = [h.strip().lower() for h in header]
        if not _header_ok(header, report):
            return []
        rows = []
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                report.error(
                    line,
                    "",
                    gettext("Expected %(header)s values, found %(values)s.")
                    % {"header": len(header), "values": len(values)},
                )
                continue
            cells = zip(header, values, strict=True)
            rows.append((line, {h: unneutralise(v.strip()) for h, v in cells}))
            if len(rows) > MAX_ROWS:
                report.error(
                    line,
                    "",
                    gettext("Too many rows: import at most %(max_rows)s at a time.")
                    % {"max_rows": MAX_ROWS},
                )
                return []
        return rows
    except csv.Error as exc:
        report.error(reader.line_num, "", gettext("Malformed CSV: %(exc)s.") % {"exc": exc})
        return []


def _header_ok(header: list[str], report: ImportReport) -> bool:
    """Every column known, the required ones present, none twice; each problem reported."""
    unknown = [h for h in header if h not in COLUMNS]
    missing = REQUIRED_COLUMNS - set(header)
    if unknown:
        report.error(
            1,
            ", ".join(unknown),
            gettext("Unknown column(s). Allowed: %(columns)s.") % {"columns": ", ".join(COLUMNS)},
        )
    if missing:
        report.error(1, ", ".join(sorted(missing)), gettext("Required column(s) missing."))
    if len(set(header)) != len(header):
        report.error(1, "", gettext("A column appears twice in the header."))
    return not report.errors


def import_products(*, data: bytes | str, user=None, dry_run: bool = False) -> ImportReport:
    """Validate every row, then (unless `dry_run` or any error) create/update all in one go."""
    if user is not None and not user.has_perm("pos.import_products"):
        raise PermissionDenied(gettext("You are not allowed to import products."))
    report = ImportReport(dry_run=dry_run)
    rows = _read_rows(data, report)
    report.rows = len(rows)
    valid = _validate_rows(rows, report)
    report.created = sum(1 for form in valid if form.instance.pk is None)
    report.updated = len(valid) - report.created
    if report.errors:
        report.created = report.updated = 0
    elif not dry_run:
        _write(valid, user)
    return report


def _validate_rows(rows: list[tuple[int, dict]], report: ImportReport) -> list[forms.ModelForm]:
    """A bound, valid form per good row; each bad cell (and each repeated SKU or barcode) is
    reported, all at once."""
    existing = Product.objects.in_bulk(
        [r["sku"] for _, r in rows if r.get("sku")], field_name="sku"
    )
    seen: dict[str, dict[str, int]] = {"sku": {}, "barcode": {}}
    valid = []
    for line, row in rows:
        instance = existing.get(row.get("sku", ""))
        form = ProductImportForm(data=_with_defaults(row, instance), instance=instance)
        for column, lines in seen.items():
            value = row.get(column, "")
            if value and value in lines:
                report.error(
                    line,
                    column,
                    gettext("%(value)s already appears in row %(row)s.")
                    % {"value": value, "row": lines[value]},
                )
            elif value:
                lines[value] = line
        if not form.is_valid():
            for column, messages in form.errors.items():
                for message in messages:
                    report.error(line, "" if column == "__all__" else column, message)
            continue
        if form.instance.cost_exceeds_retail:
            report.warnings.append(
                f"Row {line}: cost price {form.instance.cost_price} is above retail price "
                f"{form.instance.retail_price}."
            )
        valid.append(form)
    return valid


def _write(valid: list[forms.ModelForm], user) -> None:
    """Create the new products and change the existing ones in one transaction. Existing rows
    are locked (by pk) and only the columns that change are written, so stock sold since the
    file was read stays sold."""
    with transaction.atomic():
        locked = locks.products(form.instance.pk for form in valid if form.instance.pk)
        created = []
        for form in valid:
            product = form.instance  # the row's values, set by the form's validation
            if product.pk is None:
                product.created_by = product.updated_by = user
                product.save(force_insert=True)
                created.append(product)
            else:
                fields = {name: getattr(product, name) for name in COLUMNS}
                write_product_changes(locked[product.pk], fields, user=user, validate=False)
        add_stock_levels(products=created)  # at 0 in every store


# What a blank cell of a new product takes (minimum_price: the row's retail price).
NEW_PRODUCT_DEFAULTS = {
    "cost_price": "0",
    "reorder_level": "0",
    "quantity_places": "0",
    "unit": StockUnit.PIECE,
    "attributes": "{}",
    "status": ProductStatus.ACTIVE,
}


def _with_defaults(row: dict, instance: Product | None) -> dict:
    """Blank optional cells keep the product's value on update, take a default on create."""
    merged = dict(row)
    for column in COLUMNS:
        if merged.get(column, "") != "":
            continue
        if instance is not None:
            merged[column] = _cell(instance, column)
        elif column == "minimum_price":
            merged[column] = row.get("retail_price", "")
        elif column in NEW_PRODUCT_DEFAULTS:
            merged[column] = NEW_PRODUCT_DEFAULTS[column]
    return merged


def _cell(product: Product, column: str):
    """A product's value as the import form reads it back."""
    value = getattr(product, column)
    if column in ("category", "supplier"):
        return value.name if value else ""
    if column == "variant_of":
        return value.sku if value else ""
    if column == "attributes":
        return json.dumps(value or {})
    return "" if value is None else value


def export_products(queryset, out) -> int:
    """Write products as CSV (the import's columns) to the text stream `out`; returns rows."""
    writer = csv_writer(out)
    writer.writerow(COLUMNS)
    n = 0
    products = queryset.select_related("category", "supplier", "variant_of").order_by("sku")
    for p in products.iterator(2000):
        cells = {
            "barcode": p.barcode or "",
            "category": p.category.name,
            "supplier": p.supplier.name if p.supplier else "",
            "wholesale_price": "" if p.wholesale_price is None else p.wholesale_price,
            "reorder_level": normalised(p.reorder_level),
            "variant_of": p.variant_of.sku if p.variant_of else "",
            "attributes": json.dumps(p.attributes, ensure_ascii=False) if p.attributes else "",
            "scale_code": "" if p.scale_code is None else p.scale_code,
        }
        writer.writerow([cells[c] if c in cells else getattr(p, c) for c in COLUMNS])
        n += 1
    return n
