"""API: placement requests (council case systems) with their tenders and block-bed offer, and
publishing them to tender. Here in bidding because each request is shown with its tenders; the
paths and names are the ones placements always had."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from blockbeds.apis import BlockOfferOutput
from blockbeds.selectors import block_offer_summaries
from organisations.api_permissions import HasScope, IsCouncilUser
from organisations.models import ApiClient
from placements.apis import PROBLEMS, PlacementRequestFilter, PlacementRequestInput, placement_requests_listed
from placements.models import PlacementRequest
from placements.next_steps import requests_next_steps, with_next_step
from placements.selectors import placement_request_list
from placements.services import placement_request_create
from providers.apis import SpecialismCodesField

from .apis import TenderOutput
from .selectors import tender_list, tender_state_code
from .services import tender_publish


class TenderSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    closes_at = serializers.DateTimeField()

    def get_status(self, tender) -> str:
        return tender_state_code(tender)


class NextStepOutput(serializers.Serializer):
    code = serializers.CharField(help_text="What happens next, for machines: e.g. ready_to_award, awaiting_home.")
    label = serializers.CharField(help_text='What happens next, as the pages say it: e.g. "Bids ready to award".')


class PlacementRequestOutput(serializers.ModelSerializer):
    # These read what `placement_requests_listed` and `_with_tenders_and_offers` give each request: a page's worth
    # in a few queries, with no lot, home or specialism objects to build.
    lot = serializers.IntegerField(source="lot_number")
    specialisms = SpecialismCodesField(source="specialism_codes", read_only=True)
    preferred_home = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    tenders = TenderSummaryOutput(source="tender_summaries", many=True, read_only=True)
    block_offer = BlockOfferOutput(source="block_offer_summary", read_only=True)
    next_step = NextStepOutput(read_only=True)

    class Meta:
        model = PlacementRequest
        fields = [
            "id",
            "case_reference",
            "lot",
            "needs_summary",
            "specialisms",
            "local_authority",
            "postcode",
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
            "next_step",
        ]


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
    return requests_next_steps(requests)


class PlacementRequestListCreateApi(ListAPIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS
    serializer_class = PlacementRequestOutput
    filterset_class = PlacementRequestFilter

    def get_queryset(self):
        return with_next_step(placement_requests_listed(placement_request_list(actor=self.request.user)))

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
        listed = with_next_step(placement_requests_listed(placement_request_list(actor=request.user)))
        created = listed.get(pk=created.pk)
        _with_tenders_and_offers(request.user, [created])
        return Response(PlacementRequestOutput(created).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="One placement request", tags=["placements"], responses={200: PlacementRequestOutput, **PROBLEMS}
)
class PlacementRequestDetailApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request, pk: int):
        listed = with_next_step(placement_requests_listed(placement_request_list(actor=request.user)))
        placement_request = listed.filter(pk=pk).first()
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
