from django.urls import path

from pos import views

app_name = "pos"

urlpatterns = [
    path("logo.png", views.shop_logo, name="shop_logo"),
    path("sales/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("sales/<int:pk>/receipt/print/", views.print_receipt, name="print_receipt"),
    path("sales/<int:pk>/receipt/send/", views.send_receipt, name="send_receipt"),
    path("messages/delivery-report/", views.sms_delivery_report, name="sms_delivery_report"),
    path("refunds/<int:pk>/slip/", views.refund_slip, name="refund_slip"),
    path("refunds/<int:pk>/slip/print/", views.print_refund_slip, name="print_refund_slip"),
    path(
        "account-payments/<int:pk>/receipt/",
        views.account_payment_receipt,
        name="account_payment_receipt",
    ),
    path("momo/requests/", views.momo_request_create, name="momo_request_create"),
    path("momo/requests/<int:pk>/", views.momo_request_detail, name="momo_request_detail"),
    path("momo/airtel/callback/", views.airtel_callback, name="airtel_callback"),
    path("momo/callback/<str:reference_id>/", views.momo_callback, name="momo_callback"),
    path("invoices/<int:pk>/", views.invoice, name="invoice"),
    path("customers/<int:pk>/statement/", views.customer_statement, name="customer_statement"),
]
