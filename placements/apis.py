"""API: placements, and what the placement request endpoints (bidding.request_apis) build on."""

from decimal import Decimal

import django_filters
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from lots.models import Lot
from organisations.api_permissions import HasScope, IsAnyRole, IsBroker
from organisations.models import ApiClient
from providers.models import CareHome, Specialism

from .models import Placement, PlacementRequest
from .selectors import placement_get, placement_list
from .services import assessment_outcome_record

PROBLEMS = {
    400: OpenApiResponse(description="Invalid request (problem details with `errors` per field)."),
    403: OpenApiResponse(description="Your role or API client's scopes do not allow this."),
    404: OpenApiResponse(description="No such placement request, or not your organisation's."),
}


class PlacementRequestInput(serializers.Serializer):
    case_reference = serializers.CharField(max_length=64)
    lot = serializers.SlugRelatedField(slug_field="number", queryset=Lot.objects.all())
    needs_summary = serializers.CharField()
    specialisms = serializers.SlugRelatedField(
        slug_field="code", queryset=Specialism.objects.all(), many=True, required=False
    )
    local_authority = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postcode = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The location as a postcode, e.g. ST16 2LL; or give latitude and longitude instead.",
    )
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90, default=None)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180, default=None)
    max_distance_km = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True, min_value=Decimal(0), default=None
    )
    needed_from = serializers.DateField()
    max_weekly_rate = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, default=None
    )
    preferred_home = serializers.PrimaryKeyRelatedField(
        queryset=CareHome.objects.all(), required=False, allow_null=True, default=None
    )


class PlacementRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PlacementRequest.Status.choices)

    class Meta:
        model = PlacementRequest
        fields = ["status"]


def placement_requests_listed(requests):
    """Requests with their lot number and specialism codes read in the same query."""
    requests = requests.select_related(None).prefetch_related(None).annotate(lot_number=F("lot__number"))
    codes = Specialism.objects.filter(placement_requests=OuterRef("pk")).order_by("name").values("code")
    return requests.annotate(specialism_codes=ArraySubquery(codes))


class PlacementOutput(serializers.ModelSerializer):
    care_home = serializers.PrimaryKeyRelatedField(read_only=True)
    care_home_name = serializers.CharField(source="care_home.name", default="")
    lot = serializers.IntegerField(source="lot.number")
    commissioner = serializers.CharField(source="commissioner.slug")

    class Meta:
        model = Placement
        fields = [
            "id",
            "commissioner",
            "request",
            "case_reference",
            "care_home",
            "care_home_name",
            "lot",
            "source",
            "weekly_fee",
            "council_weekly_amount",
            "top_up_weekly_amount",
            "top_up_payer",
            "start_date",
            "end_date",
            "in_county",
            "requested_at",
            "target_date",
            "sourced_at",
            "cancelled_at",
            "cancel_reason",
            "pathway",
            "assessment_ends_on",
            "review_on",
            "assessment_outcome",
            "assessment_outcome_on",
        ]


class PlacementFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(choices=Placement.Source.choices)

    class Meta:
        model = Placement
        fields = ["source"]


@extend_schema(summary="Placements", tags=["placements"], responses={200: PlacementOutput(many=True), **PROBLEMS})
class PlacementListApi(ListAPIView):
    permission_classes = [IsAnyRole, HasScope]
    serializer_class = PlacementOutput
    filterset_class = PlacementFilter

    def get_queryset(self):
        return placement_list(actor=self.request.user)


class AssessmentOutcomeInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Placement.AssessmentOutcome.choices)
    on = serializers.DateField(help_text="The date the outcome took effect: from the stay's start up to today.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AssessmentOutcomeOutput(PlacementOutput):
    long_term_request = serializers.IntegerField(
        allow_null=True,
        read_only=True,
        help_text="The request for a long-term home raised by the outcome long_term_elsewhere; null otherwise.",
    )

    class Meta(PlacementOutput.Meta):
        fields = [*PlacementOutput.Meta.fields, "long_term_request"]


@extend_schema(
    summary="Record a discharge-to-assess stay's outcome (brokers)",
    description=(
        "For a pathway-3 (discharge to assess) placement: what the review decided and the date it took effect. "
        "Recording the same outcome and date again changes nothing; another outcome once one is recorded is "
        "refused. `long_term_elsewhere` raises a new request for a long-term home, given as `long_term_request`. "
        "Needs the `placement-requests` scope."
    ),
    tags=["placements"],
    request=AssessmentOutcomeInput,
    responses={
        200: AssessmentOutcomeOutput,
        **PROBLEMS,
        409: OpenApiResponse(
            description="Not a discharge-to-assess stay, cancelled, or another outcome is already recorded."
        ),
    },
)
class AssessmentOutcomeApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int):
        placement = placement_get(actor=request.user, pk=pk)
        data = AssessmentOutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        placement = assessment_outcome_record(placement, by=request.user, **data.validated_data)
        placement = placement_get(actor=request.user, pk=pk)
        follow_on = placement.long_term_requests.order_by("-pk").first()
        placement.long_term_request = follow_on.pk if follow_on else None
        return Response(AssessmentOutcomeOutput(placement).data)
