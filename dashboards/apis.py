"""API: every dashboard as JSON, the same document the export command writes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from organisations.models import ApiClient

from .permissions import dashboard_commissioner
from .registry import DASHBOARDS, dashboard_run


class CanReadDashboards(BasePermission):
    """Systems need the `dashboards` scope; people need a role the dashboard allows."""

    message = "Dashboards need the dashboards scope or a commissioning role."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if isinstance(request.auth, ApiClient):
            return request.auth.has_scope(ApiClient.Scope.DASHBOARDS)
        return user.role in DASHBOARDS[view.dashboard].roles


MONTH_RANGE = [
    OpenApiParameter("from", OpenApiTypes.STR, description="First month, YYYY-MM (default: twelve months ago)"),
    OpenApiParameter("to", OpenApiTypes.STR, description="Last month, YYYY-MM (default: this month)"),
]
AT_DATE = [OpenApiParameter("at", OpenApiTypes.DATE, description="Day the placements are active on (default: today)")]
WITHIN_DAYS = [
    OpenApiParameter(
        "within_days", OpenApiTypes.INT, description="Include requests whose target is this close (default 2)"
    )
]
ERRORS = {
    400: OpenApiResponse(description="A filter is not valid (problem details with errors per field)"),
    401: OpenApiResponse(description="Not signed in"),
    403: OpenApiResponse(description="Not a commissioning body's user, or the client lacks the dashboards scope"),
}


class DashboardApi(APIView):
    permission_classes = [CanReadDashboards]
    dashboard = ""

    def get(self, request):
        dashboard = DASHBOARDS[self.dashboard]
        commissioner = dashboard_commissioner(request.user, roles=dashboard.roles)
        form, report = dashboard_run(dashboard, commissioner=commissioner, data=request.query_params)
        if report is None:
            raise ValidationError({name: list(messages) for name, messages in form.errors.items()})
        return Response(report.as_json())


def _counts(name: str, **extra) -> dict:
    return {
        "name": name,
        "fields": {
            **extra,
            "sourced": serializers.IntegerField(),
            "within_target": serializers.IntegerField(),
            "percent": serializers.CharField(
                allow_null=True, help_text="Per cent to one decimal place, half rounded up; null when none sourced"
            ),
        },
    }


TIMELINESS = inline_serializer(
    "Timeliness",
    {
        "from": serializers.CharField(),
        "to": serializers.CharField(),
        "target_percent": serializers.CharField(),
        "lots": inline_serializer(
            "TimelinessLot", {"number": serializers.IntegerField(), "name": serializers.CharField()}, many=True
        ),
        "months": inline_serializer(
            "TimelinessMonth",
            {
                "month": serializers.CharField(help_text="YYYY-MM, Europe/London"),
                "lots": inline_serializer(**_counts("TimelinessLotCell", lot=serializers.IntegerField()), many=True),
                "total": inline_serializer(**_counts("TimelinessCounts")),
            },
            many=True,
        ),
        "lot_totals": inline_serializer(**_counts("TimelinessLotTotal", lot=serializers.IntegerField()), many=True),
        "total": inline_serializer(**_counts("TimelinessGrandTotal")),
    },
)
_GROUP_FIELDS = {
    "in_county": serializers.IntegerField(),
    "out_of_county": serializers.IntegerField(),
    "total": serializers.IntegerField(),
}
PLACEMENTS_BY_CLIENT_GROUP = inline_serializer(
    "PlacementsByClientGroup",
    {
        "at": serializers.DateField(),
        "client_groups": inline_serializer(
            "ClientGroupCount",
            {"client_group": serializers.CharField(), "label": serializers.CharField(), **_GROUP_FIELDS},
            many=True,
        ),
        "total": inline_serializer(
            "ClientGroupTotal",
            {"client_group": serializers.CharField(), "label": serializers.CharField(), **_GROUP_FIELDS},
        ),
    },
)


def _schema(summary: str, parameters: list, description: str = "", response=OpenApiTypes.OBJECT):
    return extend_schema(
        summary=summary,
        description=description,
        tags=["dashboards"],
        parameters=parameters,
        responses={200: response, **ERRORS},
    )


@_schema(
    "Timeliness of sourcing by month and lot",
    MONTH_RANGE,
    "For each month (Europe/London) and lot: placements sourced, sourced within target and the "
    "percentage (one decimal place, half rounded up; null when nothing was sourced); month totals, "
    "lot totals and the grand total.",
    response=TIMELINESS,
)
class TimelinessApi(DashboardApi):
    dashboard = "timeliness"


@_schema(
    "Placements active on a date by client group, in and out of county",
    AT_DATE,
    response=PLACEMENTS_BY_CLIENT_GROUP,
)
class PlacementsByClientGroupApi(DashboardApi):
    dashboard = "placements-by-client-group"


@_schema("Mean gross weekly cost by client group and month", MONTH_RANGE)
class MeanWeeklyCostApi(DashboardApi):
    dashboard = "mean-weekly-cost"


@_schema("CQC rating mix of homes admitted to the DPS", [])
class RatingMixApi(DashboardApi):
    dashboard = "rating-mix"


@_schema("Bids per closed tender and no-bid rate by lot", MONTH_RANGE)
class BidsPerTenderApi(DashboardApi):
    dashboard = "bids-per-tender"


@_schema("Bid prices and awarded fees by lot and area against the guide fee", MONTH_RANGE)
class MarketApi(DashboardApi):
    dashboard = "market"


@_schema("Open requests past or near their target date", WITHIN_DAYS)
class AtRiskApi(DashboardApi):
    dashboard = "at-risk"


@_schema("Block bed utilisation", MONTH_RANGE)
class BlockBedUtilisationApi(DashboardApi):
    dashboard = "block-bed-utilisation"


API_VIEWS = [
    TimelinessApi,
    PlacementsByClientGroupApi,
    MeanWeeklyCostApi,
    RatingMixApi,
    BidsPerTenderApi,
    MarketApi,
    AtRiskApi,
    BlockBedUtilisationApi,
]
