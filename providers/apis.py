"""API: the care-home search, one home, and a home's vacancies."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from lots.models import Lot
from organisations.api_permissions import HasScope, IsAnyRole, IsAnyRoleProviderWrites
from organisations.models import ApiClient
from organisations.permissions import is_provider_user

from .filters import CareHomeFilter
from .models import Admission, CareHome, Vacancy
from .ratings import KEY_QUESTIONS
from .selectors import (
    care_home_get,
    care_home_search_base,
    vacancies_for_home,
    vacancy_stale_before,
    with_listed_relations,
)
from .services import VacancyInput, vacancies_replace

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
        ]

    def get_vacancies_stale(self, home) -> bool:
        confirmed = home.vacancies_confirmed_at
        return confirmed is None or confirmed < self.context["stale_before"]

    def get_distance_km(self, home) -> float | None:
        distance = getattr(home, "distance_km", None)
        return round(distance, 2) if distance is not None else None


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


@extend_schema(summary="One care home", tags=["care homes"], responses={200: CareHomeOutput, **PROBLEMS})
class CareHomeDetailApi(_StaleContextMixin, APIView):
    permission_classes = [IsAnyRole, HasScope]

    def get(self, request, pk: int):
        homes = with_listed_relations(care_home_search_base(actor=request.user), actor=request.user)
        home = get_object_or_404(homes, pk=pk)
        return Response(CareHomeOutput(home, context=self.get_serializer_context()).data)

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
