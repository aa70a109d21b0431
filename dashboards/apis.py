"""API: every dashboard as JSON, the same document the export command writes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from lots.models import Urgency
from organisations.models import ApiClient
from placements.models import Placement

from .permissions import dashboard_commissioner
from .registry import DASHBOARDS, dashboard_run
from .reports.rating_mix import RATING_ORDER


class CanReadDashboards(BasePermission):
    """Systems need the `dashboards` scope; people need a role the dashboard allows."""

    message = "Dashboards need the dashboards scope or a commissioning role."

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return tuple(DASHBOARDS[view.dashboard].roles)

    def scope_for(self, view, method: str) -> str:
        return ApiClient.Scope.DASHBOARDS

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if isinstance(request.auth, ApiClient):
            return request.auth.has_scope(self.scope_for(view, request.method))
        return user.role in self.roles_for(view, request.method)


MONTH_RANGE = [
    OpenApiParameter("from", OpenApiTypes.STR, description="First month, YYYY-MM (default: twelve months ago)"),
    OpenApiParameter("to", OpenApiTypes.STR, description="Last month, YYYY-MM (default: this month)"),
]
URGENCY = [
    OpenApiParameter(
        "urgency",
        OpenApiTypes.STR,
        enum=list(Urgency.values),
        description="Only placements whose request had this urgency (imported history counts as planned); default: all",
    )
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
        "urgency": serializers.CharField(allow_null=True, help_text="The urgency shown; null: all requests"),
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
        "off_dps_choice": inline_serializer(
            "OffDpsChoiceCount",
            {
                "in_county": serializers.IntegerField(),
                "out_of_county": serializers.IntegerField(),
                "in_county_weekly_cost": serializers.CharField(help_text="What the council pays a week, as text."),
                "out_of_county_weekly_cost": serializers.CharField(help_text="What the council pays a week, as text."),
            },
            help_text="Of the placements counted: spot contracts by the person's choice, off the DPS.",
        ),
    },
)

_MONTHS_FIELDS = {"from": serializers.CharField(help_text="YYYY-MM"), "to": serializers.CharField(help_text="YYYY-MM")}
_DECIMAL_TEXT = "A decimal written as text; null when there is nothing to divide."


def _decimal_text(help_text: str = _DECIMAL_TEXT):
    return serializers.CharField(allow_null=True, help_text=help_text)


_COST = {"placements": serializers.IntegerField(), "mean_weekly_cost": _decimal_text("Pounds a week; null: none")}
MEAN_WEEKLY_COST = inline_serializer(
    "MeanWeeklyCost",
    {
        **_MONTHS_FIELDS,
        "months": inline_serializer(
            "MeanWeeklyCostMonth",
            {
                "month": serializers.CharField(help_text="YYYY-MM, Europe/London"),
                "client_groups": inline_serializer(
                    "MeanWeeklyCostCell",
                    {"client_group": serializers.CharField(), "label": serializers.CharField(), **_COST},
                    many=True,
                ),
                "total": inline_serializer("MeanWeeklyCostTotal", _COST),
            },
            many=True,
        ),
    },
)
RATING_MIX = inline_serializer(
    "RatingMix",
    {
        "settings": inline_serializer(
            "RatingMixSetting",
            {
                "setting": serializers.CharField(),
                "label": serializers.CharField(),
                "homes": serializers.IntegerField(),
                "ratings": inline_serializer(
                    "RatingMixCounts",
                    {value.label: serializers.IntegerField() for value in RATING_ORDER},
                    help_text="Homes by CQC overall rating, keyed by the rating's name.",
                ),
                "rated": serializers.IntegerField(),
                "outstanding_or_good": serializers.IntegerField(),
                "percent_outstanding_or_good": _decimal_text(),
            },
            many=True,
        )
    },
)
_BIDS = {
    "tenders": serializers.IntegerField(help_text="Closed tenders"),
    "bids": serializers.IntegerField(),
    "bids_per_tender": _decimal_text(),
    "no_bid_tenders": serializers.IntegerField(),
    "no_bid_percent": _decimal_text(),
}
BIDS_PER_TENDER = inline_serializer(
    "BidsPerTender",
    {
        **_MONTHS_FIELDS,
        "lots": inline_serializer("BidsPerTenderLot", {"lot": serializers.IntegerField(), **_BIDS}, many=True),
        "total": inline_serializer("BidsPerTenderTotal", _BIDS),
    },
)
_DISTRIBUTION = {
    "count": serializers.IntegerField(),
    **{
        part: _decimal_text("Pounds a week; null when there are none")
        for part in ("min", "lower_quartile", "median", "upper_quartile", "max")
    },
}
MARKET = inline_serializer(
    "Market",
    {
        **_MONTHS_FIELDS,
        "rows": inline_serializer(
            "MarketRow",
            {
                "lot": serializers.IntegerField(),
                "area": serializers.CharField(help_text="The bidding home's local authority"),
                "guide_weekly_fee": _decimal_text("The lot's guide fee; null when none is set"),
                "bids": inline_serializer("MarketBidPrices", _DISTRIBUTION),
                "bids_above_guide_fee": serializers.IntegerField(),
                "awarded": inline_serializer("MarketAwardedFees", _DISTRIBUTION),
                "awards_above_guide_fee": serializers.IntegerField(),
            },
            many=True,
        ),
    },
)
AT_RISK = inline_serializer(
    "AtRisk",
    {
        "today": serializers.DateField(),
        "within_days": serializers.IntegerField(),
        "requests": inline_serializer(
            "AtRiskRequest",
            {
                "id": serializers.IntegerField(),
                "case_reference": serializers.CharField(),
                "lot": serializers.IntegerField(),
                "status": serializers.CharField(),
                "requested_at": serializers.DateTimeField(),
                "target_date": serializers.DateField(),
                "days_to_target": serializers.IntegerField(),
                "overdue": serializers.BooleanField(),
                "reason": serializers.CharField(),
                "latest_tender_closes_at": serializers.DateTimeField(allow_null=True),
            },
            many=True,
        ),
        "assessment_reviews_overdue": inline_serializer(
            "AtRiskAssessmentReview",
            {
                "placement": serializers.IntegerField(),
                "request": serializers.IntegerField(allow_null=True),
                "case_reference": serializers.CharField(),
                "care_home": serializers.CharField(),
                "lot": serializers.IntegerField(),
                "review_on": serializers.DateField(),
                "days_overdue": serializers.IntegerField(),
            },
            many=True,
            help_text="Discharge-to-assess stays past their review date with no outcome recorded",
        ),
    },
)
BLOCK_BED_UTILISATION = inline_serializer(
    "BlockBedUtilisation",
    {
        **_MONTHS_FIELDS,
        "at": serializers.DateField(),
        "contracted": serializers.IntegerField(),
        "live": serializers.IntegerField(),
        "filled": serializers.IntegerField(),
        "void": serializers.IntegerField(),
        "occupancy_percent": _decimal_text(),
        "void_cost": _decimal_text("Pounds a week paid for void beds"),
        "months": inline_serializer(
            "BlockBedUtilisationMonth",
            {
                "month": serializers.CharField(help_text="YYYY-MM, Europe/London"),
                "live_bed_days": serializers.IntegerField(),
                "filled_bed_days": serializers.IntegerField(),
                "occupancy_percent": _decimal_text(),
            },
            many=True,
        ),
    },
)


_OUTCOME_COUNTS = inline_serializer(
    "DischargeAssessmentOutcomeCounts",
    {value: serializers.IntegerField() for value in Placement.AssessmentOutcome.values},
    help_text="Discharge-to-assess outcomes that took effect in the month, by outcome.",
)
DISCHARGE = inline_serializer(
    "Discharge",
    {
        **_MONTHS_FIELDS,
        "today": serializers.DateField(help_text="The day overdue reviews are counted on"),
        "urgencies": inline_serializer(
            "DischargeUrgency", {"urgency": serializers.CharField(), "label": serializers.CharField()}, many=True
        ),
        "assessment_outcomes": inline_serializer(
            "DischargeAssessmentOutcome",
            {"outcome": serializers.CharField(), "label": serializers.CharField()},
            many=True,
        ),
        "months": inline_serializer(
            "DischargeMonth",
            {
                "month": serializers.CharField(help_text="YYYY-MM, Europe/London"),
                "urgencies": inline_serializer(
                    "DischargeCell",
                    {
                        "urgency": serializers.CharField(),
                        "referrals": serializers.IntegerField(help_text="Requests made in the month"),
                        "sourced": serializers.IntegerField(help_text="Placements sourced in the month"),
                        "median_hours": _decimal_text(
                            "Median hours from ready for discharge (or the request) to sourced; null: none sourced"
                        ),
                        "p90_hours": _decimal_text("90th percentile of the same hours; null: none sourced"),
                        "within_target": serializers.IntegerField(help_text="Sourced by the target"),
                        "percent_within_target": _decimal_text(),
                        "delayed_days": serializers.IntegerField(
                            allow_null=True,
                            help_text="Europe/London calendar days from ready for discharge to sourced, summed; "
                            "null when none sourced had a ready time",
                        ),
                        "assessment_outcomes": _OUTCOME_COUNTS,
                    },
                    many=True,
                ),
            },
            many=True,
        ),
        "reviews_overdue": serializers.IntegerField(
            help_text="Discharge-to-assess stays past their review date with no outcome today"
        ),
        "vacancies": inline_serializer(
            "DischargeVacancies",
            {
                "fresh_hours": serializers.IntegerField(help_text="A confirmation this recent is fresh"),
                "rows": inline_serializer(
                    "DischargeVacancyRow",
                    {
                        "area": serializers.CharField(help_text="The home's local authority"),
                        "setting": serializers.CharField(),
                        "room_type": serializers.CharField(),
                        "homes": serializers.IntegerField(),
                        "fresh_beds": serializers.IntegerField(),
                        "stale_beds": serializers.IntegerField(),
                        "last_confirmed_at": serializers.DateTimeField(),
                    },
                    many=True,
                ),
            },
            help_text="Free beds now in homes admitted to the body's lots and open to its admissions",
        ),
    },
)


def _schema(summary: str, parameters: list, response, description: str = ""):
    return extend_schema(
        summary=summary,
        description=description,
        tags=["dashboards"],
        parameters=parameters,
        responses={200: response, **ERRORS},
    )


@_schema(
    "Timeliness of sourcing by month and lot",
    MONTH_RANGE + URGENCY,
    TIMELINESS,
    "For each month (Europe/London) and lot: placements sourced, sourced within target and the "
    "percentage (one decimal place, half rounded up; null when nothing was sourced); month totals, "
    "lot totals and the grand total.",
)
class TimelinessApi(DashboardApi):
    dashboard = "timeliness"


@_schema(
    "Placements active on a date by client group, in and out of county",
    AT_DATE,
    PLACEMENTS_BY_CLIENT_GROUP,
)
class PlacementsByClientGroupApi(DashboardApi):
    dashboard = "placements-by-client-group"


@_schema("Mean gross weekly cost by client group and month", MONTH_RANGE, MEAN_WEEKLY_COST)
class MeanWeeklyCostApi(DashboardApi):
    dashboard = "mean-weekly-cost"


@_schema("CQC rating mix of homes admitted to the DPS", [], RATING_MIX)
class RatingMixApi(DashboardApi):
    dashboard = "rating-mix"


@_schema("Bids per closed tender and no-bid rate by lot", MONTH_RANGE, BIDS_PER_TENDER)
class BidsPerTenderApi(DashboardApi):
    dashboard = "bids-per-tender"


@_schema("Bid prices and awarded fees by lot and area against the guide fee", MONTH_RANGE, MARKET)
class MarketApi(DashboardApi):
    dashboard = "market"


_HOMES_BEDS = {"homes": serializers.IntegerField(), "registered_beds": serializers.IntegerField()}
MARKET_POSITION = inline_serializer(
    "MarketPosition",
    {
        "at": serializers.DateField(),
        "area": serializers.CharField(help_text="The body's local authority."),
        "by_lot": inline_serializer("MarketPositionLot", {"lot": serializers.CharField(), **_HOMES_BEDS}, many=True),
        "by_district": inline_serializer(
            "MarketPositionDistrict", {"district": serializers.CharField(), **_HOMES_BEDS}, many=True
        ),
        "good_or_outstanding": inline_serializer(
            "MarketPositionShare",
            {
                "scope": serializers.CharField(help_text="DPS, the body's area, or England."),
                "setting": serializers.CharField(),
                "rated": serializers.IntegerField(),
                "good_or_outstanding": serializers.IntegerField(),
                "percent": _decimal_text(),
            },
            many=True,
        ),
        "vacancy": inline_serializer(
            "MarketPositionVacancy",
            {
                "registered_beds": serializers.IntegerField(),
                "beds_free": serializers.IntegerField(),
                "percent": _decimal_text(),
            },
        ),
        "placements_by_home": inline_serializer(
            "MarketPositionHome",
            {
                "care_home": serializers.CharField(),
                "cqc_location_id": serializers.CharField(),
                "registered_beds": serializers.IntegerField(),
                "body_placements": serializers.IntegerField(),
                "all_placements": serializers.IntegerField(),
                "percent": _decimal_text(),
            },
            many=True,
        ),
    },
)


@_schema(
    "Market position of the DPS against the area and England",
    AT_DATE,
    MARKET_POSITION,
    "Homes and registered beds admitted to each lot and in each district; the share of rated homes that are "
    "Good or Outstanding by setting on the DPS, in the body's area and in England (every registered home in the "
    "imported CQC data); free beds against registered beds on the DPS; and, for each DPS home, the body's "
    "placements active on the day against every body's. Percentages to one decimal place, half rounded up.",
)
class MarketPositionApi(DashboardApi):
    dashboard = "market-position"


@_schema("Open requests past or near their target date", WITHIN_DAYS, AT_RISK)
class AtRiskApi(DashboardApi):
    dashboard = "at-risk"


@_schema("Block bed utilisation", MONTH_RANGE, BLOCK_BED_UTILISATION)
class BlockBedUtilisationApi(DashboardApi):
    dashboard = "block-bed-utilisation"


@_schema(
    "Hospital discharge and urgent placements by month and urgency",
    MONTH_RANGE,
    DISCHARGE,
    "For each month (Europe/London) and urgency: requests made, placements sourced, the median and 90th "
    "percentile hours from ready for discharge (or the request) to sourced, how many were sourced by their "
    "target, the delayed days and the discharge-to-assess outcomes.",
)
class DischargeApi(DashboardApi):
    dashboard = "discharge"


_FUNDING_FIELDS = {
    "lot": serializers.IntegerField(allow_null=True, help_text="The lot number; null for the total"),
    "label": serializers.CharField(),
    "placements": serializers.IntegerField(),
    "mean_weekly_cost_gross": _decimal_text("Pounds a week; null: none"),
    "mean_weekly_cost_net": _decimal_text("Pounds a week less residents' assessed contributions; null: none"),
    "weekly_cost": _decimal_text("Sum of the weekly fees"),
    "weekly_contributions": _decimal_text("Sum of the residents' assessed contributions"),
    "weekly_nhs": _decimal_text("Sum of the FNC, NHS joint funding and CHC shares"),
    "nhs_percent": _decimal_text("NHS shares as a per cent of the weekly cost, one decimal place; null: none"),
    "top_ups": serializers.IntegerField(help_text="Placements with a third-party top-up"),
    "weekly_top_ups": _decimal_text("Sum of the weekly top-ups"),
}
WHO_PAYS = inline_serializer(
    "WhoPays",
    {
        "at": serializers.DateField(),
        "lots": inline_serializer("WhoPaysLot", _FUNDING_FIELDS, many=True),
        "total": inline_serializer("WhoPaysTotal", _FUNDING_FIELDS),
    },
)


@_schema(
    "Who pays: mean weekly cost gross and net of contributions, NHS share and top-ups, by lot",
    AT_DATE,
    WHO_PAYS,
    "For the placements active on the date, each at the funding shares in force that day.",
)
class WhoPaysApi(DashboardApi):
    dashboard = "who-pays"


API_VIEWS = [
    TimelinessApi,
    PlacementsByClientGroupApi,
    MeanWeeklyCostApi,
    RatingMixApi,
    BidsPerTenderApi,
    MarketApi,
    MarketPositionApi,
    AtRiskApi,
    BlockBedUtilisationApi,
    DischargeApi,
    WhoPaysApi,
]
