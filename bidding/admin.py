"""Back-office views of tenders. Read-only: every change goes through the services, so the
deadline and sealed-bid rules cannot be side-stepped here."""

from django.contrib import admin

from .models import Award, Bid, Invitation, Tender
from .selectors import tender_is_open
from .services import with_open_flag


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tender)
class TenderAdmin(ReadOnlyAdmin):
    list_display = ["id", "request", "status", "opened_at", "closes_at", "closed_at", "evaluated_at"]
    list_filter = ["status"]
    search_fields = ["request__case_reference"]

    def get_queryset(self, request):
        return with_open_flag(super().get_queryset(request))


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["tender", "care_home", "status", "invited_at", "withdrawn_at"]
    list_filter = ["status"]


SEALED_FIELDS = {"weekly_fee", "price_score", "total_score", "rank", "working", "quality_score", "above_max_rate"}


@admin.register(Bid)
class BidAdmin(ReadOnlyAdmin):
    """Amounts are hidden while the tender is open, even from the back office."""

    list_display = ["id", "tender", "care_home", "status", "submitted_at", "rank"]
    list_filter = ["status"]

    def get_fields(self, request, obj=None):
        fields = [field.name for field in self.model._meta.fields]
        if obj is not None and tender_is_open(with_open_flag(Tender.objects.filter(pk=obj.tender_id)).get()):
            fields = [name for name in fields if name not in SEALED_FIELDS]
        return fields


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ["tender", "bid", "awarded_by", "awarded_at", "top_ranked", "top_up_weekly_amount"]
