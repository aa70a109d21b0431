"""Block contracts: beds a commissioning body pays for at a set weekly rate, filled or not.

Nothing here stores a total. How many beds are contracted, live, filled or void is always
counted from `BlockBed`, `OutOfService` and `Occupancy` rows (see `selectors.utilisation`).

Dates are whole days. Occupancies and out-of-service periods are half-open: `end_date` is
the first day the bed is free again, so one person can leave and the next arrive on the same
day, and an open period has no `end_date`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q


class BlockContract(models.Model):
    class Type(models.TextChoices):
        LONG_TERM = "long_term", "Long-term"
        RESPITE = "respite", "Respite"
        WINTER_PRESSURE = "winter_pressure", "Winter pressure"
        DISCHARGE_TO_ASSESS = "discharge_to_assess", "Discharge to assess"
        OTHER = "other", "Other"

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="block_contracts"
    )
    provider = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="provided_block_contracts",
        limit_choices_to={"kind": "provider"},
    )
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.PROTECT, related_name="block_contracts")
    reference = models.CharField(max_length=64, help_text="The council's contract reference.")
    contract_type = models.CharField(max_length=30, choices=Type.choices, default=Type.LONG_TERM)
    lots = models.ManyToManyField("lots.Lot", related_name="block_contracts", help_text="The lots the beds serve.")
    number_of_beds = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="As signed; a bed row is created for each.",
    )
    weekly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(0)], help_text="Per bed per week."
    )
    start_date = models.DateField()
    end_date = models.DateField()
    uplift_percentage = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Yearly uplift to the weekly rate, per cent.",
    )
    uplift_rule = models.TextField(blank=True, help_text="How and when the rate is uplifted.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["care_home__name", "start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="blockcontract_ends_after_start"),
            models.UniqueConstraint(fields=["commissioner", "reference"], name="blockcontract_unique_reference"),
        ]
        indexes = [models.Index(fields=["commissioner", "end_date"])]

    def __str__(self) -> str:
        return f"{self.reference}: {self.number_of_beds} beds at {self.care_home.name}"


class BlockBed(models.Model):
    """One contracted bed. It is live (in payment) from `live_from`; until then only contracted."""

    contract = models.ForeignKey(BlockContract, on_delete=models.PROTECT, related_name="beds")
    label = models.CharField(max_length=40)
    live_from = models.DateField(null=True, blank=True, help_text="In payment from this day; empty if not yet known.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract_id", "id"]
        constraints = [models.UniqueConstraint(fields=["contract", "label"], name="blockbed_unique_label")]

    def __str__(self) -> str:
        return f"Bed {self.label} ({self.contract.reference})"


class Occupancy(models.Model):
    """A person in a block bed, from `start_date` up to (not including) `end_date`.

    On PostgreSQL an exclusion constraint (added by migration 0002, which skips other
    databases) refuses two overlapping occupancies of one bed; services check first as well.
    """

    bed = models.ForeignKey(BlockBed, on_delete=models.PROTECT, related_name="occupancies")
    placement = models.OneToOneField("placements.Placement", on_delete=models.PROTECT, related_name="block_occupancy")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bed_id", "start_date"]
        verbose_name_plural = "occupancies"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="occupancy_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["bed", "end_date"])]

    def __str__(self) -> str:
        return f"{self.bed}: {self.start_date} to {self.end_date or 'now'}"


class OutOfService(models.Model):
    """A period when a bed cannot be used (and is neither live nor void)."""

    bed = models.ForeignKey(BlockBed, on_delete=models.PROTECT, related_name="out_of_service_periods")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bed_id", "start_date"]
        verbose_name = "out-of-service period"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="outofservice_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bed} out of service from {self.start_date}"


class BedEvent(models.Model):
    """The history of one bed: every change of its state, who made it and why."""

    class Kind(models.TextChoices):
        CONTRACTED = "contracted", "Contracted"
        LIVE_DATE_SET = "live_date_set", "Live date set"
        FILLED = "filled", "Filled"
        VOID = "void", "Became void"
        OUT_OF_SERVICE = "out_of_service", "Taken out of service"
        RETURNED = "returned", "Returned to service"

    bed = models.ForeignKey(BlockBed, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    effective_date = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    occupancy = models.ForeignKey(Occupancy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.bed}: {self.get_kind_display()}"


class BlockOfferDecline(models.Model):
    """A broker's reasoned decision not to use the void block beds offered for a request."""

    request = models.OneToOneField(
        "placements.PlacementRequest", on_delete=models.PROTECT, related_name="block_offer_decline"
    )
    reason = models.TextField()
    offered_beds = models.JSONField(default=list, help_text="Ids of the beds on offer when declined.")
    declined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declined_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Block offer declined for request {self.request_id}"
