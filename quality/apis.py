"""API: a body's contract monitoring framework, its visits to a home, its complaints and concerns, and the
home's improvement plans."""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError
from lots.models import Lot
from organisations.api_permissions import (
    HasScope,
    IsAnyRole,
    IsAnyRoleProviderWrites,
    IsCouncilUser,
    IsProviderOrCommissioner,
)
from organisations.models import ApiClient, Organisation
from organisations.permissions import is_provider_user
from providers.selectors import care_home_get_for_provider

from .models import (
    QUALITY_PARTS,
    Concern,
    ImprovementAction,
    MonitoringQuestion,
    MonitoringVisit,
    ProviderReturn,
    QualityScoringRule,
    ReturnAnswer,
    ReturnMeasure,
)
from .selectors import (
    care_home_get_for_quality,
    concerns_of,
    improvement_action_get,
    improvement_actions_of,
    monitoring_framework_of,
    monitoring_visits_of,
    provider_returns_of_home,
    quality_scoring_rules_of,
    return_measures_asked,
)
from .services import (
    concern_record,
    improvement_action_add,
    improvement_action_update,
    monitoring_visit_record,
    provider_return_submit,
    quality_scoring_rule_set,
    return_measure_add,
    return_measure_retire,
)

PROBLEMS = {
    400: OpenApiResponse(description="Invalid request (problem details with `errors` per field)."),
    403: OpenApiResponse(description="Your role or API client's scopes do not allow this."),
    404: OpenApiResponse(description="No such care home on your DPS."),
}


class MonitoringQuestionOutput(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringQuestion
        fields = ["id", "domain", "text", "position", "current"]

    def get_current(self, question) -> bool:
        return question.retired_at is None


class MonitoringFrameworkOutput(serializers.Serializer):
    scale_max = serializers.IntegerField(allow_null=True)
    questions = MonitoringQuestionOutput(many=True)


@extend_schema(
    summary="Your body's contract monitoring framework",
    description="Its scale (each question scored from 1 to `scale_max`) and its questions; retired ones have "
    "`current: false`.",
    tags=["quality"],
    responses={200: MonitoringFrameworkOutput, **PROBLEMS},
)
class MonitoringFrameworkApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request):
        framework = monitoring_framework_of(actor=request.user)
        data = {
            "scale_max": framework.scale_max if framework else None,
            "questions": list(framework.questions.all()) if framework else [],
        }
        return Response(MonitoringFrameworkOutput(data).data)


