from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("redis", views.redis, name="redis"),
]
