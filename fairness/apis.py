"""API: the person's choice, abnormally low prices, clarification questions, bed holds,
moving to the next ranked bid, standstill and challenges.

Every decision is fairness.services'; these views parse, call and render. Bid amounts follow
bidding.selectors: the commissioning body reads them only once the tender has closed, and a
provider reads only its own.
"""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bidding.apis import AwardOutput
from bidding.models import Award, Bid, Tender
from bidding.selectors import bid_amounts_visible, bid_disclosure, bid_get, tender_get
from core.api import created
from core.errors import ConflictError
from organisations.api_permissions import HasScope, IsAnyRole, IsBroker, IsCouncilUser, IsProviderUser
from organisations.models import ApiClient
from organisations.permissions import is_council_user

from .models import BedHold, Challenge, ClarificationQuestion, LapsedAward, ShortlistLink, Standstill
from .selectors import bid_challenge_eligibility, regime_terms
from .services import (
    MoveOnCause,
    abnormal_price_confirm,
    abnormal_prices,
    award_move_to_next_bid,
    bed_hold_confirm,
    challenge_decide,
    challenge_raise,
    person_choice_for,
    question_answer,
    question_ask,
    shortlist_share,
)

PROBLEMS = {
    400: OpenApiResponse(description="Invalid request (problem details with `errors` per field)."),
    403: OpenApiResponse(description="Your role or API client's scopes do not allow this."),
    404: OpenApiResponse(description="No such tender, bid, question or challenge, or not one you may see."),
}
STATE = {409: OpenApiResponse(description="The tender, award or standstill is not in a state that allows this.")}
TAGS = ["fairness"]


def _council_tender(request, pk: int) -> Tender:
    """The commissioning body's own tender: 404 for anyone else's."""
    tender = tender_get(actor=request.user, pk=pk)
    if not is_council_user(request.user):
        raise Http404("No such tender.")
    return tender


# --- The person's choice -------------------------------------------------------------------


class ShortlistOutput(serializers.ModelSerializer):
    bids = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    chosen_bid = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ShortlistLink
        fields = [
            "id",
            "tender",
            "recipient",
            "bids",
            "created_at",
            "expires_at",
            "revoked_at",
            "chosen_bid",
            "chosen_at",
            "chosen_by_name",
            "top_up_payer",
            "top_up_consent",
        ]


class SharedShortlistOutput(ShortlistOutput):
    url = serializers.SerializerMethodField(help_text="The link to give the person. Returned once: keep it safe.")

    class Meta(ShortlistOutput.Meta):
        fields = [*ShortlistOutput.Meta.fields, "url"]

    def get_url(self, link) -> str:
        return self.context["url"]


class ShortlistInput(serializers.Serializer):
    bids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)
    recipient = serializers.CharField(max_length=200)
    valid_hours = serializers.IntegerField(required=False, default=72, min_value=1, max_value=24 * 14)


