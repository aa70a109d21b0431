from django.contrib import admin

from .models import Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    """Read-only: a rating entered here would skip the automatic suspension; use the rating page."""

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
    ]
    list_filter = ["overall", "source"]
    search_fields = ["care_home__name", "care_home__cqc_location_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
