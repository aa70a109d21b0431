"""API: placements, and what the placement request endpoints (bidding.request_apis) build on."""

from decimal import Decimal

import django_filters
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, CharField, F, OuterRef, When
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import created
from lots.models import Lot
from organisations.api_permissions import HasScope, IsAnyRole, IsBroker, IsDischargeCoordinator
from organisations.models import ApiClient, Organisation
from providers.models import CareHome, Specialism

from .models import Pathway, Placement, PlacementRequest, Urgency
from .next_steps import requests_next_steps, with_next_step
from .selectors import placement_get, placement_list, referral_list
from .services import assessment_outcome_record, referral_create

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
    urgency = serializers.ChoiceField(
        choices=Urgency.choices,
        required=False,
        default=Urgency.PLANNED,
        help_text="Urgent requests are due hours, not days, after the person is ready (or the request).",
    )
    hospital = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.HOSPITAL),
        required=False,
        allow_null=True,
        default=None,
        help_text="Hospital discharges: the slug of the hospital the person leaves (one that refers to you).",
    )
    ward_contact = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Hospital discharges."
    )
    ready_for_discharge_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Hospital discharges: when the person no longer needs a hospital bed (within the last 90 days "
        "or the next 14).",
    )
    pathway = serializers.ChoiceField(
        choices=Pathway.choices, required=False, allow_blank=True, default="", help_text="Hospital discharges."
    )


class NextStepOutput(serializers.Serializer):
    code = serializers.CharField(help_text="What happens next, for machines: e.g. ready_to_award, awaiting_home.")
    label = serializers.CharField(help_text='What happens next, as the pages say it: e.g. "Bids ready to award".')


class ReferralInput(serializers.Serializer):
    commissioner = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.filter(kind__in=[Organisation.Kind.COUNCIL, Organisation.Kind.NHS]),
        help_text="The slug of the council or NHS body your hospital refers the person to.",
    )
    case_reference = serializers.CharField(max_length=64, help_text="The hospital number or council case reference.")
    lot = serializers.SlugRelatedField(slug_field="number", queryset=Lot.objects.all())
    needs_summary = serializers.CharField(help_text="Shown to invited homes: no names, addresses or dates of birth.")
    specialisms = serializers.SlugRelatedField(
        slug_field="code", queryset=Specialism.objects.all(), many=True, required=False
    )
    postcode = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The person's home postcode: homes near it are invited. Blank: homes in the body's area.",
    )
    ward_contact = serializers.CharField(max_length=200)
    ready_for_discharge_at = serializers.DateTimeField(
        help_text="When the person no longer needs a hospital bed (within the last 90 days or the next 14)."
    )
    pathway = serializers.ChoiceField(choices=Pathway.choices)


class ReferralOutput(serializers.ModelSerializer):
    commissioner = serializers.CharField(source="commissioner.slug")
    lot = serializers.IntegerField(source="lot.number")
    next_step = NextStepOutput(read_only=True)
    care_home_name = serializers.SerializerMethodField(
        help_text="The home the person goes to, once the place is awarded; empty before."
    )

    class Meta:
        model = PlacementRequest
        fields = [
            "id",
            "commissioner",
            "case_reference",
            "lot",
            "needs_summary",
            "postcode",
            "urgency",
            "ward_contact",
            "ready_for_discharge_at",
            "pathway",
            "status",
            "next_step",
            "requested_at",
            "target_at",
            "sourced_at",
            "care_home_name",
        ]

    def get_care_home_name(self, referral) -> str:
        return referral.placed_home_name or ""


class PlacementRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PlacementRequest.Status.choices)

    class Meta:
        model = PlacementRequest
        fields = ["status"]


def placement_requests_listed(requests):
    """Requests with their lot number, hospital and specialism codes read in the same query."""
    requests = (
        requests.select_related(None)
        .prefetch_related(None)
        .annotate(lot_number=F("lot__number"), hospital_slug=F("hospital__slug"))
    )
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


def referrals_listed(referrals):
    """Referrals with their next step and, once awarded, the home's name, in one query."""
    decided = [PlacementRequest.Status.AWARDED, PlacementRequest.Status.PLACED]
    return with_next_step(
        referrals.annotate(
            placed_home_name=Case(
                When(status__in=decided, then=F("placement__care_home__name")), default=None, output_field=CharField()
            )
        )
    )


class ReferralListCreateApi(ListAPIView):
    """Hospital discharge teams and their systems: their own hospital's referrals only."""

    permission_classes = [IsDischargeCoordinator, HasScope]
    required_scope = ApiClient.Scope.REFERRALS
    read_scope = ApiClient.Scope.REFERRALS
    serializer_class = ReferralOutput

    def get_queryset(self):
        return referrals_listed(referral_list(actor=self.request.user))

    def list(self, request, *args, **kwargs):
        page = requests_next_steps(list(self.paginate_queryset(self.get_queryset())))
        return self.get_paginated_response(ReferralOutput(page, many=True).data)

    @extend_schema(
        summary="Your hospital's referrals (discharge coordinators)",
        description="Each with what happens next in words; never bids or fees. Needs the `referrals` scope.",
        tags=["referrals"],
        responses={200: ReferralOutput(many=True), **PROBLEMS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Refer a person ready to leave hospital (discharge coordinators)",
        description=(
            "Becomes a hospital-discharge placement request of the chosen council or NHS body, which its brokers "
            "see at once, marked urgent. Needs the `referrals` scope."
        ),
        tags=["referrals"],
        request=ReferralInput,
        responses={201: ReferralOutput, **PROBLEMS},
    )
    def post(self, request):
        data = ReferralInput(data=request.data)
        data.is_valid(raise_exception=True)
        referral = referral_create(actor=request.user, **data.validated_data)
        return created(
            ReferralOutput(_listed_referral(request, referral.pk)).data,
            location=request.build_absolute_uri(reverse("api-referral", args=[referral.pk])),
        )


def _listed_referral(request, pk: int) -> PlacementRequest:
    referral = referrals_listed(referral_list(actor=request.user)).filter(pk=pk).first()
    if referral is None:
        raise Http404("No such referral.")
    return requests_next_steps([referral])[0]


@extend_schema(
    summary="One of your hospital's referrals (discharge coordinators)",
    tags=["referrals"],
    responses={200: ReferralOutput, **PROBLEMS},
)
class ReferralDetailApi(APIView):
    permission_classes = [IsDischargeCoordinator, HasScope]
    required_scope = ApiClient.Scope.REFERRALS
    read_scope = ApiClient.Scope.REFERRALS

    def get(self, request, pk: int):
        return Response(ReferralOutput(_listed_referral(request, pk)).data)
