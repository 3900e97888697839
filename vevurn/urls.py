from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from monitoring import health
from monitoring.ratelimit import login_guard

admin.site.site_header = "Vevurn POS"
admin.site.site_title = _("Vevurn POS admin")
admin.site.index_title = _("Shop administration")
# The admin's sign-in obeys the same failed-login limits as the shop's.
admin.site.login = login_guard(admin.site.login)

handler400 = "monitoring.views.bad_request"
handler403 = "monitoring.views.permission_denied"
handler404 = "monitoring.views.page_not_found"
handler500 = "monitoring.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("pos/", include("pos.urls")),
    # No trailing slash, as probes are configured; they resolve, so APPEND_SLASH leaves them be.
    path("api/health/live", health.live, name="health-live"),
    path("api/health/ready", health.ready, name="health-ready"),
    path("api/health/detailed", health.detailed, name="health-detailed"),
    path("reports/", include("pos.reports.urls")),
    path("fiscal/", include("fiscal.urls")),
    path("register/", include("pos.register.urls")),
    path("api/monitoring/", include("monitoring.urls")),
    path("api/v1/", include("pos.api.urls")),
    path("api/", include("pos.api.schema_urls")),
    path("", include("accounts.urls")),
]
