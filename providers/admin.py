from django.contrib import admin

from .models import Admission, CareHome, Specialism


@admin.register(Specialism)
class SpecialismAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(CareHome)
class CareHomeAdmin(admin.ModelAdmin):
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
    raw_id_fields = ["current_rating"]


@admin.register(Admission)
class AdmissionAdmin(admin.ModelAdmin):
    list_display = ["care_home", "lot", "commissioner", "status", "updated_at"]
    list_filter = ["status", "lot", "commissioner"]
    search_fields = ["care_home__name", "care_home__cqc_location_id"]
    raw_id_fields = ["care_home"]
