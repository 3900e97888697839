"""Forms for the manager screens (admin views). They validate input; services do the work."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from pos import scoping
from pos.models import PRODUCT_EDITABLE_FIELDS, Category, MovementKind, Product, Store
from pos.models.stores import default_store_pk
from pos.quantities import MAX_PLACES
from pos.services.stock import ADJUSTMENT_KINDS


def store_field(**kwargs) -> forms.ModelChoiceField:
    """The store whose stock a back-office screen moves: the active ones, the first preselected."""
    return forms.ModelChoiceField(
        Store.objects.filter(is_active=True).order_by("pk"),
        label=_("Store"),
        empty_label=None,
        initial=default_store_pk,
        **kwargs,
    )


def limit_stores(form: forms.BaseForm, user) -> forms.BaseForm:
    """`form`'s store choices narrowed to the active stores `user` works in (pos.scoping), the
    first of them preselected and kept as `form.default_store`: where a store is left empty the
    screen moves that one's stock, never another store's."""
    stores = scoping.for_user(Store.objects.filter(is_active=True).order_by("pk"), user)
    form.default_store = stores.first()
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField) and field.queryset.model is Store:
            field.queryset = stores
            field.initial = form.default_store.pk if form.default_store else None
    return form


class QuantityField(forms.DecimalField):
    """A quantity in a stock unit with `decimal_places` places (0 for pieces). Shown as the unit
    writes it ("5", not the stored "5.000"), and zeros past its places are no extra places: a
    piece's "5.000" is 5, while "5.5" is refused."""

    def _as_unit_writes(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            try:
                shown = value.quantize(Decimal(1).scaleb(-self.decimal_places))
            except InvalidOperation:  # too many digits: left for the validators to name
                return value
            if shown == value:
                return shown
        return value

    def prepare_value(self, value):
        return self._as_unit_writes(super().prepare_value(value))

    def to_python(self, value):
        return self._as_unit_writes(super().to_python(value))


def quantity_field(places: int = MAX_PLACES, **kwargs) -> QuantityField:
    """An input for a quantity in a stock unit with `places` decimal places (0 for pieces)."""
    kwargs.setdefault("max_digits", 14)
    field = QuantityField(decimal_places=places, **kwargs)
    field.widget.attrs["step"] = "any" if places else "1"
    return field


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = PRODUCT_EDITABLE_FIELDS


class ProductAddForm(ProductAdminForm):
    opening_stock = quantity_field(
        label=_("Opening stock"),
        min_value=0,
        required=False,
        initial=0,
        help_text=_("Units on the shelf now; recorded in the stock ledger."),
    )
    opening_store = store_field(required=False, help_text=_("Where the opening stock is."))


class StockAdjustmentForm(forms.Form):
    store = store_field(required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k.value, k.label) for k in MovementKind if k in ADJUSTMENT_KINDS],
        initial=MovementKind.ADJUSTMENT,
    )
    quantity = quantity_field(
        label=_("Quantity"),
        help_text=_("In the product's stock unit; positive adds stock, negative removes it."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("Enter a quantity other than 0."))
        return quantity


class CountFilterForm(forms.Form):
    store = store_field(required=False, help_text=_("The store whose shelves are counted."))
    category = forms.ModelChoiceField(
        Category.objects.all(),
        required=False,
        label=_("Category"),
        empty_label=_("All categories"),
    )
    search = forms.CharField(required=False, label=_("Name or SKU contains"))


class CountEntryForm(forms.Form):
    """One input per product: `counted_<pk>`; blank means "not counted"."""

    MAX_PRODUCTS = 300

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        for product in self.products:
            self.fields[f"counted_{product.pk}"] = quantity_field(
                product.quantity_places, label=str(product), min_value=0, required=False
            )

    def rows(self):
        for product in self.products:
            yield product, self[f"counted_{product.pk}"]

    def counted(self) -> dict:
        return {
            p.pk: self.cleaned_data[f"counted_{p.pk}"]
            for p in self.products
            if self.cleaned_data.get(f"counted_{p.pk}") is not None
        }


class CsvImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), required=False)
    content = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            data["data"] = upload.read()
        elif data.get("content"):
            data["data"] = data["content"].encode()
        else:
            raise forms.ValidationError(_("Choose a CSV file to upload."))
        return data


class ReceiveForm(forms.Form):
    """One input per outstanding purchase order line: `line_<pk>`."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = quantity_field(
                line.product.quantity_places,
                label=str(line.product),
                min_value=0,
                max_value=line.quantity_outstanding,
                initial=line.quantity_outstanding,
                required=False,
            )

    def rows(self):
        for line in self.lines:
            yield line, self[f"line_{line.pk}"]

    def quantities(self) -> dict:
        return {
            line.pk: self.cleaned_data.get(f"line_{line.pk}") or 0
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }


class StatementPeriodForm(forms.Form):
    """The period of a customer statement (shop-local dates, both included); both optional."""

    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date is before the start date."))
        return cleaned


class TransferReceiveForm(forms.Form):
    """What arrived of a stock transfer: one input per line (`line_<pk>`, 0 to what was sent,
    the quantity sent to start with) and the reason for anything missing."""

    reason = forms.CharField(
        label=_("Reason for the shrinkage"),
        max_length=255,
        required=False,
        help_text=_("Required when less arrived than was sent (broken, lost, stolen...)."),
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = quantity_field(
                line.product.quantity_places,
                label=str(line.product),
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
            )
        self.order_fields([f"line_{line.pk}" for line in self.lines] + ["reason"])

    def rows(self):
        for line in self.lines:
            yield line, self[f"line_{line.pk}"]

    def received(self) -> dict:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] for line in self.lines}

    def clean(self):
        cleaned = super().clean()
        short = any(
            cleaned.get(f"line_{line.pk}") is not None
            and cleaned[f"line_{line.pk}"] < line.quantity
            for line in self.lines
        )
        if short and not (cleaned.get("reason") or "").strip():
            self.add_error(
                "reason", _("Some goods did not arrive: give the reason for the shrinkage.")
            )
        return cleaned
