"""API: the care-home search, one home, a home's vacancies and bed vacancies, its closures to
admissions, and the live bed vacancy search."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from lots.models import Lot
from organisations.api_permissions import (
    HasScope,
    IsAnyRole,
    IsAnyRoleProviderOrCommissionerWrites,
    IsAnyRoleProviderWrites,
    IsCouncilUser,
    IsDischargeCoordinator,
    IsProviderOrCommissioner,
    IsProviderUser,
)
from organisations.models import ApiClient
from organisations.permissions import is_provider_user

from .filters import BedVacancyFilter, CareHomeFilter
from .models import Admission, AdmissionClosure, BedVacancy, CareHome, Vacancy
from .notices import home_risks
from .ratings import KEY_QUESTIONS
from .selectors import (
    BedVacancyFilters,
    admission_closure_state,
    admission_closures_liftable_by,
    admission_closures_seen_by,
    bed_vacancies_for_home,
    bed_vacancy_is_fresh,
    bed_vacancy_search,
    care_home_get,
    care_home_search_base,
    vacancies_for_home,
    vacancy_fresh_hours_for,
    vacancy_stale_before,
    with_listed_relations,
)
from .services import (
    BedVacancyInput,
    VacancyInput,
    admission_closure_lift,
    admission_closure_open,
    bed_vacancies_confirm,
    bed_vacancies_replace,
    vacancies_replace,
)

PROBLEMS = {
    400: OpenApiResponse(description="Invalid request (problem details with `errors` per field)."),
    403: OpenApiResponse(description="Your role or API client's scopes do not allow this."),
    404: OpenApiResponse(description="No such care home, or not one of yours."),
}


class RatingOutput(serializers.ModelSerializer):
    class Meta:
        # quality's Rating, reached through the foreign key as the model itself names it.
        model = CareHome._meta.get_field("current_rating").related_model
        fields = ["overall", *KEY_QUESTIONS, "report_date", "source"]


class AdmissionOutput(serializers.ModelSerializer):
    lot = serializers.IntegerField(source="lot_number")
    commissioner = serializers.CharField(source="commissioner_slug")

    class Meta:
        model = Admission
        fields = ["commissioner", "lot", "status"]


class SpecialismCodesField(serializers.ListField):
    """Specialism codes, read as an array of strings in the same query as the row."""

    child = serializers.CharField()


class HomeRiskOutput(serializers.Serializer):
    rating = serializers.ChoiceField(choices=["red", "amber", "green"])
    reasons = serializers.ListField(child=serializers.CharField())


class CareHomeOutput(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider.name")
    setting = serializers.CharField(source="setting_label")
    specialisms = SpecialismCodesField(source="specialism_codes", read_only=True)
    rating = RatingOutput(source="current_rating", allow_null=True)
    admissions = AdmissionOutput(source="admission_rows", many=True)
    beds_free = serializers.IntegerField()
    vacancies_confirmed_at = serializers.DateTimeField(allow_null=True)
    vacancies_stale = serializers.SerializerMethodField()
    distance_km = serializers.SerializerMethodField()
    risk = serializers.SerializerMethodField(
        help_text="The risk rating the caller's body gives the home (red, amber or green) and why; "
        "null for providers, who see none."
    )

    class Meta:
        model = CareHome
        fields = [
            "id",
            "cqc_location_id",
            "name",
            "provider",
            "address",
            "postcode",
            "local_authority",
            "region",
            "latitude",
            "longitude",
            "registered_beds",
            "setting",
            "specialisms",
            "rating",
            "admissions",
            "beds_free",
            "vacancies_confirmed_at",
            "vacancies_stale",
            "distance_km",
            "risk",
        ]

    def get_vacancies_stale(self, home) -> bool:
        confirmed = home.vacancies_confirmed_at
        return confirmed is None or confirmed < self.context["stale_before"]

    def get_distance_km(self, home) -> float | None:
        distance = getattr(home, "distance_km", None)
        return round(distance, 2) if distance is not None else None

    @extend_schema_field(HomeRiskOutput(allow_null=True))
    def get_risk(self, home) -> dict | None:
        risk = self.context.get("risks", {}).get(home.pk)
        return {"rating": risk.rating, "reasons": list(risk.reasons)} if risk else None


LISTED_COLUMNS = [
    "cqc_location_id",
    "name",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "local_authority",
    "region",
    "latitude",
    "longitude",
    "registered_beds",
    "provides_residential",
    "provides_nursing",
    "provider__name",
    *(f"current_rating__{name}" for name in ["overall", *KEY_QUESTIONS, "report_date", "source"]),
]


class CareHomePagination(DefaultCursorPagination):
    """Cursor pages in the search's own order: nearest first when sorting by distance, else by name."""

    def get_ordering(self, request, queryset, view):
        if "distance_km" in queryset.query.annotations:
            return ("distance_km", "name", "pk")
        return ("name", "pk")


