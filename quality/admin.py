from django.contrib import admin

from .models import Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
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
    raw_id_fields = ["care_home"]
