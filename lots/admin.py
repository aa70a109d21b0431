from django.contrib import admin

from .models import Lot, LotRules


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "setting", "client_group", "dementia"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LotRules)
class LotRulesAdmin(admin.ModelAdmin):
    list_display = ["commissioner", "lot", "target_days", "quality_weight", "price_weight", "guide_weekly_fee"]
    list_filter = ["commissioner", "admission_mode"]
