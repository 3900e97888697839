"""The admin's health dashboard at /admin/health/ (staff only, like the rest of the admin)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from monitoring.dashboard import dashboard_context


def health_dashboard(request):
    context = {
        **admin.site.each_context(request),
        "title": "System health",
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
