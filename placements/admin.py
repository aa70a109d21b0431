from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Placement, PlacementRequest


@admin.register(PlacementRequest)
class PlacementRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests change through the brokers' pages and the API."""

    list_display = ["id", "commissioner", "case_reference", "lot", "urgency", "status", "requested_at", "sourced_at"]
    list_filter = ["status", "urgency", "commissioner"]
    search_fields = ["case_reference"]


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ["id", "commissioner", "case_reference", "care_home", "lot", "weekly_fee", "in_county", "sourced_at"]
    list_filter = ["source", "in_county", "commissioner"]
    search_fields = ["case_reference"]
