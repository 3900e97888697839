from django.urls import path

from fiscal import training_views, views

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
    path("training/", training_views.tills, name="training_tills"),
    path("training/tills/<int:pk>/on/", training_views.start, name="training_start"),
    path("training/tills/<int:pk>/off/", training_views.stop, name="training_stop"),
    path("training/receipts/<int:pk>/", training_views.receipt, name="training_receipt"),
    path(
        "training/receipts/<int:pk>/print/",
        training_views.print_receipt,
        name="training_print",
    ),
    path("training/receipts/<int:pk>/refund/", training_views.refund, name="training_refund"),
]
