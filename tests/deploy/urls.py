"""The project's URLs plus test-only views for the gunicorn subprocesses of tests/deploy."""

from django.urls import include, path

from tests.deploy import views

urlpatterns = [
    path("deploy-test/slow-write/", views.slow_write),
    path("deploy-test/whoami/", views.whoami),
    path("", include("vevurn.urls")),
]

handler400 = "monitoring.views.bad_request"
handler403 = "monitoring.views.permission_denied"
handler404 = "monitoring.views.page_not_found"
handler500 = "monitoring.views.server_error"
