from django.urls import path

from fiscal import views

app_name = "fiscal"
urlpatterns = [
    path("reports/x/", views.report, {"kind": "x"}, name="x_report"),
    path("reports/z/", views.report, {"kind": "z"}, name="z_report"),
    path("reports/plu/", views.report, {"kind": "plu"}, name="plu_report"),
    path("sales/<int:pk>/send-later/", views.send_later, name="send_later"),
    path("proformas/<int:pk>/", views.proforma, name="proforma"),
]
