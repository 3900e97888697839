"""The admin's health dashboard at /admin/health/ (staff only, like the rest of the admin)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from monitoring.dashboard import dashboard_context
from monitoring.models import AlertIncident


def health_dashboard(request):
    context = {
        **admin.site.each_context(request),
        "title": _("System health"),
        **dashboard_context(),
    }
    return TemplateResponse(request, "monitoring/health_dashboard.html", context)


_admin_urls = admin.site.get_urls


def get_urls():
    # admin_view: staff only (others are sent to the admin's sign-in), never cached.
    return [
        path("health/", admin.site.admin_view(health_dashboard), name="health"),
        *_admin_urls(),
    ]


admin.site.get_urls = get_urls


@admin.register(AlertIncident)
class AlertIncidentAdmin(admin.ModelAdmin):
    """The alert history, read only: the rules write it (monitoring/alerts.py)."""

    list_display = ["rule", "key", "fired_at", "resolved_at", "summary"]
    list_filter = ["rule", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["rule", "key", "summary"]
    date_hierarchy = "fired_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
