"""Care-home search filters, shared by the API (django-filter) and the broker search page."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.errors import ApplicationError
from lots.models import Lot

from . import selectors
from .models import BedVacancy, CareHome, Specialism
from .postcodes import postcode_locate
from .ratings import RatingValue


def parse_point(value: str) -> tuple[float, float]:
    try:
        latitude, longitude = (float(part) for part in value.split(","))
    except ValueError:
        raise ValidationError("Give a point as latitude,longitude, e.g. 52.81,-2.12.") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValidationError("Latitude must lie within ±90 and longitude within ±180.")
    return latitude, longitude


class PointField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return parse_point(value) if value else None


def parse_postcode(value: str) -> tuple[float, float]:
    """The point of a postcode in the directory; a malformed or unknown one is a field error."""
    try:
        place = postcode_locate(postcode=value)
    except ApplicationError as error:
        raise ValidationError(error.message) from None
    return place.latitude, place.longitude


class PostcodePointField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return parse_postcode(value) if value else None


@extend_schema_field(OpenApiTypes.STR)
class PointFilter(django_filters.Filter):
    field_class = PointField


@extend_schema_field(OpenApiTypes.STR)
class PostcodeFilter(django_filters.Filter):
    field_class = PostcodePointField


class CareHomeFilter(django_filters.FilterSet):
    lot = django_filters.NumberFilter(method="filter_lot", label="Admitted on lot (number)")
    rating = django_filters.ChoiceFilter(field_name="current_rating__overall", choices=RatingValue.choices)
    specialism = django_filters.ModelChoiceFilter(
        field_name="specialisms", to_field_name="code", queryset=Specialism.objects.all()
    )
    vacancy = django_filters.BooleanFilter(method="filter_vacancy", label="Has beds free")
    local_authority = django_filters.CharFilter(field_name="local_authority", lookup_expr="iexact")
    suspended = django_filters.BooleanFilter(method="filter_suspended")
    near = PointFilter(method="filter_near", label="latitude,longitude to sort by distance from")
    postcode = PostcodeFilter(method="filter_near", label="Postcode to sort by distance from, instead of `near`")
    within_km = django_filters.NumberFilter(
        method="filter_within", label="Only homes this close to `near` or `postcode`"
    )

    class Meta:
        model = CareHome
        fields = [
            "lot",
            "rating",
            "specialism",
            "vacancy",
            "local_authority",
            "suspended",
            "near",
            "postcode",
            "within_km",
        ]

    def _actor(self):
        return self.request.user

    def filter_lot(self, queryset, name, value):
        return selectors.filter_admitted_on_lot(queryset, actor=self._actor(), lot=int(value))

    def filter_vacancy(self, queryset, name, value):
        return selectors.filter_vacancy(queryset, has_vacancy=value)

    def filter_suspended(self, queryset, name, value):
        return selectors.filter_suspended(queryset, actor=self._actor(), suspended=value)

    def filter_near(self, queryset, name, value):
        latitude, longitude = value
        within = self.form.cleaned_data.get("within_km")
        return selectors.order_by_distance(
            queryset, latitude=latitude, longitude=longitude, within_km=float(within) if within is not None else None
        )

    def filter_within(self, queryset, name, value):
        # Applied together with `near`; on its own a radius has no centre.
        return queryset

    def is_valid(self):
        valid = super().is_valid()
        if not valid:
            return False
        data = self.form.cleaned_data
        if data.get("near") and data.get("postcode"):
            self.form.add_error("postcode", "Give `near` or `postcode`, not both.")
            return False
        if data.get("within_km") is not None and not (data.get("near") or data.get("postcode")):
            self.form.add_error("within_km", "Give `near` or `postcode` as well, the point to measure from.")
            return False
        return valid


class BedVacancyFilter(django_filters.FilterSet):
    """The live bed vacancy search's parameters; the search itself is `selectors.bed_vacancy_search`."""

    lot = django_filters.ModelChoiceFilter(
        to_field_name="number", queryset=Lot.objects.all(), label="Beds for this lot (number), or for its setting"
    )
    setting = django_filters.ChoiceFilter(choices=BedVacancy.Setting.choices)
    room_type = django_filters.ChoiceFilter(choices=BedVacancy.RoomType.choices)
    en_suite = django_filters.BooleanFilter(label="Only en-suite rooms")
    ground_floor = django_filters.BooleanFilter(label="Only ground-floor rooms")
    bariatric = django_filters.BooleanFilter(label="Only beds equipped for a bariatric resident")
    gender = django_filters.ChoiceFilter(
        choices=[(BedVacancy.Gender.FEMALE, "A woman"), (BedVacancy.Gender.MALE, "A man")],
        label="Who the bed is for: beds for anyone suit both",
    )
    fresh_only = django_filters.BooleanFilter(label="Only vacancies confirmed recently enough for urgent requests")
    near = PointFilter(label="latitude,longitude to sort by distance from")
    postcode = PostcodeFilter(label="Postcode to sort by distance from, instead of `near`")
    within_km = django_filters.NumberFilter(label="Only beds this close to `near` or `postcode`")

    class Meta:
        model = BedVacancy
        fields = []

    def is_valid(self):
        if not super().is_valid():
            return False
        data = self.form.cleaned_data
        if data.get("near") and data.get("postcode"):
            self.form.add_error("postcode", "Give `near` or `postcode`, not both.")
            return False
        if data.get("within_km") is not None and not (data.get("near") or data.get("postcode")):
            self.form.add_error("within_km", "Give `near` or `postcode` as well, the point to measure from.")
            return False
        return True

    def as_filters(self) -> selectors.BedVacancyFilters:
        data = self.form.cleaned_data
        within = data.get("within_km")
        return selectors.BedVacancyFilters(
            lot=data.get("lot"),
            setting=data.get("setting") or "",
            room_type=data.get("room_type") or "",
            en_suite=data.get("en_suite"),
            ground_floor=data.get("ground_floor"),
            bariatric=data.get("bariatric"),
            gender=data.get("gender") or "",
            fresh_only=bool(data.get("fresh_only")),
            near=data.get("near") or data.get("postcode"),
            within_km=float(within) if within is not None else None,
        )

    def filter_queryset(self, queryset):
        # The search is one selector; the queryset given is its unfiltered form.
        return selectors.bed_vacancy_search(actor=self.request.user, filters=self.as_filters())
