from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Vevurn POS"
admin.site.site_title = "Vevurn POS admin"
admin.site.index_title = "Shop administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/monitoring/", include("monitoring.urls")),
    path("", include("accounts.urls")),
]