class MonitoringAnswerOutput(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    score = serializers.IntegerField()


class MonitoringVisitOutput(serializers.ModelSerializer):
    care_home = serializers.IntegerField(source="care_home_id")
    answers = MonitoringAnswerOutput(many=True)

    class Meta:
        model = MonitoringVisit
        fields = [
            "id",
            "care_home",
            "visited_on",
            "visitor",
            "findings",
            "scale_max",
            "score",
            "answers",
            "recorded_at",
        ]


class MonitoringAnswerInput(serializers.Serializer):
    question = serializers.IntegerField()
    score = serializers.IntegerField()


class MonitoringVisitInput(serializers.Serializer):
    visited_on = serializers.DateField()
    visitor = serializers.CharField(max_length=120)
    findings = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    answers = MonitoringAnswerInput(many=True, help_text="A score for every current question of the framework.")


class MonitoringVisitsApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    @extend_schema(
        summary="Your body's monitoring visits to a care home",
        description="Newest first, with each question's score. Only your own body's visits.",
        tags=["quality"],
        responses={200: MonitoringVisitOutput(many=True), **PROBLEMS},
    )
    def get(self, request, pk: int):
        home = care_home_get_for_quality(actor=request.user, pk=pk)
        visits = monitoring_visits_of(actor=request.user, care_home=home).prefetch_related("answers")
        return Response(MonitoringVisitOutput(visits, many=True).data)

    @extend_schema(
        summary="Record a monitoring visit to a care home",
        description="By the body's commissioners (or its system with the `quality` scope). The visit's score is the "
        "mean answer over the framework's highest score, out of 100.",
        tags=["quality"],
        request=MonitoringVisitInput,
        responses={201: MonitoringVisitOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        home = care_home_get_for_quality(actor=request.user, pk=pk)
        data = MonitoringVisitInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visit = monitoring_visit_record(
            actor=request.user,
            care_home=home,
            visited_on=values["visited_on"],
            visitor=values["visitor"],
            findings=values["findings"],
            scores={answer["question"]: answer["score"] for answer in values["answers"]},
        )
        return Response(
            MonitoringVisitOutput(visit).data,
            status=201,
            headers={"Location": reverse("api-care-home-monitoring-visits", args=[home.pk])},
        )


class ConcernOutput(serializers.ModelSerializer):
    care_home = serializers.IntegerField(source="care_home_id")
    embargo = serializers.IntegerField(source="embargo_id", allow_null=True, help_text="The admission closure placed.")
    embargo_review_on = serializers.DateField(source="embargo.review_on", allow_null=True, default=None)
    embargo_lifted_at = serializers.DateTimeField(source="embargo.lifted_at", allow_null=True, default=None)

    class Meta:
        model = Concern
        fields = [
            "id",
            "care_home",
            "reference",
            "kind",
            "received_on",
            "category",
            "severity",
            "status",
            "outcome",
            "embargo",
            "embargo_review_on",
            "embargo_lifted_at",
        ]


class ConcernInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Concern.Kind.choices)
    received_on = serializers.DateField()
    category = serializers.ChoiceField(choices=Concern.Category.choices)
    severity = serializers.ChoiceField(choices=Concern.Severity.choices)
    reference = serializers.CharField(max_length=60, help_text="Your case reference only: no personal details.")
    embargo = serializers.BooleanField(default=False, help_text="A safeguarding concern may embargo the home.")
    review_on = serializers.DateField(required=False, allow_null=True, default=None)


class ConcernsApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    @extend_schema(
        summary="Your body's complaints and safeguarding concerns about a care home",
        tags=["quality"],
        responses={200: ConcernOutput(many=True), **PROBLEMS},
    )
    def get(self, request, pk: int):
        home = care_home_get_for_quality(actor=request.user, pk=pk)
        return Response(ConcernOutput(concerns_of(actor=request.user, care_home=home), many=True).data)

    @extend_schema(
        summary="Record a complaint or safeguarding concern about a care home",
        description="With `embargo: true` (safeguarding only, with `review_on`) the home is closed to new "
        "placements from your body only, until a recorded decision lifts it (the admission closure's lift "
        "endpoint); the review date never lifts it.",
        tags=["quality"],
        request=ConcernInput,
        responses={201: ConcernOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        home = care_home_get_for_quality(actor=request.user, pk=pk)
        data = ConcernInput(data=request.data)
        data.is_valid(raise_exception=True)
        made = concern_record(actor=request.user, care_home=home, **data.validated_data)
        return Response(
            ConcernOutput(made).data,
            status=201,
            headers={"Location": reverse("api-care-home-concerns", args=[home.pk])},
        )


class ImprovementActionOutput(serializers.ModelSerializer):
    care_home = serializers.IntegerField(source="care_home_id")
    commissioner = serializers.CharField(source="commissioner.slug")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementAction
        fields = [
            "id",
            "care_home",
            "commissioner",
            "action",
            "owner",
            "agreed_on",
            "due_on",
            "status",
            "progress_note",
            "completed_on",
            "overdue",
        ]

    def get_overdue(self, item) -> bool:
        return item.status != ImprovementAction.Status.DONE and item.due_on < timezone.localdate()


class ImprovementActionInput(serializers.Serializer):
    action = serializers.CharField(max_length=300)
    owner = serializers.CharField(max_length=120)
    due_on = serializers.DateField()
    agreed_on = serializers.DateField(help_text="When the action was agreed with the provider.")


class ImprovementActionProgressInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ImprovementAction.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


def _home_for_plans(request, pk: int):
    if is_provider_user(request.user):
        return care_home_get_for_provider(actor=request.user, pk=pk)
    return care_home_get_for_quality(actor=request.user, pk=pk)


class ImprovementActionsApi(APIView):
    permission_classes = [IsAnyRole, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    @extend_schema(
        summary="A care home's improvement plan",
        description="A council body sees its own plan for the home; the home's provider sees every body's plan "
        "for its own homes.",
        tags=["quality"],
        responses={200: ImprovementActionOutput(many=True), **PROBLEMS},
    )
    def get(self, request, pk: int):
        home = _home_for_plans(request, pk)
        return Response(
            ImprovementActionOutput(improvement_actions_of(actor=request.user, care_home=home), many=True).data
        )

    @extend_schema(
        summary="Add an action to your body's improvement plan for a care home",
        tags=["quality"],
        request=ImprovementActionInput,
        responses={201: ImprovementActionOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        home = care_home_get_for_quality(actor=request.user, pk=pk)
        data = ImprovementActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = improvement_action_add(actor=request.user, care_home=home, **data.validated_data)
        return Response(
            ImprovementActionOutput(item).data,
            status=201,
            headers={"Location": reverse("api-care-home-improvement-actions", args=[home.pk])},
        )


class ImprovementActionProgressApi(APIView):
    permission_classes = [IsProviderOrCommissioner, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    @extend_schema(
        summary="Report progress on an improvement action",
        description="The home's provider (its own homes only) or the body's commissioners; `done` records the day.",
        tags=["quality"],
        request=ImprovementActionProgressInput,
        responses={200: ImprovementActionOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        item = improvement_action_get(actor=request.user, pk=pk)
        data = ImprovementActionProgressInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = improvement_action_update(actor=request.user, action=item, **data.validated_data)
        return Response(ImprovementActionOutput(item).data)


class QualityScoringRuleOutput(serializers.ModelSerializer):
    lot = serializers.IntegerField(source="lot.number")
    saved = serializers.SerializerMethodField(help_text="False: the default, the CQC overall rating alone.")

    class Meta:
        model = QualityScoringRule
        fields = ["lot", *QUALITY_PARTS, "saved"]

    def get_saved(self, rule) -> bool:
        return rule.pk is not None


class QualityScoringRuleInput(serializers.Serializer):
    overall = serializers.IntegerField(min_value=0, max_value=100, default=0)
    key_questions = serializers.IntegerField(min_value=0, max_value=100, default=0)
    rating_age = serializers.IntegerField(min_value=0, max_value=100, default=0)
    monitoring = serializers.IntegerField(min_value=0, max_value=100, default=0)
    safeguarding = serializers.IntegerField(min_value=0, max_value=100, default=0)


@extend_schema(
    summary="How your body scores quality, by lot",
    description="The weights (in %) of the CQC overall rating, its key questions, the rating's age, the latest "
    "monitoring score and open safeguarding concerns. A tender copies them when published.",
    tags=["quality"],
    responses={200: QualityScoringRuleOutput(many=True), **PROBLEMS},
)
class QualityScoringRulesApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]

    def get(self, request):
        return Response(QualityScoringRuleOutput(quality_scoring_rules_of(actor=request.user), many=True).data)


class QualityScoringRuleApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    def _rule(self, request, number: int):
        rule = next((r for r in quality_scoring_rules_of(actor=request.user) if r.lot.number == number), None)
        if rule is None:
            raise NotFoundError("No such lot.")
        return rule

    @extend_schema(
        summary="How your body scores quality for one lot",
        tags=["quality"],
        responses={200: QualityScoringRuleOutput, **PROBLEMS},
    )
    def get(self, request, number: int):
        return Response(QualityScoringRuleOutput(self._rule(request, number)).data)

    @extend_schema(
        summary="Choose how your body scores quality for one lot",
        description="By the body's commissioners (or its system with the `quality` scope, as a commissioner). The "
        "weights must add up to 100. Tenders already published keep theirs.",
        tags=["quality"],
        request=QualityScoringRuleInput,
        responses={200: QualityScoringRuleOutput, **PROBLEMS},
    )
    def put(self, request, number: int):
        rule = self._rule(request, number)
        data = QualityScoringRuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = quality_scoring_rule_set(actor=request.user, lot=rule.lot, weights=data.validated_data)
        return Response(QualityScoringRuleOutput(saved).data)


class ReturnAnswerOutput(serializers.ModelSerializer):
    measure = serializers.IntegerField(source="measure_id")
    name = serializers.CharField(source="measure.name")
    kind = serializers.CharField(source="measure.kind")
    unit = serializers.CharField(source="measure.unit")

    class Meta:
        model = ReturnAnswer
        fields = ["measure", "name", "kind", "unit", "value"]


class ProviderReturnOutput(serializers.ModelSerializer):
    commissioner = serializers.IntegerField(source="commissioner_id")
    answers = ReturnAnswerOutput(many=True)

    class Meta:
        model = ProviderReturn
        fields = ["id", "commissioner", "period", "period_kind", "submitted_at", "accepted_at", "answers"]


class ProviderReturnInput(serializers.Serializer):
    commissioner = serializers.IntegerField(help_text="The id of the body whose DPS the home is admitted to.")
    period = serializers.CharField(max_length=10, help_text="A year (`2026`) or a quarter (`2026-Q3`).")
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True),
        help_text="Values by measure id (or measure name): numbers as text or numbers, `yes`/`no` for yes-or-no "
        "measures. Field errors come back keyed by measure id.",
    )


class ProviderReturnsApi(APIView):
    permission_classes = [IsAnyRoleProviderWrites, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    def _returns(self, request, home):
        return provider_returns_of_home(actor=request.user, care_home=home).prefetch_related("answers__measure")

    @extend_schema(
        summary="A care home's returns",
        description="The home's provider sees its returns to every body; a body sees the returns sent to it by "
        "homes on its DPS.",
        tags=["quality"],
        responses={200: ProviderReturnOutput(many=True), **PROBLEMS},
    )
    def get(self, request, pk: int):
        home = _home_for_plans(request, pk)
        return Response(ProviderReturnOutput(self._returns(request, home), many=True).data)

    @extend_schema(
        summary="Submit a return for one of your homes",
        description="To a body whose DPS the home is admitted to. Sending the same period again replaces the "
        "answers until the body accepts the return. Nothing is kept unless every answer is valid.",
        tags=["quality"],
        request=ProviderReturnInput,
        responses={201: ProviderReturnOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        home = care_home_get_for_provider(actor=request.user, pk=pk)
        data = ProviderReturnInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        item = provider_return_submit(
            actor=request.user,
            care_home=home,
            commissioner=Organisation.objects.filter(pk=values["commissioner"]).first(),
            period=values["period"],
            answers=values["answers"],
        )
        item = self._returns(request, home).get(pk=item.pk)
        return Response(
            ProviderReturnOutput(item).data,
            status=201,
            headers={"Location": reverse("api-care-home-returns", args=[home.pk])},
        )


class ReturnMeasureOutput(serializers.ModelSerializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="Null for a body's default measure not yet kept: answer it by name."
    )
    commissioner = serializers.IntegerField(source="commissioner_id")
    lot = serializers.IntegerField(source="lot.number", allow_null=True, default=None)

    class Meta:
        model = ReturnMeasure
        fields = ["id", "commissioner", "name", "kind", "unit", "lot", "required", "active", "position"]


class ReturnMeasureInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=ReturnMeasure.Kind.choices)
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    lot = serializers.SlugRelatedField(
        slug_field="number", queryset=Lot.objects.all(), required=False, allow_null=True, default=None
    )
    required = serializers.BooleanField(required=False, default=True)


class ReturnMeasuresApi(APIView):
    permission_classes = [IsAnyRole, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    @extend_schema(
        summary="The measures returns report",
        description="A council's body sees its own measures, retired ones with `active: false`; a provider sees the "
        "measures in use of every body whose DPS one of its homes is on. A measure with a lot is asked only of "
        "homes admitted to that lot.",
        tags=["quality"],
        responses={200: ReturnMeasureOutput(many=True), **PROBLEMS},
    )
    def get(self, request):
        return Response(ReturnMeasureOutput(return_measures_asked(actor=request.user), many=True).data)

    @extend_schema(
        summary="Ask homes for one more measure",
        description="Commissioners (or the body's system) only. The body's later returns ask for it.",
        tags=["quality"],
        request=ReturnMeasureInput,
        responses={201: ReturnMeasureOutput, **PROBLEMS},
    )
    def post(self, request):
        data = ReturnMeasureInput(data=request.data)
        data.is_valid(raise_exception=True)
        measure = return_measure_add(actor=request.user, **data.validated_data)
        return Response(ReturnMeasureOutput(measure).data, status=201)


class ReturnMeasureRetireApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.QUALITY

    @extend_schema(
        summary="Stop asking for a measure",
        description="Later returns leave it out; answers already sent stay.",
        tags=["quality"],
        request=None,
        responses={200: ReturnMeasureOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        measure = ReturnMeasure.objects.filter(pk=pk, commissioner_id=request.user.organisation_id).first()
        if measure is None:
            raise NotFoundError("No such measure.")
        return Response(ReturnMeasureOutput(return_measure_retire(actor=request.user, measure=measure)).data)
