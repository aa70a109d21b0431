"""Block contracts: beds a commissioning body pays for at a set weekly rate, filled or not.

Nothing here stores a total. How many beds are contracted, live, filled or void is always
counted from `BlockBed`, `OutOfService` and `Occupancy` rows (see `selectors.utilisation`).

Dates are whole days. Occupancies and out-of-service periods are half-open: `end_date` is
the first day the bed is free again, so one person can leave and the next arrive on the same
day, and an open period has no `end_date`.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class UpliftBasis(models.TextChoices):
    """How a block contract's weekly rate is uplifted.

    Fixed annual: the contract's own percentage, from each anniversary of its start date, when
    the commissioner applies a fee uplift. Index-linked: the percentage the commissioner's
    index-linked uplift sets for the contract's lot. As negotiated: only a new rate the
    commissioner records for the contract; fee uplifts leave it alone.
    """

    FIXED_ANNUAL = "fixed_annual", "Fixed percentage on each anniversary"
    INDEX_LINKED = "index_linked", "Index-linked"
    NEGOTIATED = "negotiated", "As negotiated"


class BlockContract(models.Model):
    UpliftBasis = UpliftBasis

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
    start_date = models.DateField()
    end_date = models.DateField()
    uplift_basis = models.CharField(
        max_length=20,
        choices=UpliftBasis.choices,
        default=UpliftBasis.NEGOTIATED,
        help_text="How the weekly rate follows the commissioner's fee uplifts.",
    )
    uplift_percentage = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
        help_text="Fixed annual uplift, per cent, applied on each anniversary of the start date.",
    )
    uplift_index = models.CharField(
        max_length=120, blank=True, help_text="The index the rate follows, e.g. CPI (12 months to January)."
    )
    uplift_rule = models.TextField(blank=True, help_text="Anything else agreed about uplifts.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["care_home__name", "start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="blockcontract_ends_after_start"),
            models.UniqueConstraint(fields=["commissioner", "reference"], name="blockcontract_unique_reference"),
            models.CheckConstraint(
                condition=~Q(uplift_basis="fixed_annual") | Q(uplift_percentage__isnull=False),
                name="blockcontract_fixed_uplift_has_percentage",
            ),
            models.CheckConstraint(
                condition=~Q(uplift_basis="index_linked") | ~Q(uplift_index=""),
                name="blockcontract_index_uplift_names_index",
            ),
        ]
        indexes = [models.Index(fields=["commissioner", "end_date"])]

    def __str__(self) -> str:
        return f"{self.reference}: {self.number_of_beds} beds at {self.care_home.name}"

    def rate_history(self) -> list["BlockContractRate"]:
        """The rate rows oldest first; uses prefetched `rates` when the caller prefetched them."""
        return sorted(self.rates.all(), key=lambda rate: rate.effective_from)

    def rate_row_on(self, day: dt.date) -> "BlockContractRate | None":
        """The rate row in force on `day`; before the first row, the first row."""
        history = self.rate_history()
        current = history[0] if history else None
        for rate in history:
            if rate.effective_from <= day:
                current = rate
        return current

    def rate_on(self, day: dt.date) -> Decimal | None:
        row = self.rate_row_on(day)
        return row.weekly_rate if row else None

    @property
    def weekly_rate(self) -> Decimal | None:
        """The weekly rate per bed in force today (the first rate for a contract not yet started)."""
        return self.rate_on(timezone.localdate())

    @property
    def uplift_summary(self) -> str:
        if self.uplift_basis == UpliftBasis.FIXED_ANNUAL:
            return f"{self.uplift_percentage}% on each anniversary of the start date"
        if self.uplift_basis == UpliftBasis.INDEX_LINKED:
            return f"Index-linked: {self.uplift_index}"
        return "As negotiated: changes only when a new rate is agreed"


class BlockContractRate(models.Model):
    """The weekly rate per bed of a block contract from `effective_from` until the next row.

    The first row starts on the contract's start date. Uplifts and negotiated changes add rows;
    rows are never edited, so a payment schedule for any past period can be worked out again.
    """

    class Reason(models.TextChoices):
        INITIAL = "initial", "Rate agreed at contract"
        UPLIFT = "uplift", "Fee uplift"
        NEGOTIATED = "negotiated", "Negotiated change"

    contract = models.ForeignKey(BlockContract, on_delete=models.PROTECT, related_name="rates")
    effective_from = models.DateField()
    weekly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(0)], help_text="Per bed per week."
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    basis = models.TextField(blank=True, help_text="Why the rate changed: the rule applied or the agreement made.")
    uplift = models.ForeignKey(
        "contracts.Uplift", null=True, blank=True, on_delete=models.PROTECT, related_name="block_rates"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "effective_from"], name="blockrate_one_per_day"),
            # An uplift changes a contract's rate once, however often it is applied.
            models.UniqueConstraint(
                fields=["uplift", "contract"], condition=Q(uplift__isnull=False), name="blockrate_once_per_uplift"
            ),
            models.CheckConstraint(
                condition=Q(reason="uplift", uplift__isnull=False) | (~Q(reason="uplift") & Q(uplift__isnull=True)),
                name="blockrate_uplift_reason",
            ),
            models.CheckConstraint(condition=Q(weekly_rate__gte=0), name="blockrate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"£{self.weekly_rate} a week from {self.effective_from} ({self.contract.reference})"


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
