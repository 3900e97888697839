"""The OpenAPI schema and its docs (Swagger UI served from drf-spectacular-sidecar, no CDN).

Redoc is left out: drf-spectacular's Redoc page loads Google Fonts from the internet.

The docs page is the split Swagger view: its start-up script is served from this same URL
(`?script=`), not inline, and its style comes from a static file (templates/pos/api/
swagger_ui.html), so the Content-Security-Policy needs no 'unsafe-inline'. Swagger UI draws some
icons from `data:` images; that allowance is given to this page only.

The docs page is HTML only: an OPTIONS request gets the allowed methods and no body (DRF's
metadata answer would need a template the HTML renderer has not got).
"""

from csp.decorators import csp_update
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    def options(self, request, *args, **kwargs):
        return HttpResponse(headers={"Allow": ", ".join(self.allowed_methods)})


swagger_ui = csp_update({"img-src": ["data:"]})(
    SwaggerDocsView.as_view(url_name="api-schema", template_name="pos/api/swagger_ui.html")
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", swagger_ui, name="api-docs"),
]