class ShortlistListCreateApi(ListAPIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS
    serializer_class = ShortlistOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ShortlistLink.objects.none()
        tender = _council_tender(self.request, self.kwargs["pk"])
        return ShortlistLink.objects.filter(tender=tender).prefetch_related("bids")

    @extend_schema(
        summary="Shortlist links shared on a tender, with any choice made",
        tags=TAGS,
        responses={200: ShortlistOutput(many=True), **PROBLEMS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Share ranked bids with the person (brokers)",
        description=(
            "Once the bids are ranked and before the award. The response carries the link's address "
            "once; only a hash of it is kept."
        ),
        tags=TAGS,
        request=ShortlistInput,
        responses={201: SharedShortlistOutput, **PROBLEMS, **STATE},
        examples=[
            OpenApiExample(
                "Three homes for the person's daughter",
                value={"bids": [41, 42, 43], "recipient": "The person's daughter", "valid_hours": 72},
                request_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        tender = _council_tender(request, pk)
        data = ShortlistInput(data=request.data)
        data.is_valid(raise_exception=True)
        link, token = shortlist_share(
            actor=request.user,
            tender=tender,
            bids=[Bid(pk=bid_id) for bid_id in data.validated_data["bids"]],
            recipient=data.validated_data["recipient"],
            valid_hours=data.validated_data["valid_hours"],
        )
        url = request.build_absolute_uri(reverse("fairness:shortlist", args=[token]))
        response = created(
            SharedShortlistOutput(link, context={"url": url}).data,
            location=request.build_absolute_uri(reverse("api-tender-shortlists", args=[pk])),
        )
        response["Cache-Control"] = "no-store"
        return response


class ChoiceOutput(serializers.Serializer):
    chosen = serializers.BooleanField()
    shortlist = serializers.IntegerField(allow_null=True)
    bid = serializers.IntegerField(allow_null=True)
    care_home = serializers.IntegerField(allow_null=True)
    care_home_name = serializers.CharField(allow_null=True)
    chosen_at = serializers.DateTimeField(allow_null=True)
    chosen_by_name = serializers.CharField(allow_null=True)
    top_up_payer = serializers.CharField(allow_null=True)
    top_up_consent = serializers.BooleanField(allow_null=True)


def _choice(link: ShortlistLink | None) -> dict:
    if link is None:
        return dict.fromkeys(ChoiceOutput().fields, None) | {"chosen": False}
    bid = link.chosen_bid
    return {
        "chosen": True,
        "shortlist": link.pk,
        "bid": bid.pk,
        "care_home": bid.care_home_id,
        "care_home_name": bid.care_home.name,
        "chosen_at": link.chosen_at,
        "chosen_by_name": link.chosen_by_name,
        "top_up_payer": link.top_up_payer,
        "top_up_consent": link.top_up_consent,
    }


@extend_schema(
    summary="The person's recorded choice on a tender",
    description="The most recent choice made on any of the tender's shortlist links; `chosen` is false until one is.",
    tags=TAGS,
    responses={200: ChoiceOutput, **PROBLEMS},
)
class ChoiceApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request, pk: int):
        tender = _council_tender(request, pk)
        link = person_choice_for(tender=tender)
        return Response(ChoiceOutput(_choice(link)).data)


# --- Abnormally low prices -----------------------------------------------------------------


class DeliverabilityOutput(serializers.Serializer):
    median_awarded_fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    provider_statement = serializers.CharField()
    recorded_by = serializers.EmailField(source="recorded_by.email")
    recorded_at = serializers.DateTimeField()


class FlaggedBidOutput(serializers.Serializer):
    bid = serializers.IntegerField(source="pk")
    rank = serializers.IntegerField(allow_null=True)
    care_home = serializers.IntegerField(source="care_home_id")
    care_home_name = serializers.CharField(source="care_home.name")
    provider = serializers.CharField(source="provider.name")
    weekly_fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    confirmation = serializers.SerializerMethodField()

    @extend_schema_field(DeliverabilityOutput(allow_null=True))
    def get_confirmation(self, bid):
        confirmation = getattr(bid, "abnormal_price_confirmation", None)
        return DeliverabilityOutput(confirmation).data if confirmation else None


class AbnormalPricesOutput(serializers.Serializer):
    median_awarded_fee = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="Null when the lot has too few recent awards."
    )
    threshold = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    flagged = FlaggedBidOutput(many=True)


def _closed_council_tender(request, pk: int) -> Tender:
    tender = _council_tender(request, pk)
    if not bid_amounts_visible(actor=request.user, tender=tender):
        raise ConflictError("Bid amounts appear once the tender has closed.", code="tender_open")
    return tender


@extend_schema(
    summary="Bids flagged as abnormally low against the lot's recent awarded fees (after the close)",
    tags=TAGS,
    responses={200: AbnormalPricesOutput, **PROBLEMS, **STATE},
)
class AbnormalPricesApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request, pk: int):
        tender = _closed_council_tender(request, pk)
        flags = abnormal_prices(tender=tender)
        flagged = (
            Bid.objects.filter(pk__in=flags.bid_ids)
            .select_related("care_home", "provider", "abnormal_price_confirmation__recorded_by")
            .order_by("rank", "pk")
        )
        body = {"median_awarded_fee": flags.median, "threshold": flags.threshold, "flagged": flagged}
        return Response(AbnormalPricesOutput(body).data)


class DeliverabilityInput(serializers.Serializer):
    provider_statement = serializers.CharField(
        help_text="What the provider said about delivering the care at this fee."
    )


@extend_schema(
    summary="Record the provider's confirmation that it can deliver at a flagged fee (brokers)",
    tags=TAGS,
    request=DeliverabilityInput,
    responses={201: FlaggedBidOutput, **PROBLEMS, **STATE},
)
class AbnormalPriceConfirmApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int, bid_pk: int):
        tender = _closed_council_tender(request, pk)
        bid = tender.bids.filter(pk=bid_pk).first()
        if bid is None:
            raise Http404("No such bid.")
        data = DeliverabilityInput(data=request.data)
        data.is_valid(raise_exception=True)
        abnormal_price_confirm(actor=request.user, bid=bid, **data.validated_data)
        bid = Bid.objects.select_related("care_home", "provider", "abnormal_price_confirmation__recorded_by").get(
            pk=bid.pk
        )
        return created(
            FlaggedBidOutput(bid).data,
            location=request.build_absolute_uri(reverse("api-tender-bid", args=[pk, bid_pk])),
        )


# --- Clarification questions ---------------------------------------------------------------


class QuestionOutput(serializers.ModelSerializer):
    """Providers see the published answers without who asked, and their own questions."""

    own = serializers.SerializerMethodField()
    provider = serializers.SerializerMethodField(help_text="Who asked: the commissioning body only.")
    asked_at = serializers.SerializerMethodField()

    class Meta:
        model = ClarificationQuestion
        fields = [
            "id",
            "tender",
            "question",
            "answer",
            "answered_at",
            "extended_closes_at",
            "own",
            "provider",
            "asked_at",
        ]

    def _user(self):
        return self.context["request"].user

    def _mine(self, question) -> bool:
        return question.provider_id == self._user().organisation_id

    def get_own(self, question) -> bool:
        return self._mine(question)

    def get_provider(self, question) -> str | None:
        return question.provider.name if is_council_user(self._user()) else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_asked_at(self, question):
        if is_council_user(self._user()) or self._mine(question):
            return serializers.DateTimeField().to_representation(question.asked_at)
        return None


class QuestionInput(serializers.Serializer):
    question = serializers.CharField()


class QuestionListCreateApi(ListAPIView):
    permission_classes = [IsAnyRole, HasScope]
    required_scope = ApiClient.Scope.BIDS
    serializer_class = QuestionOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ClarificationQuestion.objects.none()
        tender = tender_get(actor=self.request.user, pk=self.kwargs["pk"])
        questions = ClarificationQuestion.objects.filter(tender=tender).select_related("provider")
        if is_council_user(self.request.user):
            return questions
        return questions.filter(answered_at__isnull=False) | questions.filter(
            provider_id=self.request.user.organisation_id
        )

    @extend_schema(
        summary="Clarification questions on a tender",
        description=(
            "Invited providers see every published answer, without who asked, and their own questions; "
            "the commissioning body sees every question."
        ),
        tags=TAGS,
        responses={200: QuestionOutput(many=True), **PROBLEMS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Ask a clarification question while the tender is open (invited providers)",
        tags=TAGS,
        request=QuestionInput,
        responses={201: QuestionOutput, **PROBLEMS, **STATE},
    )
    def post(self, request, pk: int):
        tender = tender_get(actor=request.user, pk=pk)
        data = QuestionInput(data=request.data)
        data.is_valid(raise_exception=True)
        asked = question_ask(actor=request.user, tender=tender, **data.validated_data)
        return created(
            QuestionOutput(asked, context={"request": request}).data,
            location=request.build_absolute_uri(reverse("api-tender-questions", args=[pk])),
        )


class AnswerInput(serializers.Serializer):
    answer = serializers.CharField()


@extend_schema(
    summary="Publish the answer to every invited provider (brokers)",
    description="An answer late in the window extends the deadline by the body's settings.",
    tags=TAGS,
    request=AnswerInput,
    responses={200: QuestionOutput, **PROBLEMS, **STATE},
)
class QuestionAnswerApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int, question_pk: int):
        tender = _council_tender(request, pk)
        question = ClarificationQuestion.objects.filter(tender=tender, pk=question_pk).first()
        if question is None:
            raise Http404("No such question.")
        data = AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        answered = question_answer(actor=request.user, question=question, **data.validated_data)
        return Response(QuestionOutput(answered, context={"request": request}).data)


# --- Award, bed hold, standstill and challenges (the commissioning body) --------------------


class BedHoldOutput(serializers.ModelSerializer):
    class Meta:
        model = BedHold
        fields = ["bid", "status", "held_until", "confirm_by", "confirmed_at", "lapsed_at", "lapse_reason"]


class StandstillOutput(serializers.ModelSerializer):
    class Meta:
        model = Standstill
        fields = ["bid", "status", "starts_at", "ends_at", "confirmed_at", "waiver_reason"]


class ChallengeOutput(serializers.ModelSerializer):
    care_home_name = serializers.CharField(source="bid.care_home.name")

    class Meta:
        model = Challenge
        fields = [
            "id",
            "bid",
            "care_home_name",
            "grounds",
            "raised_at",
            "decision",
            "decision_reason",
            "decided_at",
        ]


class LapsedAwardOutput(serializers.ModelSerializer):
    care_home_name = serializers.CharField(source="bid.care_home.name")

    class Meta:
        model = LapsedAward
        fields = ["bid", "care_home_name", "awarded_at", "weekly_fee", "lapsed_at", "lapse_reason", "placement"]


class AwardSummaryOutput(serializers.Serializer):
    bid = serializers.IntegerField(source="bid_id")
    care_home_name = serializers.CharField(source="bid.care_home.name")
    awarded_at = serializers.DateTimeField()
    reason = serializers.CharField()


class AwardStatusOutput(serializers.Serializer):
    tender = serializers.IntegerField()
    regime = serializers.CharField()
    regime_label = serializers.CharField()
    award = AwardSummaryOutput(allow_null=True)
    bed_hold = BedHoldOutput(allow_null=True)
    standstill = StandstillOutput(allow_null=True)
    challenges = ChallengeOutput(many=True)
    lapsed_awards = LapsedAwardOutput(many=True)


@extend_schema(
    summary="The award's bed hold, standstill, challenges and any lapsed awards",
    tags=TAGS,
    responses={200: AwardStatusOutput, **PROBLEMS},
)
class AwardStatusApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request, pk: int):
        tender = _council_tender(request, pk)
        award = Award.objects.filter(tender=tender).select_related("bid__care_home").first()
        standstill = Standstill.objects.filter(bid=award.bid).first() if award else None
        terms = regime_terms(tender.request.commissioner)
        body = {
            "tender": tender.pk,
            "regime": terms["regime"],
            "regime_label": terms["regime_label"],
            "award": award,
            "bed_hold": BedHold.objects.filter(bid=award.bid).first() if award else None,
            "standstill": standstill,
            "challenges": Challenge.objects.filter(standstill=standstill).select_related("bid__care_home")
            if standstill
            else [],
            "lapsed_awards": LapsedAward.objects.filter(tender=tender).select_related("bid__care_home"),
        }
        return Response(AwardStatusOutput(body).data)


