from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pos.admin.base import ShopAdmin
from pos.models import ShopSettings, Store
from pos.services import shop_logo
from pos.services.stores import EDITABLE_FIELDS, create_store, update_store


class ShopSettingsForm(forms.ModelForm):
    logo = forms.ImageField(
        label=_("logo"),
        required=False,
        help_text=_(
            "PNG or JPEG, shown on the customer display and atop receipts, and printed on "
            "receipt printers in black and white."
        ),
    )
    remove_logo = forms.BooleanField(label=_("remove the logo"), required=False)

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and logo.size > shop_logo.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The image is %(size)s; at most %(limit)s, please.")
                % {
                    "size": filesizeformat(logo.size),
                    "limit": filesizeformat(shop_logo.MAX_UPLOAD_BYTES),
                }
            )
        return logo


@admin.register(ShopSettings)
class ShopSettingsAdmin(ShopAdmin):
    """One record: the list page opens it; it can be added once and never deleted."""

    form = ShopSettingsForm
    readonly_fields = ["logo_updated_at"]

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("logo"):
            shop_logo.set_logo(obj, form.cleaned_data["logo"])
        elif form.cleaned_data.get("remove_logo"):
            shop_logo.remove_logo(obj)
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request):
        return not ShopSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        shop = ShopSettings.load()
        return HttpResponseRedirect(reverse("admin:pos_shopsettings_change", args=[shop.pk]))


@admin.register(Store)
class StoreAdmin(ShopAdmin):
    """The business's stores (docs/operations.md, "Adding a store"): owners and admins add and
    change them, managers look; none is deleted (a closed store is made inactive)."""

    list_display = ["name", "code", "branch_id", "address", "tin", "opening_hours", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "address"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            changed = {
                name: [form.initial.get(name), form.cleaned_data[name]]
                for name in form.changed_data
                if name in EDITABLE_FIELDS  # the staff are saved apart (pos.admin.staff)
            }
            update_store(user=request.user, store=obj, changed=changed)
        else:
            create_store(user=request.user, store=obj)
