from django.urls import path

from pos import views

app_name = "pos"

urlpatterns = [
    path("sales/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("invoices/<int:pk>/", views.invoice, name="invoice"),
    path("customers/<int:pk>/statement/", views.customer_statement, name="customer_statement"),
]
