from django.urls import path

from monitoring import endpoints, openmetrics

app_name = "monitoring"

urlpatterns = [
    path("performance", endpoints.performance, name="performance"),
    path("performance/recent", endpoints.recent, name="performance-recent"),
    path("endpoints", endpoints.endpoints, name="endpoints"),
    path("redis", endpoints.redis, name="redis"),
    path("metrics", openmetrics.metrics_view, name="metrics"),
]
