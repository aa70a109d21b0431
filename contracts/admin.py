"""Admin: read-only views of contracts data; every change goes through the services."""

from django.contrib import admin
from django.db import transaction

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline

from .models import (
    Absence,
    Death,
    FeePeriod,
    FncRate,
    FundingShare,
    OutcomePayment,
    OutcomePaymentRule,
    PaymentRules,
    ServiceAgreement,
    TopUpAgreement,
    Uplift,
    UpliftRule,
)
from .services import fnc_rate_queue, fnc_rate_record


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


@admin.register(FundingShare)
class FundingShareAdmin(ReadOnlyAdmin):
    list_display = [
        "placement",
        "payer_type",
        "payer",
        "route",
        "weekly_amount",
        "effective_from",
        "effective_to",
        "reason",
        "superseded_at",
    ]
    list_filter = ["payer_type", "route", "reason"]
    search_fields = ["placement__case_reference", "payer_name"]
    raw_id_fields = ["placement", "payer_organisation", "created_by"]


@admin.register(FncRate)
class FncRateAdmin(admin.ModelAdmin):
    """The back office enters each April's national rate; it cannot be edited afterwards, and every
    nursing placement follows it in a queued task, as when a commissioner records it."""

    list_display = ["effective_from", "weekly_rate", "note", "applied_at", "placements_changed"]
    fields = ["effective_from", "weekly_rate", "note"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # As on the commissioner's page: recorded, then every nursing placement follows it in a task.
        with transaction.atomic():
            rate = fnc_rate_record(
                effective_from=obj.effective_from, weekly_rate=obj.weekly_rate, note=obj.note, by=request.user
            )
            fnc_rate_queue(rate=rate, by=request.user)
        obj.pk = rate.pk


@admin.register(TopUpAgreement)
class TopUpAgreementAdmin(ReadOnlyAdmin):
    list_display = ["request", "placement", "payer_name", "relationship", "weekly_amount", "signed_via", "stopped_on"]
    raw_id_fields = ["request", "placement", "recorded_by", "stopped_by"]


@admin.register(PaymentRules)
class PaymentRulesAdmin(ReadOnlyAdmin):
    list_display = ["commissioner", "absence_full_weeks", "absence_reduced_percent", "death_paid_days"]


@admin.register(Absence)
class AbsenceAdmin(ReadOnlyAdmin):
    list_display = ["placement", "kind", "starts_on", "ends_on"]
    raw_id_fields = ["placement", "recorded_by"]


@admin.register(Death)
class DeathAdmin(ReadOnlyAdmin):
    list_display = ["placement", "died_on"]
    raw_id_fields = ["placement", "recorded_by"]


@admin.register(OutcomePaymentRule)
class OutcomePaymentRuleAdmin(ReadOnlyAdmin):
    list_display = ["description", "commissioner", "lot", "block_contract", "outcome", "amount"]


@admin.register(OutcomePayment)
class OutcomePaymentAdmin(ReadOnlyAdmin):
    list_display = ["placement", "rule", "amount", "due_on"]
    raw_id_fields = ["placement"]
