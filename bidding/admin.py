"""Back-office views of tenders. Read-only: every change goes through the services, so the
deadline and sealed-bid rules cannot be side-stepped here."""

from django.contrib import admin
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.formats import date_format

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, SealedValuesAdmin, seal_fields

from .models import Award, Bid, Invitation, Tender
from .selectors import BACK_OFFICE, bid_disclosure, with_open_flag


def _tender_of(bid: Bid) -> Tender:
    # An admin page prefetches each bid's tender with its open flag; a bid reached another way loads it.
    return getattr(bid, "tender_with_open_flag", None) or bid.tender


def _with_tenders(queryset):
    tenders = with_open_flag(Tender.objects.all())
    return queryset.prefetch_related(Prefetch("tender", queryset=tenders, to_attr="tender_with_open_flag"))


def _sealed_until(bid: Bid) -> str:
    return f"Sealed until {date_format(timezone.localtime(_tender_of(bid).closes_at), 'j M Y, H:i')}"


# The amount and everything the evaluation derives from it stay sealed until the back office may
# read them, by the same rule the pages and the API follow.
seal_fields(
    Bid,
    ["weekly_fee", "quality_score", "price_score", "total_score", "rank", "above_max_rate", "working"],
    is_sealed=lambda bid: not bid_disclosure(actor=BACK_OFFICE, tender=_tender_of(bid)).amounts,
    placeholder=_sealed_until,
    prepare=_with_tenders,
)


class BidInline(SealedValuesAdmin, ReadOnlyTabularInline):
    model = Bid
    fields = ["care_home", "status", "weekly_fee", "rank", "total_score", "submitted_at"]
    extra = 0
    show_change_link = True


@admin.register(Tender)
class TenderAdmin(SealedValuesAdmin, ReadOnlyAdmin):
    list_display = ["id", "request", "status", "opened_at", "closes_at", "closed_at", "evaluated_at"]
    list_filter = ["status"]
    search_fields = ["request__case_reference"]
    inlines = [BidInline]

    def get_queryset(self, request):
        return with_open_flag(super().get_queryset(request))


@admin.register(Invitation)
class InvitationAdmin(SealedValuesAdmin, ReadOnlyAdmin):
    list_display = ["tender", "care_home", "status", "invited_at", "withdrawn_at"]
    list_filter = ["status"]


@admin.register(Bid)
class BidAdmin(SealedValuesAdmin, ReadOnlyAdmin):
    """Amounts are hidden while the tender is open, even from the back office."""

    list_display = ["id", "tender", "care_home", "status", "submitted_at", "weekly_fee", "rank"]
    list_filter = ["status"]
    date_hierarchy = "submitted_at"

    def get_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(Award)
class AwardAdmin(SealedValuesAdmin, ReadOnlyAdmin):
    list_display = ["tender", "bid", "awarded_by", "awarded_at", "top_ranked", "top_up_weekly_amount"]
