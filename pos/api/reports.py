"""The reports of /reports/ through the API: the same views, forced to their JSON form.

The report pages compute each table once (pos/reports/views.py over pos/reports/queries.py);
here they are reached with API authentication (token or session) and `pos.view_reports`.
Every report takes `store` (a store's id), as the pages do: one of the stores the user works
in, else a 400 naming `store`; none: all of theirs (every store for owners and admins).
Those views read from the replica (`reads_from_replica`, DATABASE_REPLICA_URL) like the pages;
authentication and permissions stay on the primary (tests/deploy/test_read_replica.py).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from pos.api.permissions import RequiredPermissions
from pos.reports import views as report_views

STORE = OpenApiParameter(
    "store",
    OpenApiTypes.INT,
    description="A store's id, one the user works in; none: all of the user's stores "
    "(every store, the consolidated figures, for owners and admins)",
)
PERIOD = [
    STORE,
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (shop time)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (shop time)"),
]
# The error shape is added by pos.api.schema, as for every operation.
ERROR = OpenApiResponse(description="A bad period or store: `fields` names start, end or store")


class ReportView(APIView):
    permission_classes = [RequiredPermissions]
    required_permissions = {"read": ["pos.view_reports"]}
    report = None  # a view function of pos.reports.views

    def get(self, request, **kwargs):
        # DRF has authenticated the user onto the underlying request; the report view answers
        # its tables as JSON when asked for format=json.
        django_request = request._request
        django_request.GET = django_request.GET.copy()
        django_request.GET["format"] = "json"
        return type(self).report(django_request, **kwargs)


def report_view(view, *, parameters=()):
    name = view.__name__

    @extend_schema(
        operation_id=f"reports_{name}",
        parameters=list(parameters),
        responses={200: OpenApiTypes.OBJECT, 400: ERROR},
        tags=["reports"],
    )
    def get(self, request, **kwargs):  # one function per report, so each has its own schema
        return ReportView.get(self, request, **kwargs)

    cls = type(
        f"{name.title().replace('_', '')}ReportView",
        (ReportView,),
        {"report": staticmethod(view), "get": get, "__doc__": f"The {name} report."},
    )
    return cls.as_view()


dashboard = report_view(report_views.dashboard, parameters=[STORE])
sales = report_view(report_views.sales, parameters=PERIOD)
profit = report_view(report_views.profit, parameters=PERIOD)
inventory = report_view(report_views.inventory, parameters=[STORE])
shifts = report_view(report_views.shifts, parameters=PERIOD)
shift_detail = report_view(report_views.shift_detail)
customers = report_view(report_views.customers, parameters=PERIOD)
