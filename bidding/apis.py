"""API: tenders, sealed bids, the evaluation and the award.

Amounts follow bidding.selectors: a provider reads its own bids only; the commissioning body
reads amounts only once the tender has closed.
"""

from decimal import Decimal

import django_filters
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import created
from core.clock import request_receipt
from core.errors import ConflictError
from organisations.api_permissions import HasScope, IsAnyRole, IsBroker, IsCouncilUser, IsProviderUser
from organisations.models import ApiClient
from organisations.permissions import is_council_user
from placements.apis import PlacementOutput
from providers.models import CareHome, Specialism

from .models import Award, Bid, Invitation, Tender
from .selectors import (
    INBOX_STATES,
    bid_amounts_visible,
    bid_disclosure,
    bid_get,
    invitation_inbox_state,
    invitation_inbox_state_q,
    invitation_list,
    other_bids,
    own_bids_for_tender,
    ranked_bids,
    tender_get,
    tender_is_open,
    tender_state_code,
)
from .services import bid_amend, bid_submit, bid_withdraw, tender_award, tender_close_and_evaluate

PROBLEMS = {
    400: OpenApiResponse(description="Invalid request (problem details with `errors` per field)."),
    403: OpenApiResponse(description="Your role or API client's scopes do not allow this."),
    404: OpenApiResponse(description="No such tender or bid, or not one you were invited to."),
}
CLOSED = {409: OpenApiResponse(description="The tender has closed (or is not yet closed, for the evaluation).")}


class ScoreWorkingOutput(serializers.Serializer):
    """How a bid's scores were worked out (bidding.scoring): the figures and each sum in words."""

    weekly_fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    lowest_valid_fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    price_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    price_working = serializers.CharField()
    rating = serializers.CharField(help_text="CQC overall rating the quality score comes from")
    quality_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    quality_working = serializers.CharField()
    quality_weight = serializers.IntegerField()
    price_weight = serializers.IntegerField()
    total_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    total_working = serializers.CharField()
    max_weekly_rate = serializers.DecimalField(max_digits=10, decimal_places=2)
    above_max_rate = serializers.BooleanField()
    rank = serializers.IntegerField()


@extend_schema_field(ScoreWorkingOutput)
class ScoreWorkingField(serializers.JSONField):
    """The stored working as it is, described field by field in the schema."""


class OwnBidOutput(serializers.ModelSerializer):
    """A provider's own bid; scores and rank appear once the tender is awarded."""

    care_home_name = serializers.CharField(source="care_home.name")
    outcome = serializers.SerializerMethodField()
    rank = serializers.SerializerMethodField()
    total_score = serializers.SerializerMethodField()
    working = serializers.SerializerMethodField()

    class Meta:
        model = Bid
        fields = [
            "id",
            "tender",
            "care_home",
            "care_home_name",
            "weekly_fee",
            "earliest_start",
            "needs_confirmed",
            "notes",
            "status",
            "excluded_reason",
            "submitted_at",
            "updated_at",
            "outcome",
            "rank",
            "total_score",
            "working",
        ]

    def _disclosure(self, bid):
        return bid_disclosure(actor=self.context["request"].user, tender=bid.tender)

    def _ranks_shown(self, bid) -> bool:
        """Rank, score and working: the provider reads its own once `bid_disclosure` allows."""
        return self._disclosure(bid).ranks

    def get_outcome(self, bid) -> str | None:
        if not self._disclosure(bid).outcomes or bid.status != Bid.Status.SUBMITTED:
            return None
        return "won" if hasattr(bid, "award") else "unsuccessful"

    def get_rank(self, bid) -> int | None:
        return bid.rank if self._ranks_shown(bid) else None

    @extend_schema_field(serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True))
    def get_total_score(self, bid):
        return f"{bid.total_score}" if self._ranks_shown(bid) and bid.total_score is not None else None

    @extend_schema_field(ScoreWorkingOutput(allow_null=True))
    def get_working(self, bid):
        return bid.working if self._ranks_shown(bid) and bid.working else None


class NeedsProfileOutput(serializers.Serializer):
    """The anonymised request: what every invited provider sees."""

    lot = serializers.IntegerField(source="lot.number")
    lot_name = serializers.CharField(source="lot.name")
    needs_summary = serializers.CharField()
    specialisms = serializers.SlugRelatedField(many=True, slug_field="code", queryset=Specialism.objects.all())
    local_authority = serializers.CharField()
    needed_from = serializers.DateField()
    max_weekly_rate = serializers.DecimalField(max_digits=10, decimal_places=2)


