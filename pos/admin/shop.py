from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from pos.admin.base import ShopAdmin
from pos.models import ShopSettings


@admin.register(ShopSettings)
class ShopSettingsAdmin(ShopAdmin):
    """One record: the list page opens it; it can be added once and never deleted."""

    def has_add_permission(self, request):
        return not ShopSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        shop = ShopSettings.load()
        return HttpResponseRedirect(reverse("admin:pos_shopsettings_change", args=[shop.pk]))
