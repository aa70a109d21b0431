from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, SealedValuesAdmin

from .models import (
    Admission,
    AdmissionClosure,
    AdmissionEvent,
    ApplicationWindow,
    BedVacancy,
    CareHome,
    Specialism,
    Vacancy,
)


@admin.register(Specialism)
class SpecialismAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(CareHome)
class CareHomeAdmin(SealedValuesAdmin, admin.ModelAdmin):
    list_display = [
        "name",
        "cqc_location_id",
        "provider",
        "postcode",
        "local_authority",
        "registered_beds",
        "registration_status",
    ]
    list_filter = ["registration_status", "provides_nursing", "region"]
    search_fields = ["name", "cqc_location_id", "postcode"]
    autocomplete_fields = ["provider"]
    filter_horizontal = ["specialisms"]
    # The current rating changes only through a new rating, which may suspend the home.
    readonly_fields = ["current_rating", "cqc_synced_at"]


class AdmissionEventInline(ReadOnlyTabularInline):
    model = AdmissionEvent
    extra = 0
    fields = ["at", "from_status", "to_status", "actor", "automatic", "reason"]
    readonly_fields = fields


@admin.register(Admission)
class AdmissionAdmin(ReadOnlyAdmin):
    """Read-only: decisions, suspensions and reinstatements go through the commissioner's pages,
    which keep the history and notify people."""

    list_display = ["care_home", "lot", "commissioner", "status", "updated_at"]
    list_filter = ["status", "lot", "commissioner"]
    search_fields = ["care_home__name", "care_home__cqc_location_id"]
    inlines = [AdmissionEventInline]


@admin.register(ApplicationWindow)
class ApplicationWindowAdmin(admin.ModelAdmin):
    list_display = ["commissioner", "lot", "opens_on", "closes_on"]
    list_filter = ["commissioner", "lot"]


@admin.register(Vacancy)
class VacancyAdmin(admin.ModelAdmin):
    """Read-only: providers keep their vacancies; saving them also confirms them."""

    list_display = ["care_home", "lot", "setting", "beds_free", "available_from", "confirmed_at"]
    search_fields = ["care_home__name", "care_home__cqc_location_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AdmissionClosure)
class AdmissionClosureAdmin(ReadOnlyAdmin):
    """Read-only: closures are opened and lifted through the provider's and commissioner's pages and
    the API, whose services withdraw open invitations, notify the provider and keep the audit."""

    list_display = ["care_home", "reason", "commissioner", "starts_at", "ends_at", "review_on", "lifted_at"]
    list_filter = ["reason", "commissioner"]
    search_fields = ["care_home__name", "care_home__cqc_location_id", "details"]
    date_hierarchy = "starts_at"


@admin.register(BedVacancy)
class BedVacancyAdmin(ReadOnlyAdmin):
    """Read-only: providers keep their bed vacancies; saving or confirming them stamps `confirmed_at`."""

    list_display = [
        "care_home",
        "lot",
        "setting",
        "room_type",
        "en_suite",
        "ground_floor",
        "gender",
        "bariatric",
        "beds",
        "confirmed_at",
    ]
    list_filter = ["room_type", "gender", "bariatric", "en_suite", "ground_floor"]
    search_fields = ["care_home__name", "care_home__cqc_location_id"]