class MoveOnInput(serializers.Serializer):
    cause = serializers.ChoiceField(choices=MoveOnCause.CHOICES)
    reason = serializers.CharField()
    top_up_payer = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


@extend_schema(
    summary="Lapse the award and award the next ranked bid (brokers)",
    description=(
        "When the home did not confirm the bed hold in time, the move-in did not happen, or the award "
        "was set aside. The lapsed award's placement is kept, cancelled with the reason."
    ),
    tags=TAGS,
    request=MoveOnInput,
    responses={201: AwardOutput, **PROBLEMS, **STATE},
)
class MoveToNextBidApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int):
        tender = _council_tender(request, pk)
        data = MoveOnInput(data=request.data)
        data.is_valid(raise_exception=True)
        award = award_move_to_next_bid(actor=request.user, tender=tender, **data.validated_data)
        return created(
            AwardOutput(award).data, location=request.build_absolute_uri(reverse("api-tender-award", args=[pk]))
        )


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[Challenge.Decision.DISMISSED, Challenge.Decision.UPHELD])
    reason = serializers.CharField()


@extend_schema(
    summary="Decide a challenge (brokers and commissioners)",
    description="Dismissed: the standstill carries on. Upheld: the award is set aside.",
    tags=TAGS,
    request=DecisionInput,
    responses={200: ChallengeOutput, **PROBLEMS, **STATE},
)
class ChallengeDecisionApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int, challenge_pk: int):
        tender = _council_tender(request, pk)
        challenge = Challenge.objects.filter(standstill__tender=tender, pk=challenge_pk).first()
        if challenge is None:
            raise Http404("No such challenge.")
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        decided = challenge_decide(actor=request.user, challenge=challenge, **data.validated_data)
        return Response(ChallengeOutput(decided).data)


