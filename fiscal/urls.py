from django.urls import path

from fiscal import views

app_name = "fiscal"
urlpatterns = [
    path("reports/x/", views.report, {"kind": "x"}, name="x_report"),
    path("reports/z/", views.report, {"kind": "z"}, name="z_report"),
    path("reports/plu/", views.report, {"kind": "plu"}, name="plu_report"),
    path("sales/<int:pk>/send-later/", views.send_later, name="send_later"),
    path("sales/<int:pk>/void-receipt/", views.void_receipt, name="void_receipt"),
    path("sales/<int:pk>/void-receipt/print/", views.print_void_receipt, name="print_void_receipt"),
    path("proformas/<int:pk>/", views.proforma, name="proforma"),
    path("proformas/<int:pk>/print/", views.print_proforma_view, name="print_proforma"),
    path("proformas/<int:pk>/send/", views.send_proforma, name="send_proforma"),
    path("till/proforma/", views.till_proforma, name="till_proforma"),
]
