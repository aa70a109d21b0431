"""Back-office views of block contracts. Read-only: changes go through the services (the
commissioner's pages), which keep bed states, placements and the history consistent."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline

from .models import BedEvent, BlockBed, BlockContract, BlockContractRate, BlockOfferDecline, Occupancy, OutOfService


class BlockBedInline(admin.TabularInline):
    model = BlockBed
    fields = ["label", "live_from"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class BlockContractRateInline(ReadOnlyTabularInline):
    """Rates are changed only through the services (uplifts and recorded new rates)."""

    model = BlockContractRate
    fields = ["effective_from", "weekly_rate", "reason", "basis", "uplift", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(BlockContract)
class BlockContractAdmin(ReadOnlyAdmin):
    list_display = ["reference", "commissioner", "care_home", "contract_type", "number_of_beds", "uplift_basis"]
    list_filter = ["commissioner", "contract_type", "uplift_basis"]
    search_fields = ["reference", "care_home__name"]
    list_select_related = ["commissioner", "care_home"]
    inlines = [BlockContractRateInline, BlockBedInline]


@admin.register(BlockBed)
class BlockBedAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "contract", "live_from"]
    list_filter = ["contract__commissioner"]
    list_select_related = ["contract"]
    search_fields = ["contract__reference", "label"]


@admin.register(Occupancy)
class OccupancyAdmin(ReadOnlyAdmin):
    list_display = ["bed", "placement", "start_date", "end_date"]
    list_select_related = ["bed__contract", "placement__care_home"]
    search_fields = ["placement__case_reference", "bed__contract__reference"]


@admin.register(OutOfService)
class OutOfServiceAdmin(ReadOnlyAdmin):
    list_display = ["bed", "start_date", "end_date", "reason"]
    list_select_related = ["bed__contract"]


@admin.register(BedEvent)
class BedEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "bed", "kind", "effective_date", "actor"]
    list_filter = ["kind"]
    list_select_related = ["bed__contract", "actor"]


@admin.register(BlockOfferDecline)
class BlockOfferDeclineAdmin(ReadOnlyAdmin):
    list_display = ["request", "declined_by", "declined_at"]
    list_select_related = ["request", "declined_by"]
