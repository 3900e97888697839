import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pos import scoping
from pos.models import MovementKind, Store

# The "break down by" choices of the sales report (queries.BREAKDOWNS), as headings.
BREAKDOWNS = {
    "product": _("Product"),
    "model": _("Product, variants together"),
    "category": _("Category"),
    "cashier": _("Cashier"),
    "tender": _("Tender"),
    "customer": _("Customer"),
}


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_DAYS = {"day": 400, "week": 5 * 366, "month": 20 * 366}


def report_stores(user) -> tuple[list[tuple[int, str, bool]], frozenset[int] | None, bool]:
    """(the stores `user` may report on as (pk, name, active), what "all" adds up for them,
    whether the shop has more than one store). "All" is None, every store (the consolidated
    figures), for those who see every store (pos.scoping.sees_every_store, the same rule);
    for the others, the set of their stores. One query for owners and admins, two for staff
    (their assignments, then the stores)."""
    mine = scoping.store_ids(user)
    stores = list(
        Store.objects.order_by("-is_active", "name", "pk").values_list("pk", "name", "is_active")
    )
    active = {pk for pk, _name, is_active in stores if is_active}
    several = len(stores) > 1
    if mine is None:
        return stores, None, several
    every = active <= mine
    return [s for s in stores if s[0] in mine], None if every else mine, several


class StoreForm(forms.Form):
    """A report's store picker (issue 29): `store`, one of the stores the user works in, or
    empty: all of them ("All stores", the consolidated figures, for those who see every store;
    "All my stores" for a manager of several). A store one does not work in is no choice: a form
    error, never its figures. A one-store shop shows no picker.

    `cleaned_data["stores"]`: the store pks the report adds up, None for every store."""

    def __init__(self, data=None, *, user=None, **kwargs):
        super().__init__(data, **kwargs)
        self.all_stores = None
        if user is None:
            return
        stores, self.all_stores, several = report_stores(user)
        if not several:
            return
        choices = [(str(pk), name if active else _("%(name)s (closed)") % {"name": name})
                   for pk, name, active in stores]  # fmt: skip
        if self.all_stores is None:
            choices.insert(0, ("", _("All stores")))
        elif len(stores) > 1:
            choices.insert(0, ("", _("All my stores")))
        field = forms.ChoiceField(label=_("Store"), required=False, choices=choices)
        self.fields = {"store": field, **self.fields}

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("store")
        cleaned["stores"] = frozenset({int(chosen)}) if chosen else self.all_stores
        return cleaned


class PeriodForm(StoreForm):
    """A report period in shop dates, both included; defaults to the last 30 days."""

    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("To"), required=False, widget=DATE)

    def __init__(self, data=None, **kwargs):
        # Unset dates show (and mean) the last 30 days, so the inputs are never blank.
        data = data.copy() if data is not None else {}
        today = timezone.localdate()
        if not data.get("end"):
            data["end"] = today.isoformat()
        if not data.get("start"):
            data["start"] = (today - datetime.timedelta(days=29)).isoformat()
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        end = cleaned.get("end") or today
        start = cleaned.get("start") or end - datetime.timedelta(days=29)
        grain = cleaned.get("grain") or ("day" if "grain" in self.fields else "month")
        if end < start:
            self.add_error("end", _("The end date is before the start date."))
        elif (end - start).days >= MAX_DAYS[grain]:
            field = "grain" if "grain" in self.fields else "start"
            self.add_error(field, _("This period is too long to show by %(grain)s; group it by "
                                    "week or month.") % {"grain": grain})  # fmt: skip
        cleaned.update(start=start, end=end, grain=grain)
        return cleaned


class SalesForm(PeriodForm):
    grain = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
    )
    by = forms.ChoiceField(
        label=_("Break down by"),
        required=False,
        choices=list(BREAKDOWNS.items()),
    )


class ProfitForm(PeriodForm):
    by = forms.ChoiceField(
        label=_("Break down by"),
        required=False,
        choices=[("product", _("Product")), ("category", _("Category"))],
    )


class InventoryForm(StoreForm):
    q = forms.CharField(
        label=_("Find product (name, SKU or barcode)"), required=False, max_length=100
    )
    low = forms.BooleanField(label=_("Only low stock"), required=False)
    days = forms.IntegerField(
        label=_("Slow movers: no sale in (days)"), required=False, min_value=1, max_value=3650
    )
    product = forms.CharField(label=_("Movements of product (SKU)"), required=False, max_length=64)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any"))] + list(MovementKind.choices)
    )
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("To"), required=False, widget=DATE)

    def clean_product(self):
        from pos.models import Product

        sku = self.cleaned_data["product"].strip()
        if not sku:
            return None
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise forms.ValidationError(_("No product has this SKU."))
        return product
