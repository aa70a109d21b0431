"""Admin: read-only views of contracts data; every change goes through the services."""

from django.contrib import admin

from .models import FeePeriod, ServiceAgreement, Uplift, UpliftRule


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class UpliftRuleInline(admin.TabularInline):
    model = UpliftRule
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
