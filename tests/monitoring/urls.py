"""The project's URLs plus views that log, fail and refuse, for the monitoring tests."""

from django.urls import include, path

from tests.monitoring import views

urlpatterns = [
    path("test/items/<int:pk>/log/", views.log_twice),
    path("test/boom/", views.system_error),
    path("test/refuse/", views.domain_error),
    path("test/database-gone/", views.database_gone),
    path("test/forbidden/", views.forbidden),
    path("test/page/<int:status>/", views.error_page),
    path("test/limited/", views.rate_limited_elsewhere),
    path("api/test/boom/", views.system_error),
    path("api/test/refuse/", views.domain_error),
    path("api/test/protected/", views.ProtectedView.as_view()),
    path("api/test/drf/<str:kind>/", views.DrfErrorView.as_view()),
    path("", include("vevurn.urls")),
]

handler400 = "monitoring.views.bad_request"
handler403 = "monitoring.views.permission_denied"
handler404 = "monitoring.views.page_not_found"
handler500 = "monitoring.views.server_error"
