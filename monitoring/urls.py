from django.urls import path

from monitoring import endpoints

app_name = "monitoring"

urlpatterns = [
    path("redis", endpoints.redis, name="redis"),
]
