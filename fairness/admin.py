from django.contrib import admin

from core.admin import ReadOnlyAdmin, SealedValuesAdmin

from .models import (
    AbnormalPriceConfirmation,
    BedHold,
    Challenge,
    ClarificationQuestion,
    LapsedAward,
    MarketSettings,
    ShortlistLink,
    Standstill,
    StandstillRule,
)


@admin.register(MarketSettings)
class MarketSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "commissioner",
        "regime",
        "late_question_hours",
        "deadline_extension_hours",
        "bed_hold_confirm_hours",
    ]
    list_filter = ["regime"]


@admin.register(StandstillRule)
class StandstillRuleAdmin(admin.ModelAdmin):
    list_display = ["commissioner", "lot", "days"]


class SealedReadOnlyAdmin(SealedValuesAdmin, ReadOnlyAdmin):
    """Most of these rows point at a bid, so none of them filters or sorts by a sealed bid field."""


@admin.register(ShortlistLink)
class ShortlistLinkAdmin(SealedReadOnlyAdmin):
    list_display = ["tender", "recipient", "expires_at", "chosen_bid", "chosen_at"]
    exclude = ["token_hash"]


@admin.register(AbnormalPriceConfirmation)
class AbnormalPriceConfirmationAdmin(SealedReadOnlyAdmin):
    list_display = ["bid", "median_awarded_fee", "recorded_by", "recorded_at"]


@admin.register(BedHold)
class BedHoldAdmin(SealedReadOnlyAdmin):
    list_display = ["tender", "bid", "status", "held_until", "confirm_by"]
    list_filter = ["status"]


@admin.register(LapsedAward)
class LapsedAwardAdmin(SealedReadOnlyAdmin):
    list_display = ["tender", "bid", "awarded_at", "lapsed_at", "lapse_reason"]


@admin.register(ClarificationQuestion)
class ClarificationQuestionAdmin(SealedReadOnlyAdmin):
    list_display = ["tender", "asked_at", "answered_at", "extended_closes_at"]


@admin.register(Standstill)
class StandstillAdmin(SealedReadOnlyAdmin):
    list_display = ["tender", "bid", "status", "ends_at"]
    list_filter = ["status"]


@admin.register(Challenge)
class ChallengeAdmin(SealedReadOnlyAdmin):
    list_display = ["standstill", "bid", "decision", "raised_at"]
    list_filter = ["decision"]