class _StaleContextMixin:
    def get_serializer_context(self):
        return {**super().get_serializer_context(), "stale_before": vacancy_stale_before()}


@extend_schema(
    summary="Search care homes",
    description=(
        "Council users see every registered home with their own body's admissions; provider users see "
        "their own homes. With `postcode=ST16 2LL` or `near=lat,lng` the list is sorted by distance; `within_km` "
        "limits it."
    ),
    tags=["care homes"],
    responses={200: CareHomeOutput(many=True), **PROBLEMS},
)
class CareHomeListApi(_StaleContextMixin, ListAPIView):
    permission_classes = [IsAnyRole, HasScope]
    serializer_class = CareHomeOutput
    filterset_class = CareHomeFilter
    pagination_class = CareHomePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CareHome.objects.none()
        # Only the columns the output shows, and its specialisms and admissions in the same query.
        homes = care_home_search_base(actor=self.request.user).only(*LISTED_COLUMNS)
        return with_listed_relations(homes, actor=self.request.user)

    def get_serializer(self, *args, **kwargs):
        # The page's risk ratings are read together, in a fixed number of queries.
        if args and isinstance(args[0], list):
            kwargs["context"] = {
                **self.get_serializer_context(),
                "risks": home_risks(actor=self.request.user, care_home_ids=[h.pk for h in args[0]]),
            }
        return super().get_serializer(*args, **kwargs)


@extend_schema(summary="One care home", tags=["care homes"], responses={200: CareHomeOutput, **PROBLEMS})
class CareHomeDetailApi(_StaleContextMixin, APIView):
    permission_classes = [IsAnyRole, HasScope]

    def get(self, request, pk: int):
        homes = with_listed_relations(care_home_search_base(actor=request.user), actor=request.user)
        home = get_object_or_404(homes, pk=pk)
        context = {**self.get_serializer_context(), "risks": home_risks(actor=request.user, care_home_ids=[home.pk])}
        return Response(CareHomeOutput(home, context=context).data)

    def get_serializer_context(self):
        return {"request": self.request, "stale_before": vacancy_stale_before()}


class VacancyOutput(serializers.ModelSerializer):
    lot = serializers.IntegerField(source="lot.number", allow_null=True)

    class Meta:
        model = Vacancy
        fields = ["lot", "setting", "beds_free", "available_from", "notes", "confirmed_at"]


class VacancyInputSerializer(serializers.Serializer):
    lot = serializers.SlugRelatedField(slug_field="number", queryset=Lot.objects.all(), required=False, allow_null=True)
    setting = serializers.ChoiceField(choices=Vacancy.Setting.choices, required=False, allow_blank=True, default="")
    beds_free = serializers.IntegerField(min_value=0, max_value=500)
    available_from = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, attrs):
        if not attrs.get("lot") and not attrs.get("setting"):
            raise serializers.ValidationError("Give a lot or a setting.")
        return attrs


class VacanciesInput(serializers.Serializer):
    vacancies = VacancyInputSerializer(many=True)