class TenderOutput(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    is_open = serializers.SerializerMethodField()
    request_id = serializers.SerializerMethodField()
    case_reference = serializers.SerializerMethodField()
    needs = NeedsProfileOutput(source="request")
    invited = serializers.SerializerMethodField()
    bids_received = serializers.SerializerMethodField()
    own_bids = serializers.SerializerMethodField()

    class Meta:
        model = Tender
        fields = [
            "id",
            "status",
            "is_open",
            "request_id",
            "case_reference",
            "needs",
            "opened_at",
            "closes_at",
            "closed_at",
            "evaluated_at",
            "quality_weight",
            "price_weight",
            "max_weekly_rate",
            "award_rule",
            "sourcing",
            "invited",
            "bids_received",
            "own_bids",
        ]

    def _user(self):
        return self.context["request"].user

    def _council(self, tender) -> bool:
        return is_council_user(self._user()) and self._user().organisation_id == tender.request.commissioner_id

    def get_status(self, tender) -> str:
        return tender_state_code(tender)

    def get_is_open(self, tender) -> bool:
        return tender_is_open(tender)

    def get_request_id(self, tender) -> int | None:
        return tender.request_id if self._council(tender) else None

    def get_case_reference(self, tender) -> str | None:
        """The person's reference: the commissioning body always, a provider only once it has won."""
        if self._council(tender):
            return tender.request.case_reference
        award = Award.objects.filter(tender=tender, bid__provider_id=self._user().organisation_id).first()
        return tender.request.case_reference if award else None

    def get_invited(self, tender) -> int | None:
        return tender.invitations.count() if self._council(tender) else None

    def get_bids_received(self, tender) -> int | None:
        return tender.bids.filter(status=Bid.Status.SUBMITTED).count() if self._council(tender) else None

    @extend_schema_field(OwnBidOutput(many=True))
    def get_own_bids(self, tender):
        bids = own_bids_for_tender(actor=self._user(), tender=tender)
        return OwnBidOutput(bids, many=True, context=self.context).data


class InvitationTenderOutput(serializers.Serializer):
    """The tender an invitation is to: enough to bid on it through `/tenders/{id}/bids/`."""

    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    is_open = serializers.SerializerMethodField()
    lot = serializers.IntegerField(source="request.lot.number")
    lot_name = serializers.CharField(source="request.lot.name")
    opened_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    max_weekly_rate = serializers.DecimalField(max_digits=10, decimal_places=2)

    def get_status(self, tender) -> str:
        return tender_state_code(tender)

    def get_is_open(self, tender) -> bool:
        return tender_is_open(tender)


class InvitedCareHomeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InvitationOutput(serializers.ModelSerializer):
    """One of the provider's invitations to tender, with the anonymised needs and its own bid."""

    state = serializers.SerializerMethodField(
        help_text="open: the home may bid; won or lost: the award went to its bid or another; closed: otherwise."
    )
    care_home = InvitedCareHomeOutput()
    tender = InvitationTenderOutput()
    needs = NeedsProfileOutput(source="tender.request")
    bid = serializers.SerializerMethodField(help_text="The home's own bid on the tender, if it has made one.")

    class Meta:
        model = Invitation
        fields = [
            "id",
            "state",
            "status",
            "invited_at",
            "withdrawn_reason",
            "distance_km",
            "care_home",
            "tender",
            "needs",
            "bid",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=INBOX_STATES))
    def get_state(self, invitation) -> str:
        return invitation_inbox_state(invitation)

    @extend_schema_field(OwnBidOutput(allow_null=True))
    def get_bid(self, invitation) -> dict | None:
        bid = getattr(invitation, "bid", None)
        if bid is None:
            return None
        bid.tender = invitation.tender
        return OwnBidOutput(bid, context=self.context).data


class InvitationFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[(state, state) for state in INBOX_STATES], method="filter_state", label="Where the invitation stands"
    )
    care_home = django_filters.NumberFilter(field_name="care_home_id", label="One of your homes, by id")
    closes_before = django_filters.IsoDateTimeFilter(
        field_name="tender__closes_at", lookup_expr="lt", label="Tenders closing before this time (ISO 8601)"
    )

    class Meta:
        model = Invitation
        fields = ["state", "care_home", "closes_before"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(invitation_inbox_state_q(value))


@extend_schema(
    summary="Your invitations to tender (providers)",
    description=(
        "Every invitation your homes received, newest first, each with its tender, the anonymised needs of the "
        "request and your own bid. Needs the `bids` scope. Councils get 403."
    ),
    tags=["tenders"],
    responses={200: InvitationOutput(many=True), **PROBLEMS},
)
class InvitationListApi(ListAPIView):
    permission_classes = [IsProviderUser, HasScope]
    read_scope = ApiClient.Scope.BIDS
    serializer_class = InvitationOutput
    filterset_class = InvitationFilter

    def get_queryset(self):
        return (
            invitation_list(actor=self.request.user)
            .select_related("bid__care_home")
            .prefetch_related("tender__request__specialisms")
        )


@extend_schema(summary="One tender", tags=["tenders"], responses={200: TenderOutput, **PROBLEMS})
class TenderDetailApi(APIView):
    permission_classes = [IsAnyRole, HasScope]

    def get(self, request, pk: int):
        tender = tender_get(actor=request.user, pk=pk)
        return Response(TenderOutput(tender, context={"request": request}).data)


class BidInput(serializers.Serializer):
    care_home = serializers.PrimaryKeyRelatedField(queryset=CareHome.objects.all())
    weekly_fee = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal(0))
    earliest_start = serializers.DateField()
    needs_confirmed = serializers.BooleanField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class BidAmendInput(serializers.Serializer):
    weekly_fee = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal(0), required=False)
    earliest_start = serializers.DateField(required=False)
    needs_confirmed = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class TenderBidsApi(APIView):
    permission_classes = [IsProviderUser, HasScope]
    required_scope = ApiClient.Scope.BIDS

    @extend_schema(
        summary="Your own bids on a tender (providers)",
        tags=["tenders"],
        responses={200: OwnBidOutput(many=True), **PROBLEMS},
    )
    def get(self, request, pk: int):
        tender = tender_get(actor=request.user, pk=pk)
        bids = own_bids_for_tender(actor=request.user, tender=tender)
        return Response(OwnBidOutput(bids, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Submit a bid (providers)",
        description=(
            "Judged by when the service received the request, on the database clock: received before "
            "the deadline it is decided as on time however long it waited; at or after it, refused with 409."
        ),
        tags=["tenders"],
        request=BidInput,
        responses={201: OwnBidOutput, **PROBLEMS, **CLOSED},
    )
    def post(self, request, pk: int):
        data = BidInput(data=request.data)
        data.is_valid(raise_exception=True)
        # The service reads the tender once, under its lock; a tender the provider was not invited
        # to is "No such tender" there (404), as it is on reading it.
        bid = bid_submit(actor=request.user, tender=pk, received=request_receipt(request), **data.validated_data)
        return created(
            OwnBidOutput(bid, context={"request": request}).data,
            location=request.build_absolute_uri(reverse("api-tender-bid", args=[pk, bid.pk])),
        )


class BidDetailApi(APIView):
    permission_classes = [IsProviderUser, HasScope]
    required_scope = ApiClient.Scope.BIDS

    def _bid(self, request, pk: int, bid_pk: int) -> Bid:
        tender = tender_get(actor=request.user, pk=pk)
        return bid_get(actor=request.user, tender=tender, pk=bid_pk)

    @extend_schema(summary="One of your bids", tags=["tenders"], responses={200: OwnBidOutput, **PROBLEMS})
    def get(self, request, pk: int, bid_pk: int):
        return Response(OwnBidOutput(self._bid(request, pk, bid_pk), context={"request": request}).data)

    @extend_schema(
        summary="Amend your bid before the deadline",
        tags=["tenders"],
        request=BidAmendInput,
        responses={200: OwnBidOutput, **PROBLEMS, **CLOSED},
    )
    def patch(self, request, pk: int, bid_pk: int):
        bid = self._bid(request, pk, bid_pk)
        data = BidAmendInput(data=request.data)
        data.is_valid(raise_exception=True)
        bid = bid_amend(actor=request.user, bid=bid, received=request_receipt(request), **data.validated_data)
        return Response(OwnBidOutput(bid, context={"request": request}).data)

    @extend_schema(
        summary="Withdraw your bid before the deadline",
        tags=["tenders"],
        responses={204: None, **PROBLEMS, **CLOSED},
    )
    def delete(self, request, pk: int, bid_pk: int):
        bid_withdraw(actor=request.user, bid=self._bid(request, pk, bid_pk), received=request_receipt(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RankedBidOutput(serializers.ModelSerializer):
    care_home_name = serializers.CharField(source="care_home.name")
    working = ScoreWorkingField(read_only=True)
    provider = serializers.CharField(source="provider.name")
    rating = serializers.SerializerMethodField()

    class Meta:
        model = Bid
        fields = [
            "id",
            "rank",
            "care_home",
            "care_home_name",
            "provider",
            "rating",
            "weekly_fee",
            "earliest_start",
            "quality_score",
            "price_score",
            "total_score",
            "above_max_rate",
            "working",
            "submitted_at",
            "status",
        ]

    def get_rating(self, bid) -> str:
        return bid.working.get("rating", "")


class NotRankedBidOutput(serializers.Serializer):
    """A bid left out of the ranking (withdrawn or excluded), and why."""

    id = serializers.IntegerField()
    care_home_name = serializers.CharField()
    status = serializers.ChoiceField(choices=Bid.Status.choices)
    reason = serializers.CharField(help_text="Why it was excluded; empty for a withdrawn bid")


class EvaluationOutput(serializers.Serializer):
    tender = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    quality_weight = serializers.IntegerField()
    price_weight = serializers.IntegerField()
    max_weekly_rate = serializers.DecimalField(max_digits=10, decimal_places=2)
    evaluated_at = serializers.DateTimeField()
    ranked = serializers.SerializerMethodField()
    not_ranked = serializers.SerializerMethodField()

    @extend_schema_field(RankedBidOutput(many=True))
    def get_ranked(self, tender):
        return RankedBidOutput(self.context["ranked"], many=True).data

    @extend_schema_field(NotRankedBidOutput(many=True))
    def get_not_ranked(self, tender):
        return [
            {"id": bid.pk, "care_home_name": bid.care_home.name, "status": bid.status, "reason": bid.excluded_reason}
            for bid in other_bids(tender=tender)
        ]


def _evaluated_tender(request, pk: int) -> Tender:
    """The commissioning body's tender, closed and evaluated now if its deadline passed unseen."""
    tender = tender_get(actor=request.user, pk=pk)
    if not bid_amounts_visible(actor=request.user, tender=tender):
        if not is_council_user(request.user):
            raise PermissionDenied("Only the commissioning body sees the evaluation.")
        raise ConflictError("The ranked bids appear once the tender has closed.", code="tender_open")
    if tender.status in (Tender.Status.OPEN, Tender.Status.CLOSED):
        tender_close_and_evaluate(tender_id=tender.pk)
        tender = tender_get(actor=request.user, pk=pk)
    return tender


@extend_schema(
    summary="The ranked bids with each score's working (after the close)",
    tags=["tenders"],
    responses={200: EvaluationOutput, **PROBLEMS, **CLOSED},
)
class TenderEvaluationApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request, pk: int):
        tender = _evaluated_tender(request, pk)
        ranked = ranked_bids(actor=request.user, tender=tender)
        return Response(EvaluationOutput(tender, context={"ranked": ranked}).data)


class AwardInput(serializers.Serializer):
    bid = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    top_up_payer = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    top_up_weekly_amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True, default=None
    )
    start_date = serializers.DateField(required=False, allow_null=True, default=None)
    standstill_waiver_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Urgent placement: waive the lot's standstill period, for this reason.",
    )


