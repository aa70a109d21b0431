from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin

from .models import (
    Concern,
    ImprovementAction,
    MonitoringAnswer,
    MonitoringFramework,
    MonitoringQuestion,
    MonitoringVisit,
    ProviderReturn,
    Rating,
    ReturnAnswer,
    ReturnMeasure,
)
from .permissions import can_enter_rating


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    """Read-only. A rating is entered by hand on the home's rating page, whose service checks the
    person may do it and suspends the home on an Inadequate rating; a row saved here would skip both."""

    list_display = [
        "care_home",
        "overall",
        "safe",
        "effective",
        "caring",
        "responsive",
        "well_led",
        "report_date",
        "source",
        "recorded_by",
    ]
    list_filter = ["overall", "source"]
    list_select_related = ["care_home", "recorded_by"]
    search_fields = ["care_home__name", "care_home__cqc_location_id"]

    def get_list_display(self, request):
        if can_enter_rating(request.user):
            return [*self.list_display, "rating_page"]
        return self.list_display

    @admin.display(description="Enter a rating")
    def rating_page(self, obj: Rating) -> str:
        url = reverse("quality:ratings", args=[obj.care_home_id])
        return format_html('<a href="{}">Rating page of {}</a>', url, obj.care_home)


class MonitoringQuestionInline(admin.TabularInline):
    model = MonitoringQuestion
    extra = 0
    fields = ["position", "domain", "text", "retired_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MonitoringFramework)
class MonitoringFrameworkAdmin(ReadOnlyAdmin):
    """Read-only: a body edits its framework on its own page, audited."""

    list_display = ["commissioner", "scale_max", "updated_at"]
    list_select_related = ["commissioner"]
    inlines = [MonitoringQuestionInline]


class MonitoringAnswerInline(admin.TabularInline):
    model = MonitoringAnswer
    extra = 0
    fields = ["question", "score"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MonitoringVisit)
class MonitoringVisitAdmin(ReadOnlyAdmin):
    """Read-only: visits are recorded by the body's commissioners and keep their history."""

    list_display = ["care_home", "commissioner", "visited_on", "visitor", "score", "recorded_by"]
    list_filter = ["commissioner"]
    list_select_related = ["care_home", "commissioner", "recorded_by"]
    search_fields = ["care_home__name", "care_home__cqc_location_id", "visitor"]
    inlines = [MonitoringAnswerInline]


@admin.register(Concern)
class ConcernAdmin(ReadOnlyAdmin):
    """Read-only: a concern and its embargo are recorded and lifted on the commissioner's pages, audited."""

    list_display = ["reference", "kind", "care_home", "commissioner", "received_on", "severity", "status", "embargo"]
    list_filter = ["kind", "status", "severity", "commissioner"]
    list_select_related = ["care_home", "commissioner", "embargo"]
    search_fields = ["reference", "care_home__name"]


@admin.register(ImprovementAction)
class ImprovementActionAdmin(ReadOnlyAdmin):
    """Read-only: actions are agreed and updated on the commissioner's and provider's pages, audited."""

    list_display = ["action", "care_home", "commissioner", "owner", "due_on", "status", "completed_on"]
    list_filter = ["status", "commissioner"]
    list_select_related = ["care_home", "commissioner"]
    search_fields = ["action", "care_home__name"]


@admin.register(ReturnMeasure)
class ReturnMeasureAdmin(ReadOnlyAdmin):
    """Read-only: a body's measures start from the default set when its first return comes in."""

    list_display = ["name", "commissioner", "lot", "kind", "unit", "required", "active"]
    list_filter = ["commissioner", "kind", "active"]
    list_select_related = ["commissioner", "lot"]


class ReturnAnswerInline(admin.TabularInline):
    model = ReturnAnswer
    extra = 0
    fields = ["measure", "value"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProviderReturn)
class ProviderReturnAdmin(ReadOnlyAdmin):
    """Read-only: returns are submitted by the home's provider and accepted by the body, audited."""

    list_display = ["care_home", "commissioner", "period", "period_kind", "submitted_at", "accepted_at"]
    list_filter = ["commissioner", "period_kind"]
    list_select_related = ["care_home", "commissioner"]
    search_fields = ["care_home__name", "period"]
    inlines = [ReturnAnswerInline]
