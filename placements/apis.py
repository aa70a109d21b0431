"""API: placement requests (council case systems), publishing them to tender, and placements."""

from decimal import Decimal

import django_filters
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import F, OuterRef, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bidding.apis import TenderOutput
from bidding.selectors import tender_list
from bidding.services import tender_publish
from blockbeds.apis import BlockOfferOutput
from blockbeds.selectors import block_offer_summaries
from lots.models import Lot
from organisations.api_permissions import HasScope, IsAnyRole, IsCouncilUser
from organisations.models import ApiClient
from providers.apis import SpecialismCodesField
from providers.models import CareHome, Specialism

from .models import Placement, PlacementRequest
from .selectors import placement_list, placement_request_list
from .services import placement_request_create

PROBLEMS = {
    400: OpenApiResponse(description="Invalid request (problem details with `errors` per field)."),
    403: OpenApiResponse(description="Your role or API client's scopes do not allow this."),
    404: OpenApiResponse(description="No such placement request, or not your organisation's."),
}


class TenderSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    closes_at = serializers.DateTimeField()

    def get_status(self, tender) -> str:
        return tender.status if tender.status != "open" or tender.is_open else "closed"


class PlacementRequestOutput(serializers.ModelSerializer):
    # These read what `_listed` and `_with_tenders_and_offers` give each request: a page's worth
    # in a few queries, with no lot, home or specialism objects to build.
    lot = serializers.IntegerField(source="lot_number")
    specialisms = SpecialismCodesField(source="specialism_codes", read_only=True)
    preferred_home = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    tenders = TenderSummaryOutput(source="tender_summaries", many=True, read_only=True)
    block_offer = BlockOfferOutput(source="block_offer_summary", read_only=True)

    class Meta:
        model = PlacementRequest
        fields = [
            "id",
            "case_reference",
            "lot",
            "needs_summary",
            "specialisms",
            "local_authority",
            "latitude",
            "longitude",
            "max_distance_km",
            "needed_from",
            "max_weekly_rate",
            "preferred_home",
            "status",
            "requested_at",
            "target_date",
            "sourced_at",
            "cancel_reason",
            "tenders",
            "block_offer",
        ]


class PlacementRequestInput(serializers.Serializer):
    case_reference = serializers.CharField(max_length=64)
    lot = serializers.SlugRelatedField(slug_field="number", queryset=Lot.objects.all())
    needs_summary = serializers.CharField()
    specialisms = serializers.SlugRelatedField(
        slug_field="code", queryset=Specialism.objects.all(), many=True, required=False
    )
    local_authority = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
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


def _listed(requests):
    """Requests with their lot number and specialism codes read in the same query."""
    requests = requests.select_related(None).prefetch_related(None).annotate(lot_number=F("lot__number"))
    if connection.vendor != "postgresql":
        # SQLite (the demo) has no array subqueries: the specialisms come by prefetch, as objects.
        return requests.prefetch_related(Prefetch("specialisms", to_attr="specialism_codes"))
    codes = Specialism.objects.filter(placement_requests=OuterRef("pk")).order_by("name").values("code")
    return requests.annotate(specialism_codes=ArraySubquery(codes))


def _with_tenders_and_offers(actor, requests: list[PlacementRequest]) -> list[PlacementRequest]:
    """Give each request its tenders and its block-bed offer, for the whole list at once."""
    grouped: dict = {}
    ids = [r.pk for r in requests]
    if ids:
        for tender in tender_list(actor=actor).filter(request_id__in=ids).order_by("opened_at", "pk"):
            grouped.setdefault(tender.request_id, []).append(tender)
    offers = block_offer_summaries(requests=requests)
    for placement_request in requests:
        placement_request.tender_summaries = grouped.get(placement_request.pk, [])
        placement_request.block_offer_summary = offers[placement_request.pk]
    return requests


class PlacementRequestListCreateApi(ListAPIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS
    serializer_class = PlacementRequestOutput
    filterset_class = PlacementRequestFilter

    def get_queryset(self):
        return _listed(placement_request_list(actor=self.request.user))

    def list(self, request, *args, **kwargs):
        page = _with_tenders_and_offers(
            request.user, list(self.paginate_queryset(self.filter_queryset(self.get_queryset())))
        )
        return self.get_paginated_response(PlacementRequestOutput(page, many=True).data)

    @extend_schema(
        summary="Your placement requests",
        tags=["placements"],
        responses={200: PlacementRequestOutput(many=True), **PROBLEMS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Request a placement (brokers)",
        description="The maximum weekly rate defaults to the lot's guide fee; the target date follows the lot.",
        tags=["placements"],
        request=PlacementRequestInput,
        responses={201: PlacementRequestOutput, **PROBLEMS},
    )
    def post(self, request):
        data = PlacementRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = placement_request_create(actor=request.user, **data.validated_data)
        created = _listed(placement_request_list(actor=request.user)).get(pk=created.pk)
        _with_tenders_and_offers(request.user, [created])
        return Response(PlacementRequestOutput(created).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="One placement request", tags=["placements"], responses={200: PlacementRequestOutput, **PROBLEMS}
)
class PlacementRequestDetailApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request, pk: int):
        placement_request = _listed(placement_request_list(actor=request.user)).filter(pk=pk).first()
        if placement_request is None:
            raise Http404("No such placement request.")
        _with_tenders_and_offers(request.user, [placement_request])
        return Response(PlacementRequestOutput(placement_request).data)


class PublishInput(serializers.Serializer):
    closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


@extend_schema(
    summary="Publish a request to tender (brokers)",
    description="Invites every eligible home. Refused, with the reason, when no home is eligible.",
    tags=["placements"],
    request=PublishInput,
    responses={
        201: TenderOutput,
        **PROBLEMS,
        409: OpenApiResponse(description="The request already has a tender under way or was decided."),
    },
)
class PlacementRequestPublishApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int):
        placement_request = get_object_or_404(placement_request_list(actor=request.user), pk=pk)
        data = PublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        tender = tender_publish(actor=request.user, request=placement_request, **data.validated_data)
        tender = tender_list(actor=request.user).get(pk=tender.pk)
        return Response(TenderOutput(tender, context={"request": request}).data, status=status.HTTP_201_CREATED)


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
