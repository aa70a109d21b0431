"""Read-only: closures, moves and hand-backs change only through their pages, which audit each step
and end placements and contracts as they go."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import HandBack, HomeClosure, ResidentMove


@admin.register(HomeClosure)
class HomeClosureAdmin(ReadOnlyAdmin):
    list_display = ["care_home", "commissioner", "closing_on", "source", "residents_at_start"]
    list_filter = ["source", "commissioner"]
    list_select_related = ["care_home", "commissioner"]


@admin.register(ResidentMove)
class ResidentMoveAdmin(ReadOnlyAdmin):
    list_display = ["placement", "care_home", "commissioner", "status", "planned_move_on", "moved_on"]
    list_filter = ["status", "commissioner"]
    list_select_related = ["placement", "care_home", "commissioner"]


@admin.register(HandBack)
class HandBackAdmin(ReadOnlyAdmin):
    list_display = ["care_home", "commissioner", "placement", "block_contract", "notice_ends_on"]
    list_select_related = ["care_home", "commissioner", "placement", "block_contract"]
