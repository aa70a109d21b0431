from django.contrib import admin

from .models import Placement, PlacementRequest


@admin.register(PlacementRequest)
class PlacementRequestAdmin(admin.ModelAdmin):
    """Read-only: requests change through the brokers' pages and the API."""

    list_display = ["id", "commissioner", "case_reference", "lot", "status", "requested_at", "sourced_at"]
    list_filter = ["status", "commissioner"]
    search_fields = ["case_reference"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["id", "commissioner", "case_reference", "care_home", "lot", "weekly_fee", "in_county", "sourced_at"]
    list_filter = ["source", "in_county", "commissioner"]
    search_fields = ["case_reference"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