class VacanciesOutput(serializers.Serializer):
    vacancies = VacancyOutput(many=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField()


def _vacancies_body(home: CareHome) -> dict:
    vacancies = list(vacancies_for_home(care_home=home))
    confirmed = max((v.confirmed_at for v in vacancies), default=None)
    return VacanciesOutput(
        {
            "vacancies": vacancies,
            "confirmed_at": confirmed,
            "stale": confirmed is None or confirmed < vacancy_stale_before(),
        }
    ).data


class VacanciesApi(APIView):
    permission_classes = [IsAnyRoleProviderWrites, HasScope]
    required_scope = ApiClient.Scope.VACANCIES

    def _home(self, request, pk: int) -> CareHome:
        # Writes go to the provider's own homes only: another provider's home is not found.
        if is_provider_user(request.user):
            return get_object_or_404(CareHome, pk=pk, provider_id=request.user.organisation_id)
        return care_home_get(actor=request.user, pk=pk)

    @extend_schema(summary="A care home's vacancies", tags=["care homes"], responses={200: VacanciesOutput, **PROBLEMS})
    def get(self, request, pk: int):
        return Response(_vacancies_body(self._home(request, pk)))

    @extend_schema(
        summary="Replace and confirm a care home's vacancies (provider systems, own homes)",
        tags=["care homes"],
        request=VacanciesInput,
        responses={200: VacanciesOutput, **PROBLEMS},
    )
    def put(self, request, pk: int):
        home = self._home(request, pk)
        data = VacanciesInput(data=request.data)
        data.is_valid(raise_exception=True)
        vacancies_replace(
            actor=request.user,
            care_home=home,
            vacancies=[VacancyInput(**item) for item in data.validated_data["vacancies"]],
        )
        return Response(_vacancies_body(home))


# --- Bed vacancies, closures to admissions, and the live vacancy search ----------------------


class BedVacancyOutput(serializers.ModelSerializer):
    lot = serializers.IntegerField(source="lot.number", allow_null=True)
    fresh = serializers.SerializerMethodField(help_text="Confirmed recently enough to count for urgent requests.")

    class Meta:
        model = BedVacancy
        fields = [
            "id",
            "lot",
            "setting",
            "room_type",
            "en_suite",
            "ground_floor",
            "gender",
            "bariatric",
            "beds",
            "notes",
            "confirmed_at",
            "fresh",
        ]

    def get_fresh(self, vacancy) -> bool:
        if hasattr(vacancy, "fresh"):
            return vacancy.fresh
        return bed_vacancy_is_fresh(vacancy, fresh_hours=self.context["fresh_hours"])


class BedVacancyInputSerializer(serializers.Serializer):
    lot = serializers.SlugRelatedField(slug_field="number", queryset=Lot.objects.all(), required=False, allow_null=True)
    setting = serializers.ChoiceField(choices=BedVacancy.Setting.choices, required=False, allow_blank=True, default="")
    room_type = serializers.ChoiceField(choices=BedVacancy.RoomType.choices, default=BedVacancy.RoomType.SINGLE)
    en_suite = serializers.BooleanField(default=False)
    ground_floor = serializers.BooleanField(default=False)
    gender = serializers.ChoiceField(choices=BedVacancy.Gender.choices, default=BedVacancy.Gender.ANY)
    bariatric = serializers.BooleanField(default=False)
    beds = serializers.IntegerField(min_value=1, max_value=500)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def validate(self, attrs):
        if not attrs.get("lot") and not attrs.get("setting"):
            raise serializers.ValidationError({"lot": "Give a lot or a setting."})
        return attrs


class BedVacanciesInput(serializers.Serializer):
    vacancies = BedVacancyInputSerializer(many=True, max_length=100)


class BedVacanciesOutput(serializers.Serializer):
    vacancies = BedVacancyOutput(many=True)
    fresh_hours = serializers.IntegerField(help_text="How many hours a confirmation stays fresh.")
    confirmed_at = serializers.DateTimeField(allow_null=True, help_text="The latest confirmation of the list.")


def _bed_vacancies_body(home: CareHome) -> dict:
    fresh_hours = vacancy_fresh_hours_for()
    vacancies = list(bed_vacancies_for_home(care_home=home))
    confirmed = max((v.confirmed_at for v in vacancies), default=None)
    body = {"vacancies": vacancies, "fresh_hours": fresh_hours, "confirmed_at": confirmed}
    return BedVacanciesOutput(body, context={"fresh_hours": fresh_hours}).data


class _HomeForProviderWritesMixin:
    def _home(self, request, pk: int) -> CareHome:
        # Writes go to the provider's own homes only: another provider's home is not found.
        if is_provider_user(request.user):
            return get_object_or_404(CareHome, pk=pk, provider_id=request.user.organisation_id)
        return care_home_get(actor=request.user, pk=pk)


class BedVacanciesApi(_HomeForProviderWritesMixin, APIView):
    permission_classes = [IsAnyRoleProviderWrites, HasScope]
    required_scope = ApiClient.Scope.VACANCIES

    @extend_schema(
        summary="A care home's bed vacancies, with their freshness",
        tags=["vacancies"],
        responses={200: BedVacanciesOutput, **PROBLEMS},
    )
    def get(self, request, pk: int):
        return Response(_bed_vacancies_body(self._home(request, pk)))

    @extend_schema(
        summary="Replace and confirm a care home's bed vacancies (provider systems, own homes)",
        description="An empty list says no beds are free. Saving confirms every vacancy as current now.",
        tags=["vacancies"],
        request=BedVacanciesInput,
        responses={200: BedVacanciesOutput, **PROBLEMS},
    )
    def put(self, request, pk: int):
        home = self._home(request, pk)
        data = BedVacanciesInput(data=request.data)
        data.is_valid(raise_exception=True)
        bed_vacancies_replace(
            actor=request.user,
            care_home=home,
            vacancies=[BedVacancyInput(**item) for item in data.validated_data["vacancies"]],
        )
        return Response(_bed_vacancies_body(home))


class BedVacanciesConfirmApi(_HomeForProviderWritesMixin, APIView):
    permission_classes = [IsProviderUser, HasScope]
    required_scope = ApiClient.Scope.VACANCIES

    @extend_schema(
        summary='Confirm a care home\'s bed vacancies with "no change"',
        description="Stamps every bed vacancy of the home as confirmed now, as the national capacity tracker asks.",
        tags=["vacancies"],
        request=None,
        responses={200: BedVacanciesOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        home = self._home(request, pk)
        bed_vacancies_confirm(actor=request.user, care_home=home)
        return Response(_bed_vacancies_body(home))


class AdmissionClosureOutput(serializers.ModelSerializer):
    commissioner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    state = serializers.SerializerMethodField()
    care_home = serializers.IntegerField(source="care_home_id")

    class Meta:
        model = AdmissionClosure
        fields = [
            "id",
            "care_home",
            "reason",
            "details",
            "commissioner",
            "starts_at",
            "ends_at",
            "review_on",
            "lifted_at",
            "lift_reason",
            "state",
        ]

    def get_state(self, closure) -> str:
        return admission_closure_state(closure)


class AdmissionClosureInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=AdmissionClosure.Reason.choices)
    details = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Empty: now.")
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Empty: until lifted.")
    review_on = serializers.DateField(required=False, allow_null=True, default=None)


class AdmissionClosuresApi(_HomeForProviderWritesMixin, APIView):
    """A provider closes its home for every body; a commissioner embargoes it for its own body."""

    permission_classes = [IsAnyRoleProviderOrCommissionerWrites, HasScope]
    required_scope = ApiClient.Scope.VACANCIES

    @extend_schema(
        summary="A care home's closures to admissions",
        description="Commissioning bodies see closures for every body and their own embargoes.",
        tags=["vacancies"],
        responses={200: AdmissionClosureOutput(many=True), **PROBLEMS},
    )
    def get(self, request, pk: int):
        home = self._home(request, pk)
        closures = admission_closures_seen_by(actor=request.user, care_home=home)
        return Response(AdmissionClosureOutput(closures, many=True).data)

    @extend_schema(
        summary="Close a care home to admissions",
        description=(
            "A provider's closure holds for every council and NHS body; a commissioner's is an embargo for its own "
            "body. Open invitations of the bodies it binds are withdrawn when it starts."
        ),
        tags=["vacancies"],
        request=AdmissionClosureInput,
        responses={201: AdmissionClosureOutput, **PROBLEMS},
    )
    def post(self, request, pk: int):
        home = self._home(request, pk)
        data = AdmissionClosureInput(data=request.data)
        data.is_valid(raise_exception=True)
        closure = admission_closure_open(
            actor=request.user,
            care_home=home,
            commissioner=None if is_provider_user(request.user) else request.user.organisation,
            **data.validated_data,
        )
        return Response(
            AdmissionClosureOutput(closure).data,
            status=201,
            headers={"Location": reverse("api-care-home-admission-closures", args=[home.pk])},
        )


class LiftInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the home can take admissions again.")


class AdmissionClosureLiftApi(APIView):
    permission_classes = [IsProviderOrCommissioner, HasScope]
    required_scope = ApiClient.Scope.VACANCIES

    @extend_schema(
        summary="Lift a closure to admissions",
        description="The provider lifts its own closures for every body; a commissioner its body's embargoes.",
        tags=["vacancies"],
        request=LiftInput,
        responses={200: AdmissionClosureOutput, **PROBLEMS, 409: OpenApiResponse(description="Already ended.")},
    )
    def post(self, request, pk: int):
        closure = get_object_or_404(admission_closures_liftable_by(actor=request.user), pk=pk)
        data = LiftInput(data=request.data)
        data.is_valid(raise_exception=True)
        closure = admission_closure_lift(actor=request.user, closure=closure, reason=data.validated_data["reason"])
        return Response(AdmissionClosureOutput(closure).data)


class IsCouncilUserOrCoordinator(IsCouncilUser):
    """Brokers, commissioners and hospital discharge coordinators (and their systems)."""

    roles = (*IsCouncilUser.roles, *IsDischargeCoordinator.roles)


class VacancyHomeOutput(serializers.ModelSerializer):
    rating = serializers.CharField(source="current_rating.overall", allow_null=True, default=None)

    class Meta:
        model = CareHome
        fields = ["id", "name", "cqc_location_id", "address", "postcode", "local_authority", "rating"]


class BedVacancySearchOutput(BedVacancyOutput):
    care_home = VacancyHomeOutput()
    distance_km = serializers.SerializerMethodField()

    class Meta(BedVacancyOutput.Meta):
        fields = [*BedVacancyOutput.Meta.fields, "care_home", "distance_km"]

    def get_distance_km(self, vacancy) -> float | None:
        distance = getattr(vacancy, "distance_km", None)
        return round(distance, 2) if distance is not None else None


class BedVacancyPagination(DefaultCursorPagination):
    def get_ordering(self, request, queryset, view):
        if "distance_km" in queryset.query.annotations:
            return ("distance_km", "pk")
        return ("-confirmed_at", "pk")


@extend_schema(
    summary="Search live bed vacancies near a place",
    description=(
        "Free beds in homes not closed to admissions for your body, nearest first from `postcode` or `near`. "
        "`fresh` marks a vacancy confirmed recently enough to count for urgent requests; `fresh_only=true` "
        "leaves out the stale ones. `gender=female` finds beds for women (women-only and for anyone)."
    ),
    tags=["vacancies"],
    responses={200: BedVacancySearchOutput(many=True), **PROBLEMS},
)
class BedVacancySearchApi(ListAPIView):
    permission_classes = [IsCouncilUserOrCoordinator, HasScope]
    serializer_class = BedVacancySearchOutput
    filterset_class = BedVacancyFilter
    pagination_class = BedVacancyPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BedVacancy.objects.none()
        return bed_vacancy_search(actor=self.request.user, filters=BedVacancyFilters())