# --- A provider's own bid: bed hold, standstill scores, challenge ---------------------------


class ScoresOutput(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    quality_score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    price_score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    total_score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    quality_working = serializers.CharField(source="working.quality_working", default="")
    price_working = serializers.CharField(source="working.price_working", default="")


class BidOutcomeOutput(serializers.Serializer):
    bid = serializers.IntegerField(source="bid.pk")
    won = serializers.BooleanField()
    bed_hold = BedHoldOutput(allow_null=True)
    standstill = StandstillOutput(allow_null=True)
    own_scores = ScoresOutput(allow_null=True, help_text="Once the award is made.")
    winning_scores = ScoresOutput(allow_null=True, help_text="The winning bid's scores, to unsuccessful bidders.")
    winning_reason = serializers.CharField(allow_null=True)
    challenge = ChallengeOutput(allow_null=True)
    may_challenge = serializers.BooleanField()


def _provider_bid(request, pk: int, bid_pk: int) -> Bid:
    tender = tender_get(actor=request.user, pk=pk)
    return bid_get(actor=request.user, tender=tender, pk=bid_pk)


def _outcome(bid: Bid, *, actor) -> dict:
    tender = bid.tender
    standstill = (
        Standstill.objects.filter(tender=tender)
        .exclude(status=Standstill.Status.SET_ASIDE)
        .select_related("bid__award")
        .first()
    )
    winner = standstill.bid if standstill else None
    lost = winner is not None and winner.pk != bid.pk
    challenge = Challenge.objects.filter(bid=bid).select_related("bid__care_home").first()
    ranks_shown = bid_disclosure(actor=actor, tender=tender).ranks
    return {
        "bid": bid,
        "won": Award.objects.filter(bid=bid).exists(),
        "bed_hold": BedHold.objects.filter(bid=bid).first(),
        "standstill": standstill,
        "own_scores": bid if ranks_shown and bid.rank is not None else None,
        "winning_scores": winner if lost else None,
        "winning_reason": winner.award.reason if lost and hasattr(winner, "award") else None,
        "challenge": challenge,
        "may_challenge": bid_challenge_eligibility(bid=bid).allowed,
    }


@extend_schema(
    summary="Your bid's award, bed hold and standstill, with your score and the winning score",
    tags=TAGS,
    responses={200: BidOutcomeOutput, **PROBLEMS},
)
class BidOutcomeApi(APIView):
    permission_classes = [IsProviderUser, HasScope]
    required_scope = ApiClient.Scope.BIDS

    def get(self, request, pk: int, bid_pk: int):
        return Response(BidOutcomeOutput(_outcome(_provider_bid(request, pk, bid_pk), actor=request.user)).data)


@extend_schema(
    summary="Confirm the bed is held until the start date (the winning provider)",
    tags=TAGS,
    request=None,
    responses={200: BedHoldOutput, **PROBLEMS, **STATE},
)
class BedHoldConfirmApi(APIView):
    permission_classes = [IsProviderUser, HasScope]
    required_scope = ApiClient.Scope.BIDS

    def post(self, request, pk: int, bid_pk: int):
        bid = _provider_bid(request, pk, bid_pk)
        hold = BedHold.objects.filter(bid=bid).first()
        if hold is None:
            raise Http404("No bed hold for this bid.")
        return Response(BedHoldOutput(bed_hold_confirm(actor=request.user, hold=hold)).data)


class ChallengeInput(serializers.Serializer):
    grounds = serializers.CharField()


@extend_schema(
    summary="Challenge the award during the standstill (an unsuccessful provider)",
    tags=TAGS,
    request=ChallengeInput,
    responses={201: ChallengeOutput, **PROBLEMS, **STATE},
)
class ChallengeRaiseApi(APIView):
    permission_classes = [IsProviderUser, HasScope]
    required_scope = ApiClient.Scope.BIDS

    def post(self, request, pk: int, bid_pk: int):
        bid = _provider_bid(request, pk, bid_pk)
        data = ChallengeInput(data=request.data)
        data.is_valid(raise_exception=True)
        challenge = challenge_raise(actor=request.user, bid=bid, **data.validated_data)
        return created(
            ChallengeOutput(challenge).data,
            location=request.build_absolute_uri(reverse("api-tender-bid-outcome", args=[pk, bid_pk])),
        )
