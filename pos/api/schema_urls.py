"""The OpenAPI schema and its docs (Swagger UI served from drf-spectacular-sidecar, no CDN).

Redoc is left out: drf-spectacular's Redoc page loads Google Fonts from the internet.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
