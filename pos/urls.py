from django.urls import path

from pos import views

app_name = "pos"

urlpatterns = [
    path("sales/<int:pk>/receipt/", views.receipt, name="receipt"),
]
