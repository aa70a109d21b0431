"""API: placement requests (council case systems) with their tenders and block-bed offer, and
publishing them to tender. Here in bidding because each request is shown with its tenders; the
paths and names are the ones placements always had."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from blockbeds.apis import BlockOfferAcceptInput, BlockOfferDeclineInput, BlockOfferOutput
from blockbeds.selectors import block_bed_get, block_fill_default_start, block_offer_summaries
from blockbeds.services import block_bed_fill, block_offer_decline
from core.api import created
from organisations.api_permissions import HasScope, IsBroker, IsCouncilUser
from organisations.models import ApiClient
from placements.apis import (
    PROBLEMS,
    NextStepOutput,
    PlacementOutput,
    PlacementRequestFilter,
    PlacementRequestInput,
    placement_requests_listed,
)
from placements.models import PlacementRequest
from placements.next_steps import requests_next_steps, with_next_step
from placements.selectors import placement_request_list
from placements.services import placement_request_create
from providers.apis import SpecialismCodesField

from .apis import TenderOutput
from .models import Tender
from .selectors import tender_list, tender_state_code
from .services import tender_publish


class TenderSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    closes_at = serializers.DateTimeField()
    award_rule = serializers.ChoiceField(choices=Tender.AwardRule.choices)
    sourcing = serializers.ChoiceField(choices=Tender.Sourcing.choices, help_text="Which homes were invited.")
    sourcing_note = serializers.CharField(help_text="Which homes were invited, in words (empty for planned requests).")

    def get_status(self, tender) -> str:
        return tender_state_code(tender)


class PlacementRequestOutput(serializers.ModelSerializer):
    # These read what `placement_requests_listed` and `_with_tenders_and_offers` give each request: a page's worth
    # in a few queries, with no lot, home or specialism objects to build.
    lot = serializers.IntegerField(source="lot_number")
    specialisms = SpecialismCodesField(source="specialism_codes", read_only=True)
    preferred_home = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    tenders = TenderSummaryOutput(source="tender_summaries", many=True, read_only=True)
    block_offer = BlockOfferOutput(source="block_offer_summary", read_only=True)
    next_step = NextStepOutput(read_only=True)
    hospital = serializers.CharField(source="hospital_slug", allow_null=True, read_only=True)

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
            "urgency",
            "hospital",
            "ward_contact",
            "ready_for_discharge_at",
            "pathway",
            "target_at",
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
        description=(
            "The maximum weekly rate defaults to the lot's guide fee. The target follows the lot's rules for the "
            "urgency: days for planned requests, hours (`target_at`) for urgent ones. A hospital discharge needs "
            "its hospital, ward contact, ready-for-discharge time and pathway; other requests have none."
        ),
        tags=["placements"],
        request=PlacementRequestInput,
        responses={201: PlacementRequestOutput, **PROBLEMS},
    )
    def post(self, request):
        data = PlacementRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        new_request = placement_request_create(actor=request.user, **data.validated_data)
        placement_request = _listed_request(request, new_request.pk)
        return created(
            PlacementRequestOutput(placement_request).data,
            location=request.build_absolute_uri(reverse("api-placement-request", args=[placement_request.pk])),
        )


@extend_schema(
    summary="One placement request", tags=["placements"], responses={200: PlacementRequestOutput, **PROBLEMS}
)
class PlacementRequestDetailApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request, pk: int):
        return Response(PlacementRequestOutput(_listed_request(request, pk)).data)


def _listed_request(request, pk: int) -> PlacementRequest:
    """One of the caller's requests as the list shows it, with its tenders, offer and next step."""
    listed = with_next_step(placement_requests_listed(placement_request_list(actor=request.user)))
    placement_request = listed.filter(pk=pk).first()
    if placement_request is None:
        raise Http404("No such placement request.")
    _with_tenders_and_offers(request.user, [placement_request])
    return placement_request


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
        return created(
            TenderOutput(tender, context={"request": request}).data,
            location=request.build_absolute_uri(reverse("api-tender", args=[tender.pk])),
        )


BLOCK_OFFER_REFUSALS = {
    409: OpenApiResponse(
        description="The request is no longer new, the bed is no longer void, not live or out of service, the home "
        "is suspended, or the offer was already declined or has no bed (`code` says which)."
    ),
}


@extend_schema(
    summary="Place the person in a block bed on offer (brokers)",
    description=(
        "Block beds come before a tender: fills one of the void block beds in the request's `block_offer` at the "
        "contract's rate, creating the placement and marking the request placed, as the request page does. "
        "Needs the `placement-requests` scope."
    ),
    tags=["placements", "block beds"],
    request=BlockOfferAcceptInput,
    responses={201: PlacementOutput, **PROBLEMS, **BLOCK_OFFER_REFUSALS},
)
class BlockOfferAcceptApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int):
        placement_request = get_object_or_404(placement_request_list(actor=request.user), pk=pk)
        data = BlockOfferAcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        bed = block_bed_get(actor=request.user, pk=data.validated_data["bed"])
        start_date = data.validated_data["start_date"] or block_fill_default_start(placement_request)
        occupancy = block_bed_fill(bed=bed, request=placement_request, actor=request.user, start_date=start_date)
        return created(
            PlacementOutput(occupancy.placement).data,
            location=request.build_absolute_uri(reverse("api-placement-request", args=[placement_request.pk])),
        )


@extend_schema(
    summary="Decline the block beds on offer, with a reason (brokers)",
    description=(
        "The beds stay void, the reason is recorded on the request, and the request may then be published to "
        "tender. The beds are not offered for this request again. Needs the `placement-requests` scope."
    ),
    tags=["placements", "block beds"],
    request=BlockOfferDeclineInput,
    responses={200: PlacementRequestOutput, **PROBLEMS, **BLOCK_OFFER_REFUSALS},
)
class BlockOfferDeclineApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int):
        placement_request = get_object_or_404(placement_request_list(actor=request.user), pk=pk)
        data = BlockOfferDeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        block_offer_decline(request=placement_request, actor=request.user, reason=data.validated_data["reason"])
        return Response(PlacementRequestOutput(_listed_request(request, pk)).data)
