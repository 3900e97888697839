"""Selling units, price lists and scale label layouts in the back office, with the layouts'
"test a barcode" box (what the till makes of a scanned code)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from pos.admin.base import ShopAdmin
from pos.models import PriceList, PriceRule, ScaleLabelTemplate, SellingUnit
from pos.services import catalogue as catalogue_services
from pos.services.selling_lines import test_label


def save_selling_unit(request, unit: SellingUnit, form, change: bool) -> None:
    """Through the catalogue services (locked, audited): the edited fields only."""
    if change:
        edited = {name: getattr(unit, name) for name in form.changed_data if name in form.fields}
        edited.pop("product", None)  # a unit stays with its product
        catalogue_services.update_selling_unit(
            selling_unit=unit, user=request.user, validate=False, **edited
        )
    else:
        catalogue_services.create_selling_unit(user=request.user, unit=unit)


@admin.register(SellingUnit)
class SellingUnitAdmin(ShopAdmin):
    list_display = ["product", "name", "factor", "barcode", "price", "is_active"]
    list_select_related = ["product"]
    list_filter = ["is_active"]
    search_fields = ["name", "barcode", "product__name", "product__sku"]
    autocomplete_fields = ["product"]

    def get_readonly_fields(self, request, obj=None):
        return ["product"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        save_selling_unit(request, obj, form, change)

    def delete_model(self, request, obj):
        catalogue_services.delete_selling_unit(selling_unit=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for unit in queryset:
            catalogue_services.delete_selling_unit(selling_unit=unit, user=request.user)


class SellingUnitInline(admin.TabularInline):
    model = SellingUnit
    extra = 0
    fields = ["name", "factor", "barcode", "price", "is_active"]


class PriceRuleInline(admin.TabularInline):
    model = PriceRule
    extra = 1
    fields = ["product", "selling_unit", "min_quantity", "price", "starts_on", "ends_on"]
    autocomplete_fields = ["product"]


@admin.register(PriceList)
class PriceListAdmin(ShopAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [PriceRuleInline]


@admin.register(PriceRule)
class PriceRuleAdmin(ShopAdmin):
    list_display = ["product", "price_list", "selling_unit", "min_quantity", "price", "starts_on",
                    "ends_on"]  # fmt: skip
    list_select_related = ["product", "price_list", "selling_unit"]
    list_filter = ["price_list"]
    search_fields = ["product__name", "product__sku"]
    autocomplete_fields = ["product"]


class LabelTestForm(forms.Form):
    code = forms.CharField(label=_("Scan or type a label"), max_length=32)


@admin.register(ScaleLabelTemplate)
class ScaleLabelTemplateAdmin(ShopAdmin):
    list_display = ["prefix", "name", "item_digits", "value_digits", "value_kind",
                    "value_decimals", "is_active"]  # fmt: skip
    list_filter = ["value_kind", "is_active"]
    change_list_template = "admin/pos/scalelabeltemplate/change_list.html"

    def get_urls(self):
        test = self.admin_site.admin_view(self.test_view)
        return [path("test/", test, name="pos_scalelabeltemplate_test"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "label_form": LabelTestForm()}
        return super().changelist_view(request, extra_context)

    def test_view(self, request):
        """The "test a barcode" box: the parsed product, weight or price and line total."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = LabelTestForm(request.GET or None)
        result = test_label(form.cleaned_data["code"]) if form.is_valid() else None
        return TemplateResponse(
            request,
            "admin/pos/scalelabeltemplate/test.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Test a scale label"),
                "label_form": form,
                "result": result,
            },
        )
