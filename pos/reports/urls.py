from django.urls import path

from pos.reports import mobile_money, views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sales/", views.sales, name="sales"),
    path("profit/", views.profit, name="profit"),
    path("inventory/", views.inventory, name="inventory"),
    path("shifts/", views.shifts, name="shifts"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift_detail"),
    path("customers/", views.customers, name="customers"),
    path("suspicious/", views.suspicious_activity, name="suspicious"),
    path("mobile-money/", mobile_money.reconciliation, name="mobile_money"),
]
