"""Admin: read-only views of contracts data; every change goes through the services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline

from .models import FeePeriod, ServiceAgreement, Uplift, UpliftRule


@admin.register(FeePeriod)
class FeePeriodAdmin(ReadOnlyAdmin):
    list_display = [
        "placement",
        "effective_from",
        "weekly_fee",
        "council_weekly_amount",
        "top_up_weekly_amount",
        "reason",
    ]
    list_filter = ["reason"]
    search_fields = ["placement__case_reference"]
    raw_id_fields = ["placement", "uplift", "created_by"]


@admin.register(ServiceAgreement)
class ServiceAgreementAdmin(ReadOnlyAdmin):
    list_display = ["reference", "case_reference", "provider_name", "weekly_fee", "is_current", "accepted_at"]
    list_filter = ["is_current", "reason", "commissioner"]
    search_fields = ["case_reference", "care_home_name", "provider_name"]
    raw_id_fields = ["placement", "created_by", "accepted_by"]


class UpliftRuleInline(ReadOnlyTabularInline):
    model = UpliftRule
    extra = 0


@admin.register(Uplift)
class UpliftAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "commissioner",
        "basis",
        "effective_from",
        "status",
        "placements_uplifted",
        "block_contracts_uplifted",
    ]
    list_filter = ["status", "basis", "commissioner"]
    inlines = [UpliftRuleInline]
