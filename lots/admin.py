from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline

from .models import Lot, LotRules, UrgencyRules


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