class AwardOutput(serializers.ModelSerializer):
    placement = serializers.SerializerMethodField()

    class Meta:
        model = Award
        fields = [
            "id",
            "tender",
            "bid",
            "awarded_at",
            "top_ranked",
            "reason",
            "top_up_weekly_amount",
            "top_up_payer",
            "chosen_by_person",
            "top_up_consent",
            "placement",
        ]

    @extend_schema_field(PlacementOutput)
    def get_placement(self, award):
        return PlacementOutput(award.tender.request.placement).data


@extend_schema(
    summary="Award a ranked bid (brokers)",
    description=(
        "Awarding any bid but the first needs a reason. When the fee is above the council's maximum "
        "rate, the difference is a top-up and `top_up_payer` is required."
    ),
    tags=["tenders"],
    request=AwardInput,
    responses={201: AwardOutput, **PROBLEMS, **CLOSED},
)
class TenderAwardApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int):
        tender = tender_get(actor=request.user, pk=pk)
        data = AwardInput(data=request.data)
        data.is_valid(raise_exception=True)
        bid_id = data.validated_data.pop("bid")
        bid = Bid.objects.filter(tender=tender, pk=bid_id).first() or Bid(pk=bid_id)
        award = tender_award(actor=request.user, tender=tender, bid=bid, **data.validated_data)
        # The award has no address of its own: it is part of the tender, which now shows it.
        return created(
            AwardOutput(award).data, location=request.build_absolute_uri(reverse("api-tender", args=[tender.pk]))
        )
