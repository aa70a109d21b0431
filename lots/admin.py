from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from core.audit import audit_record

from .models import DpsAgreement, DpsExtension, DpsExtensionOption, DpsNotice, Lot, LotRules, UrgencyRules


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "setting", "client_group", "dementia"]

    def has_delete_permission(self, request, obj=None):
        return False


class UrgencyRulesInline(ReadOnlyTabularInline):
    model = UrgencyRules
    extra = 0


@admin.register(LotRules)
class LotRulesAdmin(admin.ModelAdmin):
    list_display = ["commissioner", "lot", "target_days", "quality_weight", "price_weight", "guide_weekly_fee"]
    list_filter = ["commissioner", "admission_mode"]
    inlines = [UrgencyRulesInline]


@admin.register(UrgencyRules)
class UrgencyRulesAdmin(ReadOnlyAdmin):
    """Read-only: commissioners change urgency rules on the lot rules page, which audits each change."""

    list_display = ["lot_rules", "urgency", "target_hours", "default_window_hours", "award_rule"]
    list_filter = ["urgency", "award_rule", "lot_rules__commissioner"]
    list_select_related = ["lot_rules__commissioner", "lot_rules__lot"]


class DpsExtensionOptionInline(admin.TabularInline):
    model = DpsExtensionOption
    extra = 0


class DpsExtensionInline(admin.TabularInline):
    """Exercised on the commissioner's DPS page, through the service; shown here, never edited."""

    model = DpsExtension
    extra = 0
    can_delete = False
    readonly_fields = ["option", "decision_reference", "decided_on", "new_ends_on", "recorded_by", "recorded_at"]

    def has_add_permission(self, request, obj=None):
        return False


class DpsNoticeInline(admin.TabularInline):
    model = DpsNotice
    extra = 0


@admin.register(DpsAgreement)
class DpsAgreementAdmin(admin.ModelAdmin):
    list_display = ["commissioner", "title", "procurement_regime", "starts_on", "ends_on"]
    list_filter = ["commissioner", "procurement_regime"]
    filter_horizontal = ["lots"]
    inlines = [DpsExtensionOptionInline, DpsExtensionInline, DpsNoticeInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            verb="lots.dps.recorded",
            target=obj,
            organisation=obj.commissioner,
            detail={"starts_on": obj.starts_on.isoformat(), "ends_on": obj.ends_on.isoformat(), "changed": change},
        )
